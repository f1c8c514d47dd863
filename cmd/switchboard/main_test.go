package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/internal/config"
	"github.com/switchboard-health/switchboard/internal/devtoken"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

func TestDevRefusesProduction(t *testing.T) {
	t.Parallel()
	// APP_ENV unset means production too.
	for _, appEnv := range []string{"production", "Production", " PRODUCTION ", ""} {
		env := map[string]string{"APP_ENV": appEnv}
		err := run(context.Background(), []string{"dev"}, func(k string) string { return env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "APP_ENV=development") {
			t.Errorf("dev with APP_ENV=%q: %v", appEnv, err)
		}
	}
}

func TestServeRefusesIncompleteConfig(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"serve"}, func(string) string { return "" }, io.Discard)
	for _, name := range []string{"DATABASE_URL", "CLERK_JWT_KEY", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL", "VAPI_WEBHOOK_SECRET", "VAPI_API_KEY", "CLERK_WEBHOOK_SIGNING_SECRET"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("serve without configuration: %v; want it to name %s", err, name)
		}
	}
	env := map[string]string{
		"DATABASE_URL": "postgres://localhost/x", "CLERK_JWT_KEY": "not a key",
		"TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "https://sb.example.com", "VAPI_WEBHOOK_SECRET": "s", "VAPI_API_KEY": "k",
		"CLERK_WEBHOOK_SIGNING_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	}
	err = run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "CLERK_JWT_KEY") {
		t.Fatalf("serve with a bad key: %v", err)
	}
}

// serve migrates an empty database, answers, and returns cleanly when asked to stop.
func TestServeMigratesServesAndStops(t *testing.T) {
	t.Parallel()
	signer, err := devtoken.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Port = 0
	cfg.BindHost = "127.0.0.1" // as dev sets it: reachable from this machine only
	cfg.DatabaseURL = testpg.EmptyURL(t)
	cfg.ClerkJWTKey = signer.PublicPEM()
	cfg.SpoolDir = t.TempDir()
	cfg.ShutdownTimeout = 10 * time.Second
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, newLogger(cfg, &logs), listening) }()

	var addr string
	select {
	case addr = <-listening:
	case err := <-done:
		t.Fatalf("serve returned early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("listening on %s, want loopback only", addr)
	}
	port := addr[strings.LastIndex(addr, ":"):]
	tok, _ := signer.Token(devtoken.Claims{Subject: "user_a"})
	req, _ := http.NewRequest("GET", "http://127.0.0.1"+port+"/api/phone-numbers", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Request-Id", "req-from-the-proxy-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") != "req-from-the-proxy-1" {
		t.Fatalf("status %d, request id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	// Without one, the server makes one up.
	resp, err = http.Get("http://127.0.0.1" + port + "/api/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	generated := resp.Header.Get("X-Request-Id")
	if generated == "" {
		t.Fatal("no request id generated")
	}
	// A live stream never ends by itself; shutting down must end it.
	req, _ = http.NewRequest("GET", "http://127.0.0.1"+port+"/api/calls/events", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	stream, err := http.DefaultClient.Do(req)
	if err != nil || stream.StatusCode != 200 {
		t.Fatalf("stream: %v", err)
	}
	defer stream.Body.Close()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after a clean stop", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if strings.Contains(logs.String(), tok) {
		t.Fatal("the bearer token reached the logs")
	}
	if !strings.Contains(logs.String(), `"request_id":"req-from-the-proxy-1"`) || !strings.Contains(logs.String(), `"request_id":"`+generated+`"`) {
		t.Errorf("the request ids are not in the log lines: %s", logs.String())
	}
	if !strings.Contains(logs.String(), `"route":"/api/phone-numbers"`) {
		t.Errorf("no request log line: %s", logs.String())
	}
}

// `switchboard reprocess` applies what the inbox holds due and reports it.
func TestReprocessCommand(t *testing.T) {
	t.Parallel()
	url := testpg.URL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(context.Background(), `INSERT INTO webhook_events (provider, event_key, event_type, payload, next_attempt_at)
		VALUES ('vapi', 'end-of-call-report:vc_1', 'end-of-call-report', '{"message":{"type":"end-of-call-report","call":{"id":"vc_1"}}}', now() - interval '1 second')`); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": url, "SPOOL_DIR": t.TempDir(), "LOG_LEVEL": "error"}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"reprocess"}, func(k string) string { return env[k] }, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "applied 1 event") {
		t.Fatalf("output %q", out.String())
	}
	var status string
	if err := pool.QueryRow(context.Background(), "SELECT status FROM webhook_events").Scan(&status); err != nil || status != "unattributed" {
		t.Fatalf("event status %q, %v; want unattributed (no such call, no metadata)", status, err)
	}
}
