package devenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
)

// The development instance's own credentials: it listens on loopback only, and nothing in
// development reaches Twilio or VAPI.
const (
	TwilioToken   = "devtwiliotoken0000000000000000000"
	VapiSecret    = "dev-vapi-webhook-secret"
	VapiAPIKey    = "dev-vapi-api-key"
	AssistantLine = "+16172531000" // the shared assistant line the demo clinics forward to
)

// Simulator stands in for VAPI in development: it takes the calls Switchboard hands it
// (POST /call) and, like VAPI, later posts the call's status updates and its end-of-call
// report to Switchboard's webhook, so the live stream, statistics and search move.
type Simulator struct {
	URL    string // where Switchboard reaches it (VAPI_BASE_URL)
	server *http.Server
	log    *slog.Logger

	mu     sync.Mutex
	target string // Switchboard's base URL, once it listens
	calls  sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

// StartSimulator starts the simulator on a loopback port.
func StartSimulator(log *slog.Logger) (*Simulator, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Simulator{URL: "http://" + ln.Addr().String(), log: log}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.server = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.server.Serve(ln) }()
	return s, nil
}

// Deliver sets where the simulator posts its server messages: Switchboard's base URL.
func (s *Simulator) Deliver(baseURL string) { s.mu.Lock(); s.target = baseURL; s.mu.Unlock() }

// Close stops the simulator and the calls it is playing.
func (s *Simulator) Close() {
	s.cancel()
	s.calls.Wait()
	_ = s.server.Close()
}

func (s *Simulator) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/call" {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	var req struct {
		Metadata map[string]any `json:"metadata"`
		Customer struct {
			Number string `json:"number"`
		} `json:"customer"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, `{"message":"Bad Request"}`, http.StatusBadRequest)
		return
	}
	id := "sim-" + uuid.NewString()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": id, "status": "queued", "type": "inboundPhoneCall",
		"phoneCallProviderDetails": map[string]any{"twiml": `<Response><Say>This is Switchboard's VAPI simulator.</Say><Pause length="2"/><Hangup/></Response>`},
	})
	s.calls.Add(1)
	go s.play(id, req.Metadata, req.Customer.Number)
}

// play sends what VAPI sends during and after a call: the call in progress, then, when
// it ends a few seconds later, the end-of-call report.
func (s *Simulator) play(id string, metadata map[string]any, customer string) {
	defer s.calls.Done()
	call := map[string]any{"id": id, "metadata": metadata, "customer": map[string]any{"number": customer}}
	started := time.Now().UTC()
	steps := []struct {
		after time.Duration
		msg   map[string]any
	}{
		{time.Second, map[string]any{"type": "status-update", "status": "in-progress", "call": call}},
		{3 * time.Second, report(call, started)},
	}
	for _, step := range steps {
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(step.after): // the call's own pace, as a caller would take
		}
		s.post(step.msg)
	}
}

func report(call map[string]any, started time.Time) map[string]any {
	transcript := "AI: Thank you for calling, how can I help?\nUser: I'd like to book a cleaning next week.\n" +
		"AI: Of course. Tuesday at 9 or Thursday at 2?\nUser: Tuesday at 9, please.\nAI: You're booked for Tuesday at 9."
	return map[string]any{
		"type": "end-of-call-report", "endedReason": "customer-ended-call", "call": call,
		"startedAt": started.Format(time.RFC3339Nano), "endedAt": time.Now().UTC().Format(time.RFC3339Nano),
		"cost": 0.0842,
		"artifact": map[string]any{
			"transcript": transcript,
			"messages":   []any{map[string]any{"role": "bot", "message": "Thank you for calling, how can I help?"}},
			"recording":  map[string]any{"mono": map[string]any{"combinedUrl": "https://storage.vapi.ai/simulator/" + call["id"].(string) + ".wav"}},
		},
		"analysis": map[string]any{"summary": "Caller booked a cleaning for Tuesday at 9.", "successEvaluation": "true",
			"structuredData": map[string]any{"appointment": "Tuesday 09:00"}},
	}
}

func (s *Simulator) post(msg map[string]any) {
	s.mu.Lock()
	target := s.target
	s.mu.Unlock()
	body, err := json.Marshal(map[string]any{"message": msg})
	if err != nil || target == "" {
		return
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, target+"/api/webhooks/vapi", bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Vapi-Secret", VapiSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.log.Warn("VAPI simulator: posting a server message failed", slog.String("error", err.Error()))
		return
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.log.Warn("VAPI simulator: server message refused", slog.String("status", fmt.Sprint(resp.StatusCode)))
	}
}
