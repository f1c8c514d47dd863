package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// Twilio Verify credentials the fake accepts.
const (
	TwilioAccountSID = "AC00000000000000000000000000000000"
	VerifyServiceSID = "VA00000000000000000000000000000000"
)

// Verify answers the two calls of Twilio Verify's API that prove a number, in its wire
// format: POST /v2/Services/{ServiceSid}/Verifications (form To, Channel) creates a pending
// verification and "sends" a code, which Code returns as the line would have heard it;
// POST /v2/Services/{ServiceSid}/VerificationCheck (form To, Code) answers approved or
// pending, and 404 (Twilio's error 20404) when no verification is pending for the number.
// Requests must carry the account's basic-auth credentials.
type Verify struct {
	Server *httptest.Server

	mu      sync.Mutex
	token   string
	codes   map[string]string // to → the pending code
	refused map[string]bool   // "to/channel" → answer 400 (error 60205) instead of sending
	sent    int
}

// NewVerify starts a fake Verify that accepts authToken; Close it when done.
func NewVerify(authToken string) *Verify {
	f := &Verify{token: authToken, codes: map[string]string{}, refused: map[string]bool{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// Close stops the server.
func (f *Verify) Close() { f.Server.Close() }

// URL is the fake's base URL, for TWILIO_VERIFY_URL.
func (f *Verify) URL() string { return f.Server.URL }

// Code returns the code last sent to the number, "" when none is pending.
func (f *Verify) Code(to string) string { f.mu.Lock(); defer f.mu.Unlock(); return f.codes[to] }

// Sent counts the codes sent.
func (f *Verify) Sent() int { f.mu.Lock(); defer f.mu.Unlock(); return f.sent }

// Refuse makes sending to the number by channel fail, as Twilio refuses an SMS to a landline.
func (f *Verify) Refuse(to, channel string) {
	f.mu.Lock()
	f.refused[to+"/"+channel] = true
	f.mu.Unlock()
}

func (f *Verify) serve(w http.ResponseWriter, r *http.Request) {
	if user, pass, ok := r.BasicAuth(); !ok || user != TwilioAccountSID || pass != f.token {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	prefix := "/v2/Services/" + VerifyServiceSID + "/"
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, prefix) || r.ParseForm() != nil {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	to := r.PostForm.Get("To")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch strings.TrimPrefix(r.URL.Path, prefix) {
	case "Verifications":
		channel := r.PostForm.Get("Channel")
		if f.refused[to+"/"+channel] {
			twilioError(w, http.StatusBadRequest, 60205, "SMS is not supported by landline phone number")
			return
		}
		f.sent++
		f.codes[to] = fmt.Sprintf("%06d", 100000+f.sent*7919%900000)
		verification(w, http.StatusCreated, to, channel, "pending")
	case "VerificationCheck":
		code, ok := f.codes[to]
		switch {
		case !ok:
			twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
		case code == r.PostForm.Get("Code"):
			delete(f.codes, to)
			verification(w, http.StatusOK, to, "sms", "approved")
		default:
			verification(w, http.StatusOK, to, "sms", "pending")
		}
	default:
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
	}
}

func verification(w http.ResponseWriter, status int, to, channel, state string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sid": "VE00000000000000000000000000000001", "service_sid": VerifyServiceSID, "account_sid": TwilioAccountSID,
		"to": to, "channel": channel, "status": state, "valid": state == "approved",
		"date_created": "2026-12-02T10:00:00Z", "date_updated": "2026-12-02T10:00:00Z",
	})
}

func twilioError(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code": code, "message": message, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status,
	})
}
