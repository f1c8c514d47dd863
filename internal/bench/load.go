package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-health/switchboard/internal/providertest"
)

// tenantFixture is what the load generator knows of a tenant.
type tenantFixture struct {
	UserID        string `json:"user_id"`
	Token         string `json:"token"`
	PhoneNumberID string `json:"phone_number_id"`
	Line          string `json:"line"`
}

// loadResult is one scenario's measurement.
type loadResult struct {
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	// Latency less the share the server's Server-Timing header gives to VAPI (the Twilio
	// hand-off): the server's own time.
	OwnP50ms float64 `json:"own_p50_ms"`
	OwnP99ms float64 `json:"own_p99_ms"`
	// CPU per request, filled in by the harness: the server's and PostgreSQL's.
	ServerCPUms   float64 `json:"-"`
	PostgresCPUms float64 `json:"-"`
	// GeneratorCPU is the share of one core the load generator used (wrk's runs).
	GeneratorCPU float64 `json:"-"`
	// The live streams' events on the wrong stream, and reports whose event never came.
	Misrouted int64 `json:"misrouted,omitempty"`
	Missing   int64 `json:"missing,omitempty"`
}

// loadMain drives one scenario with a fixed number of connections for a fixed time and
// prints the result as JSON.
func loadMain(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	mode := fs.String("mode", "list", "list, floor-list, vapi, floor-ingest, twilio, healthz or streams (a live stream per tenant, reports at -rate)")
	target := fs.String("target", "", "base URL")
	duration := fs.Duration("duration", 10*time.Second, "how long")
	conns := fs.Int("conns", 32, "concurrent connections")
	rate := fs.Float64("rate", 0, "requests a second, sent on a fixed schedule whatever the answers' pace (0: each connection sends its next request when the last is answered)")
	tenantsFile := fs.String("tenants", "", "tenant fixtures (JSON)")
	twilioToken := fs.String("twilio-token", "", "")
	publicURL := fs.String("public-url", "", "")
	vapiSecret := fs.String("vapi-secret", "", "")
	_ = fs.Parse(args)

	raw, err := os.ReadFile(*tenantsFile)
	if err != nil {
		return err
	}
	var tenants []tenantFixture
	if err := json.Unmarshal(raw, &tenants); err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns, DisableCompression: true}}
	transcript := strings.Repeat("User: I would like to book a cleaning for next Tuesday morning. AI: Of course, let me check. ", 200)[:18000]
	var seq atomic.Int64

	report := func(t tenantFixture, n int64) *http.Request {
		body, _ := json.Marshal(map[string]any{"message": map[string]any{
			"type": "end-of-call-report", "endedReason": "customer-ended-call",
			"startedAt": "2026-11-28T10:00:00Z", "endedAt": "2026-11-28T10:04:00Z", "cost": 0.31,
			"call": map[string]any{"id": fmt.Sprintf("bench-%d-%d", os.Getpid(), n),
				"metadata": map[string]any{"user_id": t.UserID, "phone_number_id": t.PhoneNumberID}},
			"artifact": map[string]any{"transcript": transcript, "messages": []any{map[string]any{"role": "user", "message": "hello"}},
				"recording": map[string]any{"mono": map[string]any{"combinedUrl": "https://storage.vapi.ai/x.wav"}}},
			"analysis": map[string]any{"summary": "Booked a cleaning.", "successEvaluation": "true"},
		}})
		path := "/api/webhooks/vapi"
		if *mode == "floor-ingest" {
			path = "/ingest"
		}
		req, _ := http.NewRequest("POST", *target+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Vapi-Secret", *vapiSecret)
		return req
	}
	if *mode == "streams" {
		r, err := streamLoad(*target, tenants, *rate, *duration, report)
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(r)
	}

	request := func() *http.Request {
		t := tenants[rand.IntN(len(tenants))]
		n := seq.Add(1)
		switch *mode {
		case "list":
			req, _ := http.NewRequest("GET", *target+"/api/calls?limit=50", nil)
			req.Header.Set("Authorization", "Bearer "+t.Token)
			return req
		case "floor-list":
			req, _ := http.NewRequest("GET", *target+"/calls?tenant="+url.QueryEscape(t.UserID), nil)
			return req
		case "vapi", "floor-ingest":
			return report(t, n)
		case "healthz":
			req, _ := http.NewRequest("GET", *target+"/healthz", nil)
			return req
		case "twilio":
			form := url.Values{"CallSid": {fmt.Sprintf("CAbench%d_%d", os.Getpid(), n)}, "From": {"+13127445000"},
				"To": {"+16172531000"}, "ForwardedFrom": {t.Line}, "CallStatus": {"ringing"}}
			req, _ := http.NewRequest("POST", *target+"/api/webhooks/twilio", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", providertest.SignTwilio(*twilioToken, *publicURL+"/api/webhooks/twilio", form))
			return req
		}
		panic("unknown mode " + *mode)
	}

	// With a rate, requests are due on a fixed schedule and each latency counts from when
	// its request was due, so a slow answer that holds up the next requests is counted in
	// them too; without one, each connection sends as fast as it is answered.
	deadline := time.Now().Add(*duration)
	var due chan time.Time
	if *rate > 0 {
		due = make(chan time.Time, 1<<16)
		go func() {
			defer close(due)
			interval := time.Duration(float64(time.Second) / *rate)
			for at := time.Now(); at.Before(deadline); at = at.Add(interval) {
				time.Sleep(time.Until(at))
				due <- at
			}
		}()
	}
	var mu sync.Mutex
	var latencies, own []time.Duration
	var requests, errors atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine, mineOwn := make([]time.Duration, 0, 4096), make([]time.Duration, 0, 4096)
			for {
				t0 := time.Now()
				if due != nil {
					at, ok := <-due
					if !ok {
						break
					}
					t0 = at
				} else if !t0.Before(deadline) {
					break
				}
				req := request()
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(t0)
				requests.Add(1)
				if err != nil || resp.StatusCode >= 300 {
					errors.Add(1)
					continue
				}
				mine = append(mine, d)
				var vapiMS float64
				if _, err := fmt.Sscanf(resp.Header.Get("Server-Timing"), "vapi;dur=%g", &vapiMS); err == nil {
					mineOwn = append(mineOwn, d-time.Duration(vapiMS*float64(time.Millisecond)))
				}
			}
			mu.Lock()
			latencies, own = append(latencies, mine...), append(own, mineOwn...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	slices.Sort(latencies)
	slices.Sort(own)
	pct := percentileMS
	ok := int64(len(latencies))
	return json.NewEncoder(os.Stdout).Encode(loadResult{
		Requests: requests.Load(), Errors: errors.Load(), Seconds: elapsed,
		RPS: float64(ok) / elapsed, P50ms: pct(latencies, 0.50), P99ms: pct(latencies, 0.99),
		OwnP50ms: pct(own, 0.50), OwnP99ms: pct(own, 0.99),
	})
}
