package httpapi_test

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
	"testing"
	"time"
)

// fakeVAPI answers POST /call the way VAPI does (201 with a call object whose
// phoneCallProviderDetails.twiml connects the call) and records every request.
type fakeVAPI struct {
	server *httptest.Server

	mu       sync.Mutex
	requests []createCallRequest
	status   int           // answer status; 0 means 201
	delay    time.Duration // before answering
	gate     chan struct{} // when not nil, every answer waits for it to close
	// recordings maps "<call id>/<variant>" to the URL GET /call/{id}/{variant}-recording
	// redirects to.
	recordings map[string]string
	// callObjects maps a VAPI call id to the call object GET /call/{id} answers with.
	callObjects map[string]string
	gets        int
}

type createCallRequest struct {
	Authorization string
	Body          map[string]any
}

func newFakeVAPI(t *testing.T) *fakeVAPI {
	f := &fakeVAPI{}
	f.server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.server.Close)
	return f
}

func (f *fakeVAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "-recording") {
		f.serveRecording(w, r)
		return
	}
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/call/") {
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
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/call" {
		http.NotFound(w, r)
		return
	}
	var body map[string]any
	raw, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(raw, &body)
	f.mu.Lock()
	f.requests = append(f.requests, createCallRequest{Authorization: r.Header.Get("Authorization"), Body: body})
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

// serveRecording answers like VAPI: a redirect to a short-lived URL, or 404.
func (f *fakeVAPI) serveRecording(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer vapi-test-api-key" {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
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

func (f *fakeVAPI) calls() []createCallRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]createCallRequest(nil), f.requests...)
}

// signTwilio signs a request the way Twilio does: HMAC-SHA1 over the full URL followed by
// every POST parameter's name and value in name order, base64-encoded.
func signTwilio(token, fullURL string, form url.Values) string {
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

// twilio posts a form to path, signed with the test token for the public URL.
func (b *bundle) twilio(path string, form url.Values) response {
	b.t.Helper()
	return b.twilioSigned(path, form, signTwilio(twilioToken, publicBaseURL+path, form))
}

func (b *bundle) twilioSigned(path string, form url.Values, signature string) response {
	b.t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	// The service sits behind a proxy: the Host it sees is not the one Twilio called.
	req.Host = "10.0.0.7:8080"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signature != "" {
		req.Header.Set("X-Twilio-Signature", signature)
	}
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// vapiPost posts a server message with the given credential header.
func (b *bundle) vapiPost(body []byte, header, value string) response {
	b.t.Helper()
	req := httptest.NewRequest("POST", "/api/webhooks/vapi", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if header != "" {
		req.Header.Set(header, value)
	}
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func (b *bundle) vapiMessage(msg map[string]any) response {
	b.t.Helper()
	body, err := json.Marshal(map[string]any{"message": msg})
	if err != nil {
		b.t.Fatal(err)
	}
	return b.vapiPost(body, "X-Vapi-Secret", vapiSecret)
}
