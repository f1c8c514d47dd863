package calls_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/providertest"
)

// The inbox drops payloads past their retention: applied and ignored events after the
// short window, failed and unattributed ones after the long one, pending ones never; the
// rows stay, so a repeat of a pruned delivery is still recognised as a duplicate.
func TestTheInboxDropsPayloadsPastTheirRetention(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, "")
	b.registerLine()
	ctx := context.Background()
	b.inboundCall("CA_PRUNED")
	report := providertest.EndOfCallReport("vapi-call-1", b.metadata(0))
	if outcome, err := b.vapiMessage(report); err != nil || outcome != calls.Accepted {
		t.Fatalf("the report: %v, %v", outcome, err)
	}
	for _, e := range []struct{ key, status, age string }{
		{"old-processed", "processed", "4 days"},
		{"new-processed", "processed", "1 day"},
		{"old-ignored", "ignored", "4 days"},
		{"old-failed", "failed", "4 days"},
		{"ancient-failed", "failed", "40 days"},
		{"ancient-unattributed", "unattributed", "40 days"},
		{"ancient-pending", "pending", "40 days"},
	} {
		if _, err := b.pool.Exec(ctx, `INSERT INTO webhook_events (provider, event_key, event_type, payload, headers, status, received_at)
			VALUES ('twilio', $1, 'status', 'CallSid=CA1', '{"user-agent":"TwilioProxy/1.1"}', $2, now() - $3::interval)`, e.key, e.status, e.age); err != nil {
			t.Fatal(err)
		}
	}
	// The call's events arrived days ago, as far as the inbox is concerned.
	if _, err := b.pool.Exec(ctx, "UPDATE webhook_events SET received_at = now() - interval '4 days' WHERE event_key LIKE 'voice:%' OR provider = 'vapi'"); err != nil {
		t.Fatal(err)
	}

	n, err := b.jobs.PruneInbox(ctx, 72*time.Hour, 30*24*time.Hour)
	if err != nil || n != 6 {
		t.Fatalf("PruneInbox = %d, %v; want the 6 events past their retention (4 kept above, the call's voice webhook and report)", n, err)
	}
	pruned := map[string]bool{}
	rows, err := b.pool.Query(ctx, "SELECT event_key, payload IS NULL AND headers = '{}'::jsonb AND payload_pruned_at IS NOT NULL FROM webhook_events")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var key string
		var p bool
		if err := rows.Scan(&key, &p); err != nil {
			t.Fatal(err)
		}
		pruned[key] = p
	}
	rows.Close()
	for key, want := range map[string]bool{"old-processed": true, "old-ignored": true, "ancient-failed": true, "ancient-unattributed": true,
		"new-processed": false, "old-failed": false, "ancient-pending": false} {
		if pruned[key] != want {
			t.Errorf("%s: pruned %v, want %v", key, pruned[key], want)
		}
	}
	// The report's payload is gone, its call keeps what it stored, and the same bytes
	// again are still a duplicate.
	if n := b.count("SELECT count(*) FROM webhook_events WHERE provider = 'vapi' AND payload IS NULL"); n != 1 {
		t.Fatalf("the applied report kept its payload")
	}
	if outcome, err := b.vapiMessage(report); err != nil || outcome != calls.Duplicate {
		t.Fatalf("a repeat of a pruned report: %v, %v", outcome, err)
	}
	if n := b.count("SELECT count(*) FROM calls WHERE vapi_call_id = 'vapi-call-1' AND summary IS NOT NULL"); n != 1 {
		t.Fatal("the call lost its report with the inbox payload")
	}
	// Nothing is pruned twice, and reprocessing never picks up an event without a payload.
	if n, err := b.jobs.PruneInbox(ctx, 72*time.Hour, 30*24*time.Hour); n != 0 || err != nil {
		t.Fatalf("a second pass pruned %d, %v", n, err)
	}
	if _, err := b.pool.Exec(ctx, "UPDATE webhook_events SET next_attempt_at = now() - interval '1 minute' WHERE event_key = 'ancient-failed'"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.jobs.Reprocess(ctx); err != nil {
		t.Fatal(err)
	}
	if n := b.count("SELECT attempts FROM webhook_events WHERE event_key = 'ancient-failed'"); n != 0 {
		t.Fatalf("reprocessing attempted an event without its payload (%d attempts)", n)
	}
}
