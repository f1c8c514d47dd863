package calls_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/providertest"
	"github.com/switchboard-health/switchboard/internal/testkit"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

// A report whose applying failed keeps its error in the inbox; an event a stopped process
// left pending waits out its grace period; reprocessing applies both once they are due.
func TestReprocessAppliesFailedAndStrandedEvents(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, "")
	ctx := context.Background()
	b.registerLine()
	b.inboundCall("CA_FAIL")
	meta := b.metadata(0)

	// Break applying reports: the tenant role may no longer write call details.
	if _, err := b.pool.Exec(ctx, "REVOKE INSERT, UPDATE ON call_details FROM switchboard_tenant"); err != nil {
		t.Fatal(err)
	}
	if outcome, err := b.vapiMessage(providertest.EndOfCallReport("vapi-call-1", meta)); err == nil || outcome != calls.Failed {
		t.Fatalf("a report that cannot be applied: %s, %v", outcome, err)
	}
	var status, errText string
	if err := b.pool.QueryRow(ctx, "SELECT status, coalesce(error, '') FROM webhook_events WHERE event_type = 'end-of-call-report'").Scan(&status, &errText); err != nil {
		t.Fatal(err)
	}
	if status != "failed" || !strings.Contains(errText, "permission denied") {
		t.Fatalf("event %s (%q), want failed with the error", status, errText)
	}
	if c := b.call(meta["call_id"].(string)); c.CallSummary.Status != "initiated" || c.CallSummary.Summary != nil {
		t.Fatalf("a failed report was half applied: %+v", c.CallSummary)
	}

	// Repaired; and, as after a crash between storing and applying, an event left pending.
	if _, err := b.pool.Exec(ctx, "GRANT INSERT, UPDATE ON call_details TO switchboard_tenant"); err != nil {
		t.Fatal(err)
	}
	b.keep("twilio", "status:CA_FAIL:in-progress", "status", form(providertest.StatusForm("CA_FAIL", "in-progress")))
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
	if c := b.call(meta["call_id"].(string)); c.CallSummary.Status != "ended" || c.Transcript == nil {
		t.Fatalf("call after reprocessing %+v", c.CallSummary)
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
	b := setup(t, nil, "")
	b.registerLine()
	b.keep("twilio", "voice:CA_LATE", "voice", form(providertest.InboundForm("CA_LATE", patient, sharedLine, clinicLine)))
	if n, err := b.jobs.Reprocess(context.Background()); err != nil || n != 1 {
		t.Fatalf("Reprocess = %d, %v", n, err)
	}
	if len(b.vapi.Calls()) != 0 {
		t.Fatal("reprocessing dialled VAPI")
	}
	page, err := b.reader.List(context.Background(), clinic, calls.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Calls) != 1 || page.Calls[0].Status != "failed" || *page.Calls[0].EndedReason != "not_handed_off" {
		t.Fatalf("calls %+v", page.Calls)
	}
}

// VAPI sends its report once. With the database down it goes to the local spool, and
// draining the spool applies it, once, when the database is back.
func TestDrainSpoolAppliesWhatWaitedOnDisk(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, "")
	b.registerLine()
	b.inboundCall("CA_SPOOL")
	meta := b.metadata(0)

	down := setup(t, testpg.Unreachable(t), b.spoolDir)
	if outcome, err := down.vapiMessage(providertest.EndOfCallReport("vapi-call-1", meta)); err != nil || outcome != calls.Spooled {
		t.Fatalf("a report while the database is down: %s, %v", outcome, err)
	}
	if n, err := down.jobs.DrainSpool(context.Background()); err == nil || n != 0 {
		t.Fatalf("draining while the database is down moved %d (%v)", n, err)
	}
	if entries, _ := os.ReadDir(b.spoolDir); len(entries) != 1 {
		t.Fatalf("%d files in the spool, want 1", len(entries))
	}

	n, err := b.jobs.DrainSpool(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("DrainSpool = %d, %v", n, err)
	}
	if entries, _ := os.ReadDir(b.spoolDir); len(entries) != 0 {
		t.Fatalf("%d files left in the spool", len(entries))
	}
	if c := b.call(meta["call_id"].(string)); c.CallSummary.Status != "ended" || c.Transcript == nil || *c.CallSummary.Summary != "Patient booked a cleaning." {
		t.Fatalf("call after draining %+v", c.CallSummary)
	}
	if n, _ := b.jobs.DrainSpool(context.Background()); n != 0 {
		t.Fatalf("a second drain moved %d", n)
	}
}

// searchable returns how many of the clinic's calls a search finds.
func (b *bundle) searchable(q string) int {
	b.t.Helper()
	page, err := b.reader.List(context.Background(), clinic, calls.Filter{Query: &q})
	if err != nil {
		b.t.Fatal(err)
	}
	return len(page.Calls)
}

// reports makes n calls with their end-of-call reports.
func (b *bundle) reports(n int) {
	b.t.Helper()
	b.registerLine()
	for i := range n {
		b.inboundCall(fmt.Sprintf("CA_REPORT_%d", i))
		// The fake VAPI numbers its calls from 1.
		if _, err := b.vapiMessage(providertest.EndOfCallReport(fmt.Sprintf("vapi-call-%d", i+1), b.metadata(i))); err != nil {
			b.t.Fatal(err)
		}
	}
}

// A report is searchable once the indexer has run, not before: indexing is kept off the
// webhook's path. Each pass indexes no more than it is allowed; the rest wait.
func TestIndexSearchKeepsItsPace(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, "")
	b.reports(3)
	if n := b.searchable("cleaning"); n != 0 {
		t.Fatalf("%d calls found before indexing", n)
	}
	for _, want := range []int{2, 1, 0} {
		if n, err := b.jobs.IndexSearch(context.Background(), 2); err != nil || n != want {
			t.Fatalf("IndexSearch(2) = %d, %v; want %d", n, err, want)
		}
	}
	if n := b.searchable("cleaning"); n != 3 {
		t.Fatalf("after three passes %d calls are searchable, want 3", n)
	}
}

// While requests wait for a database connection, search indexing takes a tenth of its
// pace, and its full pace again once they stop waiting.
func TestSearchIndexerYieldsToWaitingRequests(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, "")
	b.reports(12)
	ctx := context.Background()
	hold := func() (held []*pgxpool.Conn) {
		for range b.pool.Stat().MaxConns() {
			c, err := b.pool.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
		return held
	}
	release := func(held []*pgxpool.Conn) {
		for _, c := range held {
			c.Release()
		}
	}
	release(hold()) // every connection exists: taking them all again waits for none
	indexer := b.jobs.SearchIndexer(10)
	before := b.pool.Stat().EmptyAcquireCount()

	// Every connection is taken, and a request waits for one. A request that starts only
	// after the connections are back waits for none, so the round is repeated until the
	// request has waited: the pool's count says when it did.
	testkit.Eventually(t, 10*time.Second, "a request waited for a connection", func() bool {
		held := hold()
		started, waited := make(chan struct{}), make(chan error)
		go func() {
			close(started)
			c, err := b.pool.Acquire(ctx)
			if err == nil {
				c.Release()
			}
			waited <- err
		}()
		<-started
		release(held)
		if err := <-waited; err != nil {
			t.Fatal(err)
		}
		return b.pool.Stat().EmptyAcquireCount() > before
	})

	for _, want := range []int{1, 10, 1} {
		if n, err := indexer.Pass(ctx); err != nil || n != want {
			t.Fatalf("pass indexed %d (%v), want %d", n, err, want)
		}
	}
}
