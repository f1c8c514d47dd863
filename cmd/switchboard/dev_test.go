package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/internal/config"
	"github.com/switchboard-health/switchboard/internal/devenv"
	"github.com/switchboard-health/switchboard/internal/testkit"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

// The playground: `make run` gives each demo clinic calls to look at, and
// `switchboard simulate-call` plays a whole call against it (Twilio's webhooks, the
// built-in VAPI simulator's messages), which lands in the clinic's list with its report.
func TestThePlaygroundHasCallsAndPlaysOne(t *testing.T) {
	t.Chdir(t.TempDir()) // dev keeps its signing key under ./.data
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	env := map[string]string{"APP_ENV": "development", "PORT": fmt.Sprint(port), "DATABASE_URL": testpg.EmptyURL(t), "LOG_LEVEL": "error"}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load(getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	listening, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- dev(ctx, cfg, getenv, &out, listening) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev: %v", err)
		}
	})
	select {
	case addr := <-listening:
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Errorf("dev listens on %s, want loopback only", addr)
		}
	case err := <-done:
		done <- nil // for the cleanup, which waits for dev to stop
		t.Fatalf("dev stopped: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("dev did not start")
	}
	m := regexp.MustCompile(devenv.DemoTenants[0] + `:\s+export TOKEN=(\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no token for %s in %s", devenv.DemoTenants[0], out.String())
	}
	base := fmt.Sprintf("http://localhost:%d", port)
	list := func() []map[string]any {
		req, _ := http.NewRequest("GET", base+"/api/calls?limit=200", nil)
		req.Header.Set("Authorization", "Bearer "+m[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var page struct{ Items []map[string]any }
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
			t.Fatal(err)
		}
		return page.Items
	}
	seeded := list()
	inProgress := 0
	for _, c := range seeded {
		if c["status"] == "in_progress" {
			inProgress++
		}
	}
	if len(seeded) < 30 || inProgress == 0 {
		t.Fatalf("the demo clinic starts with %d calls (%d in progress)", len(seeded), inProgress)
	}

	var played bytes.Buffer
	if err := simulateCall(ctx, []string{"-url", base}, &played); err != nil {
		t.Fatalf("simulate-call: %v\n%s", err, played.String())
	}
	testkit.Eventually(t, 20*time.Second, "the simulated call ends with its report", func() bool {
		for _, c := range list() {
			sid, _ := c["twilio_call_sid"].(string)
			if strings.HasPrefix(sid, "CAsim") {
				return c["status"] == "ended" && c["summary"] == "Caller booked a cleaning for Tuesday at 9."
			}
		}
		return false
	})
}
