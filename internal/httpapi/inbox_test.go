package httpapi_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/switchboard-health/switchboard/internal/providertest"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

// VAPI sends its report once. With the database down it is still answered 200, since it
// waits in the local spool; Twilio, which retries, gets a retryable 503.
func TestReportSpooledWhileDatabaseIsDown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_SPOOL", patientNumber, sharedLine, clinicALine)))
	meta := b.vapi.Calls()[0].Body["metadata"].(map[string]any)

	down := setup(t, setupOptions{pool: testpg.Unreachable(t), spoolDir: b.spoolDir})
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

	// Draining the spool once the database is back is the calls package's to test
	// (TestDrainSpoolAppliesWhatWaitedOnDisk).
}

// A processing failure answers a 500 that names no internals, and keeps the raw event
// with its error.
func TestFailedEventIsKeptWithItsError(t *testing.T) {
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

	// Reprocessing it once repaired is the calls package's to test
	// (TestReprocessAppliesFailedAndStrandedEvents).
}
