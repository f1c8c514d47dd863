// Package vapi speaks VAPI's side of a call: a small client for the one API call
// Switchboard makes (asking VAPI to take an inbound call) and the decoder for the server
// messages VAPI posts back. No VAPI Go SDK is served, and this is all that is needed.
package vapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls VAPI's API.
type Client struct {
	baseURL string
	apiKey  string
	http    *http.Client
	observe func(operation string, d time.Duration, err error)
}

// Observe makes the client report each call's operation, duration and error to fn (for
// metrics).
func (c *Client) Observe(fn func(operation string, d time.Duration, err error)) { c.observe = fn }

func (c *Client) record(operation string, start time.Time, err error) {
	if c.observe != nil {
		c.observe(operation, time.Since(start), err)
	}
}

// NewClient returns a client for baseURL (https://api.vapi.ai) whose every call gives up
// after timeout: well inside the 15 s Twilio waits for a webhook's answer.
func NewClient(baseURL, apiKey string, timeout time.Duration) *Client {
	return &Client{
		baseURL: strings.TrimRight(baseURL, "/"),
		apiKey:  apiKey,
		http:    &http.Client{Timeout: timeout},
	}
}

// Metadata is what Switchboard attaches to a VAPI call, and what VAPI echoes back in its
// server messages.
type Metadata struct {
	UserID        string `json:"user_id"`
	CallID        string `json:"call_id"`
	PhoneNumberID string `json:"phone_number_id"`
	TwilioCallSid string `json:"twilio_call_sid"`
}

// CreateCallRequest asks VAPI to take a call that Twilio is holding.
type CreateCallRequest struct {
	PhoneNumberID  string
	AssistantID    string
	CustomerNumber string
	Metadata       Metadata
	// VariableValues fill the assistant's {{placeholders}} (the clinic's name, whether it
	// is open).
	VariableValues map[string]string
	// HIPAA asks VAPI to keep nothing of the call (compliancePlan.hipaaEnabled): no
	// recording, no transcript on its side.
	HIPAA bool
}

// Overrides are the assistant overrides Switchboard sends: the metadata, the variable
// values and, for a clinic in HIPAA mode, the compliance plan.
func Overrides(md Metadata, variables map[string]string, hipaa bool) map[string]any {
	o := map[string]any{"metadata": md, "variableValues": variables}
	if hipaa {
		o["compliancePlan"] = map[string]any{"hipaaEnabled": true}
	}
	return o
}

// Call is VAPI's call object. Raw keeps the whole answer, fields this client does not
// know included.
type Call struct {
	ID    string
	TwiML string
	Raw   json.RawMessage
}

// ErrUnavailable is returned when VAPI cannot be reached, times out or answers with an
// error status.
var ErrUnavailable = errors.New("vapi: unavailable")

// CreateCall asks VAPI to take the call with provider bypass: VAPI answers with the TwiML
// that connects Twilio's call to the assistant.
func (c *Client) CreateCall(ctx context.Context, r CreateCallRequest) (call Call, err error) {
	defer func(start time.Time) { c.record("create_call", start, err) }(time.Now())
	body, err := json.Marshal(map[string]any{
		"phoneCallProviderBypassEnabled": true,
		"phoneNumberId":                  r.PhoneNumberID,
		"assistantId":                    r.AssistantID,
		"customer":                       map[string]string{"number": r.CustomerNumber},
		"metadata":                       r.Metadata,
		"assistantOverrides":             Overrides(r.Metadata, r.VariableValues, r.HIPAA),
	})
	if err != nil {
		return Call{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+"/call", bytes.NewReader(body))
	if err != nil {
		return Call{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return Call{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Call{}, fmt.Errorf("%w: reading the answer: %v", ErrUnavailable, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The body may echo the request; only the status goes into the error.
		return Call{}, fmt.Errorf("%w: POST /call answered %d", ErrUnavailable, resp.StatusCode)
	}
	var out struct {
		ID                       string `json:"id"`
		PhoneCallProviderDetails struct {
			TwiML string `json:"twiml"`
		} `json:"phoneCallProviderDetails"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.ID == "" || out.PhoneCallProviderDetails.TwiML == "" {
		return Call{}, fmt.Errorf("%w: POST /call answered without a call id and TwiML", ErrUnavailable)
	}
	return Call{ID: out.ID, TwiML: out.PhoneCallProviderDetails.TwiML, Raw: raw}, nil
}

// RecordingURL asks VAPI for a fresh, short-lived URL of a call's recording (variant
// "mono" or "stereo"). VAPI answers GET /call/{id}/{variant}-recording with a redirect;
// the redirect is not followed, its Location is the answer. ok is false when VAPI has no
// such recording.
func (c *Client) RecordingURL(ctx context.Context, callID, variant string) (location string, ok bool, err error) {
	defer func(start time.Time) { c.record("recording_url", start, err) }(time.Now())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		c.baseURL+"/call/"+url.PathEscape(callID)+"/"+variant+"-recording", nil)
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	client := *c.http
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		return "", false, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "":
		return resp.Header.Get("Location"), true, nil
	case resp.StatusCode == http.StatusNotFound:
		return "", false, nil
	default:
		return "", false, fmt.Errorf("%w: GET recording answered %d", ErrUnavailable, resp.StatusCode)
	}
}

// GetCall fetches VAPI's call object. found is false when VAPI does not know the call.
func (c *Client) GetCall(ctx context.Context, callID string) (body []byte, found bool, err error) {
	defer func(start time.Time) { c.record("get_call", start, err) }(time.Now())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/call/"+url.PathEscape(callID), nil)
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	switch {
	case err != nil:
		return nil, false, fmt.Errorf("%w: reading the answer: %v", ErrUnavailable, err)
	case resp.StatusCode == http.StatusNotFound:
		return nil, false, nil
	case resp.StatusCode != http.StatusOK:
		return nil, false, fmt.Errorf("%w: GET /call answered %d", ErrUnavailable, resp.StatusCode)
	}
	return body, true, nil
}

// Assistant is what Switchboard reads of a VAPI assistant.
type Assistant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// GetAssistant asks VAPI for an assistant (GET /assistant/{id}). found is false when VAPI
// does not know it.
func (c *Client) GetAssistant(ctx context.Context, id string) (a Assistant, found bool, err error) {
	defer func(start time.Time) { c.record("get_assistant", start, err) }(time.Now())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/assistant/"+url.PathEscape(id), nil)
	if err != nil {
		return Assistant{}, false, err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	resp, err := c.http.Do(req)
	if err != nil {
		return Assistant{}, false, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	switch {
	case err != nil:
		return Assistant{}, false, fmt.Errorf("%w: reading the answer: %v", ErrUnavailable, err)
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusBadRequest:
		// VAPI answers 400 for an id that is not one of its ids at all.
		return Assistant{}, false, nil
	case resp.StatusCode != http.StatusOK:
		return Assistant{}, false, fmt.Errorf("%w: GET /assistant answered %d", ErrUnavailable, resp.StatusCode)
	}
	if err := json.Unmarshal(raw, &a); err != nil || a.ID == "" {
		return Assistant{}, false, fmt.Errorf("%w: GET /assistant answered without an assistant", ErrUnavailable)
	}
	return a, true, nil
}
