package vapi

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	// encoding/json/v2, as its mirror until Go 1.27 makes it stable: it decodes a 20 KB
	// end-of-call report about seven times faster than encoding/json, which spent a
	// quarter of the server's time per report in it.
	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-health/switchboard/internal/pgtext"
)

// lenient reads messages as encoding/json did: names in any case, the last of duplicate
// names, and invalid UTF-8 replaced. VAPI sends a report once, so it is read rather than
// refused for these.
var lenient = json.JoinOptions(json.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

// Message types Switchboard applies; VAPI sends others, which are acknowledged and ignored.
const (
	TypeStatusUpdate    = "status-update"
	TypeEndOfCallReport = "end-of-call-report"
	// TypeAssistantRequest asks which assistant takes an inbound call to a number that
	// lives in VAPI; it is the one message answered with more than an acknowledgement.
	TypeAssistantRequest = "assistant-request"
)

// Message is what Switchboard reads of a VAPI server message. Optional fields are nil (or
// empty) when VAPI did not send them, so applying a message never blanks a stored value.
type Message struct {
	Type   string
	CallID string // VAPI's call id
	// Metadata is read from call.metadata, field by field falling back to
	// call.assistantOverrides.metadata. It is a claim, not a fact: ownership comes from
	// Switchboard's records.
	Metadata       Metadata
	CustomerNumber string
	// PhoneNumber is the number the call reached (message.phoneNumber.number), for an
	// assistant-request.
	PhoneNumber string

	Status      string // status-update: scheduled, queued, ringing, in-progress, forwarding, ended
	EndedReason *string

	StartedAt, EndedAt *time.Time
	Cost               *float64
	Transcript         *string
	Messages           jsontext.Value // a JSON array, or nil
	RecordingURL       *string
	StereoRecordingURL *string
	Summary            *string
	StructuredData     jsontext.Value // a JSON object, or nil
	// StructuredOutputs are VAPI's structured outputs (artifact.structuredOutputs: an
	// object of {name, result} by output id), or nil.
	StructuredOutputs jsontext.Value
	// CostBreakdown is what the call cost by part ({"transport", "stt", "llm", "tts",
	// "vapi"}, US dollars; parts VAPI did not send are left out), or nil.
	CostBreakdown     jsontext.Value
	SuccessEvaluation *string
}

// DurationSeconds is the call's length from its timestamps, rounded to whole seconds.
func (m Message) DurationSeconds() *int32 {
	if m.StartedAt == nil || m.EndedAt == nil || m.EndedAt.Before(*m.StartedAt) {
		return nil
	}
	secs := math.Round(m.EndedAt.Sub(*m.StartedAt).Seconds())
	if secs > math.MaxInt32 {
		return nil // not a phone call's length: a bad timestamp
	}
	d := int32(secs)
	return &d
}

// ErrMalformed is returned for a body that is not a VAPI server message.
var ErrMalformed = errors.New("vapi: not a server message")

type wireMessage struct {
	Type        jsontext.Value `json:"type"`
	Status      string         `json:"status"`
	EndedReason string         `json:"endedReason"`
	StartedAt   jsontext.Value `json:"startedAt"`
	EndedAt     jsontext.Value `json:"endedAt"`
	Cost        jsontext.Value `json:"cost"`
	CostParts   *costParts     `json:"costBreakdown"`
	Call        *struct {
		ID                 string         `json:"id"`
		Metadata           jsontext.Value `json:"metadata"`
		AssistantOverrides *struct {
			Metadata jsontext.Value `json:"metadata"`
		} `json:"assistantOverrides"`
		Customer *struct {
			Number string `json:"number"`
		} `json:"customer"`
	} `json:"call"`
	Customer *struct {
		Number string `json:"number"`
	} `json:"customer"`
	PhoneNumber *struct {
		Number string `json:"number"`
	} `json:"phoneNumber"`
	Artifact *struct {
		Transcript         string         `json:"transcript"`
		Messages           jsontext.Value `json:"messages"`
		RecordingURL       string         `json:"recordingUrl"`
		StereoRecordingURL string         `json:"stereoRecordingUrl"`
		StructuredOutputs  jsontext.Value `json:"structuredOutputs"`
		Recording          *struct {
			StereoURL string `json:"stereoUrl"`
			Mono      *struct {
				CombinedURL string `json:"combinedUrl"`
			} `json:"mono"`
		} `json:"recording"`
	} `json:"artifact"`
	RecordingURL       string         `json:"recordingUrl"`
	StereoRecordingURL string         `json:"stereoRecordingUrl"`
	Summary            string         `json:"summary"`
	Transcript         string         `json:"transcript"`
	Messages           jsontext.Value `json:"messages"`
	Analysis           *struct {
		Summary           string         `json:"summary"`
		StructuredData    jsontext.Value `json:"structuredData"`
		SuccessEvaluation jsontext.Value `json:"successEvaluation"`
	} `json:"analysis"`
}

// Decode reads a server message. It returns ErrMalformed for a body that is not JSON or
// has no message with a type; fields of unexpected shape are left out rather than failing
// the message, because VAPI sends each report only once.
func Decode(body []byte) (Message, error) {
	var env struct {
		Message *wireMessage `json:"message"`
	}
	if err := json.Unmarshal(body, &env, lenient); err != nil || env.Message == nil {
		return Message{}, ErrMalformed
	}
	w := env.Message
	var typ string
	if err := json.Unmarshal(w.Type, &typ, lenient); err != nil || strings.TrimSpace(typ) == "" {
		return Message{}, ErrMalformed
	}
	return w.message(pgtext.Clean(typ)), nil
}

// DecodeCall reads VAPI's call object (GET /call/{id}) as the end-of-call report it
// stands in for, and returns the call's status (queued, ringing, in-progress, forwarding,
// ended).
func DecodeCall(body []byte) (Message, string, error) {
	var w wireMessage
	var top struct {
		ID                 string         `json:"id"`
		Metadata           jsontext.Value `json:"metadata"`
		AssistantOverrides *struct {
			Metadata jsontext.Value `json:"metadata"`
		} `json:"assistantOverrides"`
		Customer *struct {
			Number string `json:"number"`
		} `json:"customer"`
	}
	if json.Unmarshal(body, &w, lenient) != nil || json.Unmarshal(body, &top, lenient) != nil || top.ID == "" {
		return Message{}, "", ErrMalformed
	}
	m := w.message(TypeEndOfCallReport)
	m.CallID = pgtext.Clean(top.ID)
	var overrides jsontext.Value
	if top.AssistantOverrides != nil {
		overrides = top.AssistantOverrides.Metadata
	}
	m.Metadata = metadata(top.Metadata, overrides)
	if top.Customer != nil {
		m.CustomerNumber = pgtext.Clean(top.Customer.Number)
	}
	return m, w.Status, nil
}

// message turns the wire form into a Message of the given type.
func (w *wireMessage) message(typ string) Message {
	m := Message{
		Type: typ, Status: pgtext.Clean(w.Status), EndedReason: nonEmpty(w.EndedReason),
		StartedAt: timestamp(w.StartedAt), EndedAt: timestamp(w.EndedAt),
		Cost: cost(w.Cost), CostBreakdown: w.CostParts.value(),
	}
	if c := w.Call; c != nil {
		m.CallID = pgtext.Clean(c.ID)
		var overrides jsontext.Value
		if c.AssistantOverrides != nil {
			overrides = c.AssistantOverrides.Metadata
		}
		m.Metadata = metadata(c.Metadata, overrides)
		if c.Customer != nil {
			m.CustomerNumber = pgtext.Clean(c.Customer.Number)
		}
	}
	if m.CustomerNumber == "" && w.Customer != nil {
		m.CustomerNumber = pgtext.Clean(w.Customer.Number)
	}
	if w.PhoneNumber != nil {
		m.PhoneNumber = pgtext.Clean(w.PhoneNumber.Number)
	}

	// Recordings: the artifact's structured recording, then its flat URLs, then the
	// older top-level fields.
	var monoURL, stereoURL, transcript string
	var messages jsontext.Value
	if a := w.Artifact; a != nil {
		if r := a.Recording; r != nil {
			stereoURL = r.StereoURL
			if r.Mono != nil {
				monoURL = r.Mono.CombinedURL
			}
		}
		monoURL = first(monoURL, a.RecordingURL)
		stereoURL = first(stereoURL, a.StereoRecordingURL)
		transcript = a.Transcript
		messages = a.Messages
		m.StructuredOutputs = jsonOfKind(a.StructuredOutputs, '{')
	}
	m.RecordingURL = nonEmpty(first(monoURL, w.RecordingURL))
	m.StereoRecordingURL = nonEmpty(first(stereoURL, w.StereoRecordingURL))
	m.Transcript = nonEmpty(first(transcript, w.Transcript))
	m.Messages = jsonOfKind(messages, '[')
	if m.Messages == nil {
		m.Messages = jsonOfKind(w.Messages, '[')
	}

	summary := w.Summary
	if a := w.Analysis; a != nil {
		summary = first(a.Summary, summary)
		m.StructuredData = jsonOfKind(a.StructuredData, '{')
		m.SuccessEvaluation = evaluation(a.SuccessEvaluation)
	}
	m.Summary = nonEmpty(summary)
	return m
}

// costParts is the part of VAPI's costBreakdown the analytics sum.
type costParts struct {
	Transport *float64 `json:"transport"`
	STT       *float64 `json:"stt"`
	LLM       *float64 `json:"llm"`
	TTS       *float64 `json:"tts"`
	VAPI      *float64 `json:"vapi"`
}

// value is the parts VAPI sent as a JSON object of finite, non-negative dollars, or nil.
func (c *costParts) value() jsontext.Value {
	if c == nil {
		return nil
	}
	parts := map[string]float64{}
	for name, v := range map[string]*float64{"transport": c.Transport, "stt": c.STT, "llm": c.LLM, "tts": c.TTS, "vapi": c.VAPI} {
		if v != nil && *v >= 0 && !math.IsInf(*v, 0) && !math.IsNaN(*v) && *v < 1e6 {
			parts[name] = *v
		}
	}
	if len(parts) == 0 {
		return nil
	}
	out, err := json.Marshal(parts, json.Deterministic(true))
	if err != nil {
		return nil
	}
	return out
}

// metadata reads the four fields Switchboard sets, each from primary or else fallback.
func metadata(primary, fallback jsontext.Value) Metadata {
	p, f := fields(primary), fields(fallback)
	get := func(k string) string { return first(p[k], f[k]) }
	return Metadata{
		UserID:        get("user_id"),
		CallID:        get("call_id"),
		PhoneNumberID: get("phone_number_id"),
		TwilioCallSid: get("twilio_call_sid"),
	}
}

// fields reads a JSON object's scalar members as strings.
func fields(raw jsontext.Value) map[string]string {
	var obj map[string]jsontext.Value
	if json.Unmarshal(raw, &obj, lenient) != nil {
		return nil
	}
	out := make(map[string]string, len(obj))
	for k, v := range obj {
		var s string
		if json.Unmarshal(v, &s, lenient) == nil {
			out[k] = pgtext.Clean(strings.TrimSpace(s))
		} else if v = bytes.TrimSpace(v); len(v) > 0 && v[0] != '{' && v[0] != '[' && string(v) != "null" {
			out[k] = pgtext.Clean(string(v))
		}
	}
	return out
}

// timestamp reads an RFC 3339 string or a number of Unix milliseconds.
func timestamp(raw jsontext.Value) *time.Time {
	var s string
	if json.Unmarshal(raw, &s, lenient) == nil {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			t = t.UTC()
			return &t
		}
		return nil
	}
	if ms := number(raw); ms != nil && *ms > 0 && *ms < 1e15 {
		t := time.UnixMilli(int64(*ms)).UTC()
		return &t
	}
	return nil
}

