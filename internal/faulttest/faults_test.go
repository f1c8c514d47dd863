package faulttest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/internal/providertest"
	"github.com/switchboard-health/switchboard/internal/testkit"
)

// registerLine registers the clinic's assistant (known to the fake VAPI) and its line
// with it, verified as the operator would.
func registerLine(e *env, p *proc) {
	tok := e.token("user_clinic_a")
	e.vapi.AddAssistant("asst_a", "Front desk")
	p.must("POST", "/api/assistants", tok, map[string]any{"vapi_assistant_id": "asst_a"}, 201)
	p.must("POST", "/api/phone-numbers", tok, map[string]any{
		"phone_number": clinicLine, "vapi_assistant_id": "asst_a", "vapi_phone_number_id": "vpn_a",
	}, 201)
	e.verifyNumber("user_clinic_a", clinicLine)
}

// setupClinic registers the clinic's line with an assistant and records one handed-off
// call; it returns the call's metadata as VAPI was given it.
func setupClinic(t *testing.T, e *env, p *proc, sid string) map[string]any {
	t.Helper()
	tok := e.token("user_clinic_a")
	if r, _ := p.do("GET", "/api/phone-numbers", tok, nil); !strings.Contains(r.body, clinicLine) {
		registerLine(e, p)
	}
	r, err := p.twilio("/api/webhooks/twilio", inbound(sid))
	if err != nil || r.status != 200 || !strings.Contains(r.body, "<Connect>") {
		t.Fatalf("inbound call: %v %+v", err, r)
	}
	calls := e.vapi.Calls()
	return calls[len(calls)-1].Body["metadata"].(map[string]any)
}

// The database stops during traffic: requests fail with 503 problems, /readyz goes red,
// Twilio is told to retry, VAPI's report waits in the spool; when the database returns
// the service recovers by itself and the report is applied.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.start()
	meta := setupClinic(t, e, p, "CA_OUTAGE")
	tok := e.token("user_clinic_a")
	live := p.stream(tok)

	e.stopDatabase()
	r := p.must("GET", "/api/phone-numbers", tok, nil, 503)
	if !strings.Contains(r.body, `"code":"unavailable"`) || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("503 body %s", r.body)
	}
	p.must("GET", "/readyz", "", nil, 503)
	p.must("GET", "/healthz", "", nil, 200)
	if r, err := p.twilio("/api/webhooks/twilio", inbound("CA_DURING")); err != nil || r.status != 503 {
		t.Errorf("Twilio during the outage: %v %+v; want 503 so that it retries", err, r)
	}
	if r, err := p.vapiMessage(providertest.EndOfCallReport("vapi-call-1", meta)); err != nil || r.status != 200 {
		t.Fatalf("VAPI report during the outage: %v %+v; want 200 (spooled)", err, r)
	}
	if entries, _ := os.ReadDir(e.spool); len(entries) != 1 {
		t.Fatalf("%d spooled messages, want 1", len(entries))
	}

	e.startDatabase()
	testkit.Eventually(t, 30*time.Second, "/readyz answers 200 again", func() bool {
		r, err := p.do("GET", "/readyz", "", nil)
		return err == nil && r.status == 200
	})
	p.must("GET", "/api/phone-numbers", tok, nil, 200)
	testkit.Eventually(t, 30*time.Second, "the spooled report is applied", func() bool {
		r, err := p.do("GET", "/api/calls/"+meta["call_id"].(string), tok, nil)
		return err == nil && strings.Contains(r.body, "Patient booked a cleaning.")
	})
	if entries, _ := os.ReadDir(e.spool); len(entries) != 0 {
		t.Errorf("%d messages left in the spool", len(entries))
	}
	// The live stream opened before the outage stayed open and announces the report.
	awaitEvent(t, live, "report_stored", 10*time.Second)
}

// A process killed after storing a report and before applying it: after restart, the
// stored event is applied, once.
func TestKilledBetweenStoringAndApplying(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.start()
	meta := setupClinic(t, e, p, "CA_KILL")
	db := e.pool()
	ctx := context.Background()

	// Hold the call's row, so that applying the report blocks after it was stored.
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1 FROM calls WHERE id = $1 FOR UPDATE", meta["call_id"]); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = p.vapiMessage(providertest.EndOfCallReport("vapi-call-1", meta)) }()
	testkit.Eventually(t, 10*time.Second, "the report is stored and applying it waits for the row", func() bool {
		var stored, waiting int
		_ = db.QueryRow(ctx, `SELECT (SELECT count(*) FROM webhook_events WHERE event_type = 'end-of-call-report'),
			(SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database())`).Scan(&stored, &waiting)
		return stored == 1 && waiting == 1
	})
	p.signal(syscall.SIGKILL)
	_ = p.exited(10 * time.Second)
	// The killed process had already sent its transaction's last statements and COMMIT;
	// the backend still waiting for the lock would complete them once it is released
	// (applied once, still). End that backend, as a crash of the database's side would, so
	// that what the restart does is what is tested.
	if _, err := db.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND pid <> pg_backend_pid()"); err != nil {
		t.Fatal(err)
	}
	_ = tx.Rollback(ctx)

	var status string
	if err := db.QueryRow(ctx, "SELECT status FROM webhook_events WHERE event_type = 'end-of-call-report'").Scan(&status); err != nil || status != "pending" {
		t.Fatalf("after the kill the event is %q (%v), want pending", status, err)
	}
	// Its grace period passes while the process is down.
	if _, err := db.Exec(ctx, "UPDATE webhook_events SET next_attempt_at = now() WHERE status = 'pending'"); err != nil {
		t.Fatal(err)
	}
	p = e.start()
	testkit.Eventually(t, 30*time.Second, "the report is applied after the restart", func() bool {
		_ = db.QueryRow(ctx, "SELECT status FROM webhook_events WHERE event_type = 'end-of-call-report'").Scan(&status)
		return status == "processed"
	})
	var reports, transcripts int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM call_events WHERE kind = 'report_stored' AND call_id = $1", meta["call_id"]).Scan(&reports); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, "SELECT count(*) FROM call_details WHERE call_id = $1 AND transcript IS NOT NULL", meta["call_id"]).Scan(&transcripts); err != nil {
		t.Fatal(err)
	}
	if reports != 1 || transcripts != 1 {
		t.Fatalf("the report was applied %d times (%d transcripts), want once", reports, transcripts)
	}
}

