package calls_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/internal/spool"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/vapi"

	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/providertest"
)

// Once a call is bound to a VAPI call, a message about another VAPI call never writes to
// it, whatever metadata.call_id says: the report lands on a call of its own.
func TestAReportForAnotherVAPICallNeverWritesToABoundCall(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, "")
	b.registerLine()
	b.inboundCall("CA_BOUND")
	meta := b.metadata(0) // the hand-off bound the call to vapi-call-1
	other := providertest.EndOfCallReport("vapi-call-other", meta)
	other["analysis"] = map[string]any{"summary": "Someone else's call."}
	other["artifact"] = map[string]any{"transcript": "AI: Not this call."}
	if outcome, err := b.vapiMessage(other); err != nil || outcome != calls.Accepted {
		t.Fatalf("the other call's report: %s, %v", outcome, err)
	}
	bound := b.call(meta["call_id"].(string))
	if bound.CallSummary.Summary != nil || bound.Transcript != nil || *bound.CallSummary.VapiCallID != "vapi-call-1" {
		t.Fatalf("the bound call took another VAPI call's report: %+v", bound.CallSummary)
	}
	if n := b.count("SELECT count(*) FROM calls WHERE vapi_call_id = 'vapi-call-other' AND summary = 'Someone else''s call.'"); n != 1 {
		t.Fatalf("%d calls hold the other report, want its own one", n)
	}
	// The call's own report still lands on it.
	if _, err := b.vapiMessage(providertest.EndOfCallReport("vapi-call-1", meta)); err != nil {
		t.Fatal(err)
	}
	if bound := b.call(meta["call_id"].(string)); bound.CallSummary.Summary == nil || *bound.CallSummary.Summary != "Patient booked a cleaning." {
		t.Fatalf("the call's own report: %+v", bound.CallSummary)
	}
}

// A Twilio retry for a CallSid whose number has changed hands since is answered with the
// TwiML the call was given, and the call stays its owner's.
func TestATwilioRetryAfterTheNumberChangedHandsAnswersAsBefore(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, "")
	line := b.registerLine()
	first, _ := b.inboundCall("CA_MOVED")
	ctx := context.Background()
	if _, err := b.pool.Exec(ctx, "DELETE FROM phone_numbers WHERE id = $1", line.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.pool.Exec(ctx, "INSERT INTO assistants (vapi_assistant_id, user_id) VALUES ('asst_new', 'user_new_owner')"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.pool.Exec(ctx, `INSERT INTO phone_numbers (user_id, phone_number, vapi_assistant_id, vapi_phone_number_id,
		verification_status, verified_at, verified_by) VALUES ('user_new_owner', $1, 'asst_new', 'vpn_new', 'verified', now(), 'operator')`, clinicLine); err != nil {
		t.Fatal(err)
	}
	again, outcome := b.inboundCall("CA_MOVED")
	if again.TwiML != first.TwiML || outcome != calls.Duplicate {
		t.Fatalf("the retry answered %q (%s), want the first answer %q", again.TwiML, outcome, first.TwiML)
	}
	if n := b.count("SELECT count(*) FROM calls WHERE user_id = 'user_new_owner'"); n != 0 || len(b.vapi.Calls()) != 1 {
		t.Fatalf("the retry made %d calls for the new owner and %d hand-offs", n, len(b.vapi.Calls()))
	}
}

// An event is its key and its content: the same bytes again are a duplicate; a different
// message about the same call is an event of its own, applied on its own, and it never
// marks a failed event processed without that event being applied.
func TestAnEventIsItsKeyAndItsContent(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, "")
	ctx := context.Background()
	b.registerLine()
	b.inboundCall("CA_KEYS")
	meta := b.metadata(0)
	first := providertest.EndOfCallReport("vapi-call-1", meta)

	if _, err := b.pool.Exec(ctx, "REVOKE INSERT, UPDATE ON call_details FROM switchboard_tenant"); err != nil {
		t.Fatal(err)
	}
	if outcome, _ := b.vapiMessage(first); outcome != calls.Failed {
		t.Fatalf("the first report: %s, want failed", outcome)
	}
	if _, err := b.pool.Exec(ctx, "GRANT INSERT, UPDATE ON call_details TO switchboard_tenant"); err != nil {
		t.Fatal(err)
	}
	// A corrected report about the same call: applied as an event of its own.
	corrected := providertest.EndOfCallReport("vapi-call-1", meta)
	corrected["analysis"] = map[string]any{"summary": "Corrected summary."}
	if outcome, err := b.vapiMessage(corrected); err != nil || outcome != calls.Accepted {
		t.Fatalf("the corrected report: %s, %v", outcome, err)
	}
	if n := b.count("SELECT count(*) FROM webhook_events WHERE event_type = 'end-of-call-report' AND status = 'failed'"); n != 1 {
		t.Fatalf("%d failed events after the corrected report, want the first one still failed", n)
	}
	if c := b.call(meta["call_id"].(string)); *c.CallSummary.Summary != "Corrected summary." {
		t.Fatalf("summary %q", *c.CallSummary.Summary)
	}
	// The corrected report again, byte for byte: a duplicate, applied as nothing new.
	if outcome, err := b.vapiMessage(corrected); err != nil || outcome != calls.Duplicate {
		t.Fatalf("the same report again: %s, %v; want a duplicate", outcome, err)
	}
	if n := b.count("SELECT count(*) FROM webhook_events WHERE event_type = 'end-of-call-report'"); n != 2 {
		t.Fatalf("%d report events, want two (one per content)", n)
	}
}

