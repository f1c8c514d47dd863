// Package twilio speaks Twilio's side of a call: it verifies that a webhook request comes
// from Twilio, reads the voice and status-callback parameters Switchboard uses, and writes
// the TwiML it answers with.
package twilio

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/twilio/twilio-go/client"

	"github.com/switchboard-health/switchboard/internal/pgtext"
)

// Verifier checks X-Twilio-Signature.
type Verifier struct {
	validator client.RequestValidator
	baseURL   string
	enabled   bool
}

// NewVerifier verifies with the account's auth token. Twilio signs the URL it called,
// which behind a proxy is not the URL this server sees, so it is rebuilt from baseURL
// (PUBLIC_BASE_URL, e.g. https://switchboard.example.com) and the request's path and
// query. An empty token makes every request fail verification: fail closed.
func NewVerifier(authToken, baseURL string) *Verifier {
	return &Verifier{
		validator: client.NewRequestValidator(authToken),
		baseURL:   strings.TrimRight(baseURL, "/"),
		enabled:   authToken != "" && baseURL != "",
	}
}

// Verify reports whether r, whose form body was parsed into form, carries a valid
// signature.
func (v *Verifier) Verify(r *http.Request, form url.Values) bool {
	signature := r.Header.Get("X-Twilio-Signature")
	if !v.enabled || signature == "" {
		return false
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		// Twilio sends each parameter once; a repeated one cannot be signed the way the
		// validator computes, so the request fails verification rather than being guessed at.
		if len(vs) != 1 {
			return false
		}
		params[k] = vs[0]
	}
	return v.validator.Validate(v.baseURL+r.URL.RequestURI(), params, signature)
}

// InboundCall is what a voice webhook says about a call.
type InboundCall struct {
	CallSid       string
	From          string
	To            string
	ForwardedFrom string
	// StirVerstat is the STIR/SHAKEN verdict on the caller id (TN-Validation-Passed-A,
	// TN-Validation-Failed-B, No-TN-Validation, …); empty when Twilio sent none.
	StirVerstat string
}

// ParseInbound reads a voice webhook's parameters. ok is false without a CallSid.
func ParseInbound(form url.Values) (InboundCall, bool) {
	c := InboundCall{
		CallSid:       param(form, "CallSid"),
		From:          param(form, "From"),
		To:            param(form, "To"),
		ForwardedFrom: param(form, "ForwardedFrom"),
		StirVerstat:   param(form, "StirVerstat"),
	}
	return c, c.CallSid != ""
}

// DialOutcome is what a <Dial> action says about a forward.
type DialOutcome struct {
	CallSid string
	// DialCallStatus: completed or answered (someone took the call), busy, no-answer,
	// failed, canceled.
	DialCallStatus string
}

// Answered reports whether someone took the forwarded call.
func (d DialOutcome) Answered() bool {
	return d.DialCallStatus == "completed" || d.DialCallStatus == "answered"
}

// ParseDial reads a <Dial> action's parameters. ok is false without a CallSid.
func ParseDial(form url.Values) (DialOutcome, bool) {
	d := DialOutcome{CallSid: param(form, "CallSid"), DialCallStatus: param(form, "DialCallStatus")}
	return d, d.CallSid != ""
}

// Recording is what a <Record> action or a recording status callback says about a
// voicemail.
type Recording struct {
	CallSid      string
	RecordingSid string
	// Status is the status callback's RecordingStatus (completed, absent, failed); the
	// <Record> action sends none.
	Status   string
	Duration *int32 // seconds
}

// ParseRecording reads a recording's parameters. ok is false without a CallSid.
func ParseRecording(form url.Values) (Recording, bool) {
	r := Recording{
		CallSid:      param(form, "CallSid"),
		RecordingSid: param(form, "RecordingSid"),
		Status:       param(form, "RecordingStatus"),
		Duration:     seconds(form, "RecordingDuration"),
	}
	return r, r.CallSid != ""
}

// Usable reports whether the recording can be played: it has an id and, when a status
// callback says so, completed.
func (r Recording) Usable() bool {
	return r.RecordingSid != "" && (r.Status == "" || r.Status == "completed")
}

// StatusCallback is what a status callback says about a call.
type StatusCallback struct {
	CallSid    string
	CallStatus string // Twilio's: queued, initiated, ringing, in-progress, completed, busy, failed, no-answer, canceled
	Duration   *int32 // CallDuration in seconds, when sent
}

// ParseStatus reads a status callback's parameters. ok is false without a CallSid or a
// CallStatus; what a status means for a call is the calls package's to say.
func ParseStatus(form url.Values) (StatusCallback, bool) {
	s := StatusCallback{
		CallSid:    param(form, "CallSid"),
		CallStatus: param(form, "CallStatus"),
	}
	s.Duration = seconds(form, "CallDuration")
	return s, s.CallSid != "" && s.CallStatus != ""
}

// seconds reads a length in whole seconds; nil when absent or not one.
func seconds(form url.Values, name string) *int32 {
	d, err := strconv.ParseInt(strings.TrimSpace(form.Get(name)), 10, 32)
	if err != nil || d < 0 {
		return nil
	}
	d32 := int32(d)
	return &d32
}

// param reads a form parameter as text PostgreSQL can store: a request that passed the
// signature check is kept, with bytes no column can hold replaced.
func param(form url.Values, name string) string {
	return pgtext.Clean(strings.TrimSpace(form.Get(name)))
}