// SIGTERM: the request in flight finishes, new connections are refused, the process
// exits cleanly.
func TestSigtermLetsInFlightRequestsFinish(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.start()
	registerLine(e, p)
	release := e.vapi.Hold()
	inFlight := make(chan reply, 1)
	go func() {
		r, err := p.twilio("/api/webhooks/twilio", inbound("CA_TERM"))
		if err != nil {
			t.Error(err)
		}
		inFlight <- r
	}()
	testkit.Eventually(t, 10*time.Second, "the call reaches VAPI", func() bool { return len(e.vapi.Calls()) == 1 })

	p.signal(syscall.SIGTERM)
	testkit.Eventually(t, 10*time.Second, "new connections are refused", func() bool {
		_, err := p.do("GET", "/healthz", "", nil)
		var op *net.OpError
		return errors.As(err, &op)
	})
	release()
	r := <-inFlight
	if r.status != 200 || !strings.Contains(r.body, "<Connect>") {
		t.Fatalf("the in-flight call got %+v", r)
	}
	if err := p.exited(20 * time.Second); err != nil {
		t.Fatalf("exit: %v\n%s", err, p.log())
	}
}

// Two replicas on one database, started together: the migrations apply once, and
// duplicate Twilio deliveries spread over both still make one VAPI call.
func TestTwoReplicas(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var a, b *proc
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a = e.start() }()
	go func() { defer wg.Done(); b = e.start() }()
	wg.Wait()
	db := e.pool()
	var versions, rows int
	if err := db.QueryRow(context.Background(), "SELECT count(DISTINCT version_id), count(*) FROM goose_db_version WHERE version_id > 0").Scan(&versions, &rows); err != nil {
		t.Fatal(err)
	}
	if versions != rows || versions < 4 {
		t.Fatalf("goose recorded %d rows for %d versions: a migration applied twice", rows, versions)
	}

	tok := e.token("user_clinic_a")
	registerLine(e, a)
	liveA, liveB := a.stream(tok), b.stream(tok)
	e.vapi.Delay(300 * time.Millisecond)
	answers := make([]string, 20)
	var calls sync.WaitGroup
	for i := range answers {
		calls.Add(1)
		go func() {
			defer calls.Done()
			replica := a
			if i%2 == 1 {
				replica = b
			}
			if r, err := replica.twilio("/api/webhooks/twilio", inbound("CA_REPLICAS")); err == nil && r.status == 200 {
				answers[i] = r.body
			}
		}()
	}
	calls.Wait()
	if n := len(e.vapi.Calls()); n != 1 {
		t.Fatalf("%d VAPI calls across two replicas, want 1", n)
	}
	for i, ans := range answers {
		if ans != answers[0] || !strings.Contains(ans, "<Connect>") {
			t.Errorf("delivery %d answered %q", i, ans)
		}
	}
	// Each replica's live streams see the call, whichever replica recorded it.
	awaitEvent(t, liveA, "created", 5*time.Second)
	awaitEvent(t, liveB, "created", 5*time.Second)
}

// A client that sends its headers a byte at a time is cut off, and others are served
// meanwhile.
func TestSlowClientsDoNotStarveOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.start("READ_HEADER_TIMEOUT=1s")
	const slow = 20
	conns := make([]net.Conn, slow)
	for i := range conns {
		c, err := net.Dial("tcp", strings.TrimPrefix(p.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	start := time.Now()
	p.must("GET", "/healthz", "", nil, 200)
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("a normal request took %s beside slow clients", d)
	}
	// Past the header timeout the server closes the slow connections.
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 512)
		n, err := c.Read(buf)
		if err == nil && !strings.Contains(string(buf[:n]), "408") {
			t.Errorf("a slow client got %q", buf[:n])
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the server kept a slow client's connection open past its header timeout")
		}
	}
	if resp, err := http.Get(p.base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the slow clients: %v", err)
	}
}