// maxCost bounds a call's cost in dollars: anything above is no call's cost but a bad
// value, left out so that it cannot distort what the clinic's statistics sum.
const maxCost = 1e6

// cost reads the call's cost, a number of dollars from 0 up to maxCost.
func cost(raw jsontext.Value) *float64 {
	if c := number(raw); c != nil && *c >= 0 && *c < maxCost {
		return c
	}
	return nil
}

func number(raw jsontext.Value) *float64 {
	var f float64
	if len(raw) == 0 || json.Unmarshal(raw, &f, lenient) != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

// evaluation reads successEvaluation, which VAPI sends as a string or a boolean (or a
// number, for numeric rubrics), as text.
func evaluation(raw jsontext.Value) *string {
	var s string
	if json.Unmarshal(raw, &s, lenient) == nil {
		return nonEmpty(s)
	}
	var b bool
	if json.Unmarshal(raw, &b, lenient) == nil {
		v := strconv.FormatBool(b)
		return &v
	}
	if f := number(raw); f != nil {
		v := strconv.FormatFloat(*f, 'f', -1, 64)
		return &v
	}
	return nil
}

// jsonOfKind returns raw when it is a JSON value starting with open ('[' or '{'), in a
// form PostgreSQL's jsonb takes: text with invalid UTF-8 or NUL characters (which jsonb
// refuses) is re-encoded with those replaced by U+FFFD, so the report is kept rather than
// failed for ever. Duplicate names jsonb takes, keeping the last.
func jsonOfKind(raw jsontext.Value, open byte) jsontext.Value {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != open {
		return nil
	}
	if raw.IsValid(jsontext.AllowDuplicateNames(true)) && !bytes.Contains(raw, []byte(`\u0000`)) {
		return raw // the usual case: no copy
	}
	var v any
	if json.Unmarshal(raw, &v, lenient) != nil {
		return nil
	}
	out, err := json.Marshal(cleanJSON(v))
	if err != nil {
		return nil
	}
	return out
}

// cleanJSON replaces NUL characters in a decoded JSON value's strings and names (invalid
// UTF-8 was replaced when it was decoded).
func cleanJSON(v any) any {
	switch v := v.(type) {
	case string:
		return pgtext.Clean(v)
	case []any:
		for i := range v {
			v[i] = cleanJSON(v[i])
		}
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[pgtext.Clean(k)] = cleanJSON(e)
		}
		return out
	}
	return v
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func nonEmpty(s string) *string {
	if s = pgtext.Clean(strings.TrimSpace(s)); s == "" {
		return nil
	}
	return &s
}