// Provider text PostgreSQL could not store (NUL characters, invalid UTF-8) is kept with
// those bytes replaced, so the message is applied instead of failing for ever.
func TestProviderTextIsKeptWithBadBytesReplaced(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, "")
	b.registerLine()
	form := providertest.InboundForm("CA_NUL\x00", patient+"\x00", sharedLine, clinicLine)
	answer, err := b.intake.TwilioVoice(context.Background(), []byte(form.Encode()), nil)
	if err != nil || answer.Record(context.Background()) != calls.Accepted {
		t.Fatalf("a voice webhook with NUL bytes: %v", err)
	}
	meta := b.metadata(0)
	report := providertest.EndOfCallReport("vapi-call-1", meta)
	report["artifact"] = map[string]any{
		"transcript": "AI: Hello.\x00 User: caf\xe9",
		"messages":   []any{map[string]any{"role": "user", "message": "\x00"}},
	}
	if outcome, err := b.vapiMessage(report); err != nil || outcome != calls.Accepted {
		t.Fatalf("a report with NUL bytes: %s, %v", outcome, err)
	}
	c := b.call(meta["call_id"].(string))
	if c.Transcript == nil || *c.Transcript != "AI: Hello.\uFFFD User: caf\uFFFD" || *c.CallSummary.TwilioCallSid != "CA_NUL\uFFFD" {
		t.Fatalf("stored %+v, transcript %q", c.CallSummary, *c.Transcript)
	}
	if n := b.count("SELECT count(*) FROM webhook_events WHERE status = 'failed'"); n != 0 {
		t.Fatalf("%d events failed", n)
	}
}

// A caller on the line is answered while reports, reads and background work hold every
// connection of the main pool: Twilio's voice webhook has connections of its own.
func TestAnInboundCallIsAnsweredWhileTheMainPoolIsBusy(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, "")
	b.registerLine()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(b.pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	busy, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	held, err := busy.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	sp, err := spool.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	in := calls.NewIntake(calls.Deps{DB: tenant.NewDB(busy), CallerDB: b.db,
		VAPI: vapi.NewClient(b.vapi.URL(), providertest.VAPIKey, 2*time.Second), Spool: sp, Region: "US",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	// Twilio gives up on a webhook after 15 s; a call waiting for the busy pool would
	// still be waiting when this ends.
	answerBy, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	body := []byte(providertest.InboundForm("CA_BUSY", patient, sharedLine, clinicLine).Encode())
	answer, err := in.TwilioVoice(answerBy, body, nil)
	if err != nil {
		t.Fatalf("the call was not answered while the main pool was busy: %v", err)
	}
	outcome := answer.Record(answerBy)
	if bound := b.count("SELECT count(*) FROM calls WHERE twilio_call_sid = 'CA_BUSY' AND vapi_call_id IS NOT NULL"); outcome != calls.Accepted || bound != 1 {
		t.Fatalf("the hand-off was %s, %d calls bound to VAPI's; want it accepted and recorded", outcome, bound)
	}
}
