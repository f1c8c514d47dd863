package providertest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// TwilioRecordings answers GET /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.mp3 as
// Twilio's REST API does for an account whose media needs authentication: the audio with
// the account's basic-auth credentials, 401 without them, 404 for a recording it does not
// hold.
type TwilioRecordings struct {
	Server *httptest.Server

	mu         sync.Mutex
	token      string
	recordings map[string][]byte
}

// NewTwilioRecordings starts the fake for the account TwilioAccountSID with authToken.
func NewTwilioRecordings(authToken string) *TwilioRecordings {
	f := &TwilioRecordings{token: authToken, recordings: map[string][]byte{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// Close stops the server.
func (f *TwilioRecordings) Close() { f.Server.Close() }

// URL is the fake's base URL, for TWILIO_API_URL.
func (f *TwilioRecordings) URL() string { return f.Server.URL }

// Add makes the fake hold recording sid with audio.
func (f *TwilioRecordings) Add(sid string, audio []byte) {
	f.mu.Lock()
	f.recordings[sid] = audio
	f.mu.Unlock()
}

func (f *TwilioRecordings) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != TwilioAccountSID || pass != f.token {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"code":20003,"message":"Authenticate","status":401}`))
		return
	}
	prefix := "/2010-04-01/Accounts/" + TwilioAccountSID + "/Recordings/"
	sid, isMP3 := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, prefix), ".mp3")
	f.mu.Lock()
	audio, found := f.recordings[sid]
	f.mu.Unlock()
	if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, prefix) || !isMP3 || !found {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"code":20404,"message":"The requested resource was not found","status":404}`))
		return
	}
	w.Header().Set("Content-Type", "audio/mpeg")
	_, _ = w.Write(audio)
}
