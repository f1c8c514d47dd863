package httpapi_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/switchboard-health/switchboard/internal/providertest"

	"github.com/jackc/pgx/v5/pgxpool"
)

// deadPool points at a port where nothing listens: the database is down.
func deadPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), "postgres://switchboard@127.0.0.1:1/switchboard?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// VAPI sends its report once. With the database down it goes to the local spool, and
// lands on the call once the database is back.
func TestReportSpooledWhileDatabaseIsDown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_SPOOL", patientNumber, sharedLine, clinicALine)))
	meta := b.vapi.Calls()[0].Body["metadata"].(map[string]any)

	down := setup(t, setupOptions{pool: deadPool(t), spoolDir: b.spoolDir})
	expect(t, down.vapiMessage(providertest.EndOfCallReport("vapi-call-1", meta)), 200)
	entries, _ := os.ReadDir(b.spoolDir)
	if len(entries) != 1 {
		t.Fatalf("%d files in the spool, want 1", len(entries))
	}
	// Twilio retries what it could not deliver: it gets a retryable status, not a 200.
	p := expect(t, down.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_DOWN", patientNumber, sharedLine, clinicALine)), 503).problem(t)
	if p["code"] != "unavailable" {
		t.Errorf("code %v", p["code"])
	}

	// The database is back: draining applies the report, once.
	n, err := b.jobs.DrainSpool(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("DrainSpool = %d, %v", n, err)
	}
	if entries, _ := os.ReadDir(b.spoolDir); len(entries) != 0 {
		t.Fatalf("%d files left in the spool", len(entries))
	}
	c := b.call(a, meta["call_id"].(string))
	if c["status"] != "ended" || c["transcript"] == nil || c["summary"] != "Patient booked a cleaning." {
		t.Fatalf("call after draining %v", c)
	}
	if n, _ := b.jobs.DrainSpool(context.Background()); n != 0 {
		t.Fatalf("a second drain moved %d", n)
	}
}

// A processing failure keeps the raw event with its error; reprocessing applies it.
func TestFailedEventIsKeptAndReprocessed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_FAIL", patientNumber, sharedLine, clinicALine)))
	meta := b.vapi.Calls()[0].Body["metadata"].(map[string]any)

	// Break applying reports: the tenant role may no longer write call details.
	if _, err := b.pool.Exec(ctx, "REVOKE INSERT, UPDATE ON call_details FROM switchboard_tenant"); err != nil {
		t.Fatal(err)
	}
	p := expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-call-1", meta)), 500).problem(t)
	if p["request_id"] == "" || strings.Contains(p["detail"].(string), "call_details") {
		t.Errorf("500 problem %v", p)
	}
	var status, errText string
	if err := b.pool.QueryRow(ctx, "SELECT status, coalesce(error, '') FROM webhook_events WHERE event_type = 'end-of-call-report'").Scan(&status, &errText); err != nil {
		t.Fatal(err)
	}
	if status != "failed" || !strings.Contains(errText, "permission denied") {
		t.Fatalf("event %s (%q), want failed with the error", status, errText)
	}
	if c := b.call(a, meta["call_id"].(string)); c["status"] != "initiated" || c["summary"] != nil {
		t.Fatalf("a failed report was half applied: %v", c)
	}

	// Repaired; and, as after a crash between storing and applying, an event left pending.
	if _, err := b.pool.Exec(ctx, "GRANT INSERT, UPDATE ON call_details TO switchboard_tenant"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.pool.Exec(ctx, `INSERT INTO webhook_events (provider, event_key, event_type, payload, next_attempt_at)
		VALUES ('twilio', 'status:CA_FAIL:in-progress', 'status', 'CallSid=CA_FAIL&CallStatus=in-progress', now() - interval '1 second')`); err != nil {
		t.Fatal(err)
	}
	// Not due yet: the failed event waits out its backoff.
	if n, err := b.jobs.Reprocess(ctx); err != nil || n != 1 {
		t.Fatalf("Reprocess = %d, %v; want only the pending event", n, err)
	}
	if _, err := b.pool.Exec(ctx, "UPDATE webhook_events SET next_attempt_at = now() WHERE status = 'failed'"); err != nil {
		t.Fatal(err)
	}
	if n, err := b.jobs.Reprocess(ctx); err != nil || n != 1 {
		t.Fatalf("Reprocess = %d, %v; want the failed event", n, err)
	}
	c := b.call(a, meta["call_id"].(string))
	if c["status"] != "ended" || c["transcript"] == nil {
		t.Fatalf("call after reprocessing %v", c)
	}
	if n := b.count("SELECT count(*) FROM webhook_events WHERE status = 'processed' AND attempts = 1"); n != 2 {
		t.Errorf("%d events processed by reprocessing, want 2", n)
	}
	if n, _ := b.jobs.Reprocess(ctx); n != 0 {
		t.Errorf("a second Reprocess attempted %d events", n)
	}
}

// Reprocessing a voice webhook long after the call records it but never dials VAPI.
func TestReprocessedVoiceEventRecordsWithoutHandoff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	form := providertest.InboundForm("CA_LATE", patientNumber, sharedLine, clinicALine)
	if _, err := b.pool.Exec(ctx, `INSERT INTO webhook_events (provider, event_key, event_type, payload, next_attempt_at)
		VALUES ('twilio', 'voice:CA_LATE', 'voice', $1, now() - interval '1 second')`, []byte(form.Encode())); err != nil {
		t.Fatal(err)
	}
	if n, err := b.jobs.Reprocess(ctx); err != nil || n != 1 {
		t.Fatalf("Reprocess = %d, %v", n, err)
	}
	if len(b.vapi.Calls()) != 0 {
		t.Fatal("reprocessing dialled VAPI")
	}
	calls := b.callsOf(a)
	if len(calls) != 1 || calls[0]["status"] != "failed" || calls[0]["ended_reason"] != "not_handed_off" {
		t.Fatalf("calls %v", calls)
	}
}
