// Package providertest stands in for Twilio and VAPI at the HTTP boundary, for tests: a
// fake VAPI server that speaks VAPI's wire format and records what it is asked, and
// Twilio's request signing. Nothing else of the service is replaced.
package providertest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// VAPIKey is the API key the fake VAPI accepts.
const VAPIKey = "vapi-test-api-key"

// VAPI answers POST /call like VAPI (201 with a call object whose
// phoneCallProviderDetails.twiml connects the call), GET /call/{id} with the call objects
// it was given, GET /assistant/{id} for the assistants it was given, and
// GET /call/{id}/{mono,stereo}-recording with a redirect. It records
// every create-call request.
type VAPI struct {
	Server *httptest.Server

	mu          sync.Mutex
	requests    []CreateCallRequest
	status      int           // answer status of POST /call; 0 means 201
	delay       time.Duration // before answering POST /call
	gate        chan struct{} // when not nil, POST /call waits for it to close
	recordings  map[string]string
	callObjects map[string]string
	assistants  map[string]string // id → name
	gets        int
}

// CreateCallRequest is one POST /call as the fake received it.
type CreateCallRequest struct {
	Authorization string
	Body          map[string]any
}

// NewVAPI starts a fake VAPI; Close it when done.
func NewVAPI() *VAPI {
	f := &VAPI{}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// Close stops the server.
func (f *VAPI) Close() { f.Server.Close() }

// URL is the fake's base URL, for VAPI_BASE_URL.
func (f *VAPI) URL() string { return f.Server.URL }

// FailWith makes POST /call answer status (0: succeed again).
func (f *VAPI) FailWith(status int) { f.mu.Lock(); f.status = status; f.mu.Unlock() }

// Delay makes POST /call answer after d.
func (f *VAPI) Delay(d time.Duration) { f.mu.Lock(); f.delay = d; f.mu.Unlock() }

// Hold makes POST /call wait until the returned release is called.
func (f *VAPI) Hold() (release func()) {
	gate := make(chan struct{})
	f.mu.Lock()
	f.gate = gate
	f.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(gate) }) }
}

// SetRecordings sets what the recording endpoints redirect to: "<call id>/<variant>" → URL.
func (f *VAPI) SetRecordings(m map[string]string) { f.mu.Lock(); f.recordings = m; f.mu.Unlock() }

// SetCallObjects sets what GET /call/{id} answers: call id → JSON call object.
func (f *VAPI) SetCallObjects(m map[string]string) { f.mu.Lock(); f.callObjects = m; f.mu.Unlock() }

// AddAssistant makes GET /assistant/{id} know an assistant.
func (f *VAPI) AddAssistant(id, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.assistants == nil {
		f.assistants = map[string]string{}
	}
	f.assistants[id] = name
}

// Calls returns the create-call requests so far.
func (f *VAPI) Calls() []CreateCallRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]CreateCallRequest(nil), f.requests...)
}

// Gets counts GET /call/{id} requests.
func (f *VAPI) Gets() int { f.mu.Lock(); defer f.mu.Unlock(); return f.gets }

func (f *VAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+VAPIKey {
		http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/call":
		f.createCall(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/assistant/"):
		f.assistant(w, strings.TrimPrefix(r.URL.Path, "/assistant/"))
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "-recording"):
		f.recording(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/call/"):
		f.mu.Lock()
		f.gets++
		obj, ok := f.callObjects[strings.TrimPrefix(r.URL.Path, "/call/")]
		f.mu.Unlock()
		if !ok {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, obj)
	default:
		http.NotFound(w, r)
	}
}

func (f *VAPI) createCall(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	raw, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(raw, &body)
	f.mu.Lock()
	f.requests = append(f.requests, CreateCallRequest{Authorization: r.Header.Get("Authorization"), Body: body})
	n := len(f.requests)
	status, delay, gate := f.status, f.delay, f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	time.Sleep(delay)
	if status != 0 {
		http.Error(w, `{"message":"internal error"}`, status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"id":"vapi-call-%d","orgId":"org_1","type":"inboundPhoneCall","status":"queued",
		"phoneCallProviderDetails":{"twiml":"<Response><Connect><Stream url=\"wss://phone.vapi.ai/%d\"/></Connect></Response>"},
		"somethingNew":{"nested":true}}`, n, n)
}

// assistant answers GET /assistant/{id} with VAPI's assistant object, or 404.
func (f *VAPI) assistant(w http.ResponseWriter, id string) {
	f.mu.Lock()
	name, ok := f.assistants[id]
	f.mu.Unlock()
	if !ok {
		http.Error(w, `{"message":"Couldn't Get Assistant. Not Found.","error":"Not Found","statusCode":404}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "orgId": "org_1", "name": name,
		"createdAt": "2026-11-01T08:00:00.000Z", "updatedAt": "2026-11-01T08:00:00.000Z",
		"model": map[string]any{"provider": "openai", "model": "gpt-4o"}})
}

func (f *VAPI) recording(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/call/")
	id, variant, _ := strings.Cut(strings.TrimSuffix(rest, "-recording"), "/")
	f.mu.Lock()
	loc, ok := f.recordings[id+"/"+variant]
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	http.Redirect(w, r, loc, http.StatusFound)
}

// SignTwilio signs a request the way Twilio does: HMAC-SHA1 over the full URL followed by
// every POST parameter's name and value in name order, base64-encoded.
func SignTwilio(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(form.Get(k))
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
