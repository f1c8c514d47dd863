package calls

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/vapi"
)

// Outcome is what became of one webhook delivery.
type Outcome string

// Outcomes.
const (
	// Accepted: stored and applied.
	Accepted Outcome = "accepted"
	// Duplicate: the event was already in the inbox; nothing new was applied.
	Duplicate Outcome = "duplicate"
	// Unattributed: stored, but no tenant owns it; no tenant sees it.
	Unattributed Outcome = "unattributed"
	// Ignored: stored; a kind of event Switchboard does not act on.
	Ignored Outcome = "ignored"
	// Spooled: the database was unreachable; kept on local disk until it is back.
	Spooled Outcome = "spooled"
	// Failed: stored, but applying it failed; reprocessing will try again.
	Failed Outcome = "failed"
)

// Providers and event types as the inbox records them.
const (
	providerTwilio = "twilio"
	providerVapi   = "vapi"
	typeVoice      = "voice"
	typeStatus     = "status"
)

// webhookEvent is one authenticated webhook request as the inbox keeps it.
type webhookEvent struct {
	Provider   string
	Type       string
	Key        string // what makes two deliveries the same event
	Payload    []byte // the body as received
	Headers    map[string]string
	ReceivedAt *time.Time // when it is not now (a spooled request)
}

// result is what applying an event produced.
type result struct {
	outcome Outcome
	note    string // why an event was ignored or unattributed; stored with it
	userID  tenant.ID
	callID  *uuid.UUID
	twiml   string
	eventID int64 // the event's row in the inbox
	// created: this delivery recorded the inbound call, so it alone hands it to VAPI.
	created bool
	owner   owner
}

// applyFunc applies an event inside s, the transaction that also records it.
type applyFunc func(ctx context.Context, s *tenant.Session) (result, error)

// lockWait bounds how long applying an event, in the transaction that also stores it, may
// wait for a row another transaction holds. Past it the event is stored on its own first,
// so that an event never waits long without being on disk.
const lockWait = 250 * time.Millisecond

// receive stores ev and applies it. The usual delivery is stored and applied in one
// transaction, with one commit. A repeat delivery of an applied event is applied again
// (applying is idempotent: it changes nothing) and reported as a duplicate; its TwiML, for
// the voice webhook, is the one the call keeps. An event whose applying fails or waits for
// a lock takes the longer way: it is stored on its own, durably, and then applied, and a
// failure is recorded with it for reprocessing; there, a repeat of an event already
// applied is not applied again unless applyRepeats (the voice webhook). stored reports
// whether the event is safely in the inbox.
func (l *Lifecycle) receive(ctx context.Context, ev webhookEvent, applyRepeats bool, apply applyFunc) (res result, stored bool, err error) {
	res, err = l.storeApplied(ctx, ev, apply)
	switch {
	case err == nil:
		return res, true, nil
	case errs.Is(err, errs.Unavailable):
		return result{outcome: Failed}, false, err
	}
	// A repeat of a voice webhook (a Twilio retry) fails its first attempt on the CallSid
	// already recorded; that is routine, and only other failures warn the operator.
	level := slog.LevelWarn
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.ConstraintName == callSidKey {
		level = slog.LevelInfo
	}
	l.log.Log(ctx, level, "webhook not applied at once; storing it first", slog.String("provider", ev.Provider),
		slog.String("type", ev.Type), slog.String("error", err.Error()))
	return l.storeThenApply(ctx, ev, applyRepeats, apply)
}

// callSidKey is the unique constraint that makes a CallSid one call.
const callSidKey = "calls_twilio_call_sid_key"

// storeApplied applies ev and stores it with its outcome in the same transaction; the
// inbox row is its last statement and carries the commit.
func (l *Lifecycle) storeApplied(ctx context.Context, ev webhookEvent, apply applyFunc) (result, error) {
	var res result
	err := l.db.Atomically(ctx, lockWait, func(s *tenant.Session) error {
		var err error
		if res, err = apply(ctx, s); err != nil {
			return err
		}
		headers, err := json.Marshal(ev.Headers)
		if err != nil {
			return err
		}
		p := dbsqlc.RecordAppliedWebhookEventParams{
			Provider: ev.Provider, EventKey: ev.Key, EventType: ev.Type, Payload: ev.Payload,
			Headers: headers, ReceivedAt: ev.ReceivedAt, UserID: userOf(res), CallID: res.callID,
		}
		p.Status, p.Error = outcomeOf(res, nil)
		res.eventID, err = s.Last().RecordAppliedWebhookEvent(ctx, p)
		if errors.Is(err, pgx.ErrNoRows) {
			res.outcome, res.eventID = Duplicate, 0
			l.log.InfoContext(ctx, "webhook duplicate", slog.String("provider", ev.Provider), slog.String("type", ev.Type))
			return nil
		}
		return err
	})
	return res, err
}

// storeThenApply keeps ev in the inbox, durably, or finds it there when it is a repeat
// delivery, and then applies it.
func (l *Lifecycle) storeThenApply(ctx context.Context, ev webhookEvent, applyRepeats bool, apply applyFunc) (result, bool, error) {
	st, err := l.store(ctx, ev)
	if err != nil {
		return result{outcome: Failed}, false, err
	}
	// The delivery that stored the event records its outcome; so does a retry of one
	// that failed. Other repeats leave the record to them.
	if st.inserted || st.status == "failed" {
		res, err := l.applyStored(ctx, st.id, apply)
		return res, true, err
	}
	if !applyRepeats {
		l.log.InfoContext(ctx, "webhook duplicate", slog.String("provider", ev.Provider), slog.String("type", ev.Type), slog.Int64("event_id", st.id))
		return result{outcome: Duplicate, eventID: st.id}, true, nil
	}
	var res result
	err = l.db.Atomically(ctx, 0, func(s *tenant.Session) error {
		var err error
		res, err = apply(ctx, s)
		return err
	})
	res.eventID = st.id
	if err == nil {
		res.outcome = Duplicate
	}
	return res, true, err
}

type storedEvent struct {
	id       int64
	status   string
	inserted bool
}

// store puts ev in the inbox as pending, or finds it there when it is a repeat delivery.
func (l *Lifecycle) store(ctx context.Context, ev webhookEvent) (storedEvent, error) {
	headers, err := json.Marshal(ev.Headers)
	if err != nil {
		return storedEvent{}, err
	}
	row, err := l.system.InsertWebhookEvent(ctx, dbsqlc.InsertWebhookEventParams{
		Provider: ev.Provider, EventKey: ev.Key, EventType: ev.Type, Payload: ev.Payload,
		Headers: headers, ReceivedAt: ev.ReceivedAt,
	})
	if err == nil {
		return storedEvent{id: row.ID, status: row.Status, inserted: true}, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return storedEvent{}, tenant.DatabaseError(err)
	}
	// A separate statement: the insert's snapshot may predate the row it collided with.
	existing, err := l.system.GetWebhookEventByKey(ctx, dbsqlc.GetWebhookEventByKeyParams{Provider: ev.Provider, EventKey: ev.Key})
	if err != nil {
		return storedEvent{}, tenant.DatabaseError(err)
	}
	return storedEvent{id: existing.ID, status: existing.Status}, nil
}

// applyStored applies an event the inbox holds and records how that ended in the same
// transaction; a failure is recorded on its own, for reprocessing.
func (l *Lifecycle) applyStored(ctx context.Context, id int64, apply applyFunc) (result, error) {
	var res result
	err := l.db.Atomically(ctx, 0, func(s *tenant.Session) error {
		var err error
		if res, err = apply(ctx, s); err != nil {
			return err
		}
		return s.Last().FinishWebhookEvent(ctx, finishParams(id, res, nil))
	})
	res.eventID = id
	if err != nil {
		l.finish(ctx, id, res, err)
	}
	return res, err
}

// finish records how applying an event ended, on its own and without waiting for the
// disk. Its own failure (or loss in a crash) leaves the event as it was, and reprocessing
// applies it again, which is harmless.
func (l *Lifecycle) finish(ctx context.Context, id int64, res result, applyErr error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	p := finishParams(id, res, applyErr)
	if err := l.db.Bookkeeping(ctx, func(q *dbsqlc.Queries) error { return q.FinishWebhookEvent(ctx, p) }); err != nil {
		l.log.ErrorContext(ctx, "recording a webhook outcome", slog.Int64("event_id", id), slog.String("error", err.Error()))
	}
	if applyErr != nil {
		l.log.ErrorContext(ctx, "webhook processing failed; kept for reprocessing", slog.Int64("event_id", id), slog.String("error", applyErr.Error()))
	}
}

func finishParams(id int64, res result, applyErr error) dbsqlc.FinishWebhookEventParams {
	p := dbsqlc.FinishWebhookEventParams{ID: id, CallID: res.callID, UserID: userOf(res)}
	p.Status, p.Error = outcomeOf(res, applyErr)
	return p
}

// outcomeOf is the inbox status an event ends with, and the error or note kept with it.
func outcomeOf(res result, applyErr error) (status string, note *string) {
	switch {
	case applyErr != nil:
		return "failed", ptr(truncate(applyErr.Error(), 2000))
	case res.outcome == Unattributed:
		status = "unattributed"
	case res.outcome == Ignored:
		status = "ignored"
	default:
		status = "processed"
	}
	if res.note != "" {
		note = ptr(res.note)
	}
	return status, note
}

func userOf(res result) *string {
	if res.userID == "" {
		return nil
	}
	return ptr(string(res.userID))
}

// Reprocess applies the inbox's due events again: those whose processing failed, and
// those left pending by a process that stopped before applying them. Applying is
// idempotent, so an event applied twice ends as if applied once. It returns how many
// events it attempted.
func (l *Lifecycle) Reprocess(ctx context.Context) (int, error) {
	n := 0
	for {
		events, err := l.system.ClaimDueWebhookEvents(ctx, dbsqlc.ClaimDueWebhookEventsParams{MaxAttempts: maxAttempts, BatchSize: 50})
		if err != nil {
			return n, tenant.DatabaseError(err)
		}
		if len(events) == 0 {
			return n, nil
		}
		for _, ev := range events {
			_, _ = l.applyStored(ctx, ev.ID, func(ctx context.Context, s *tenant.Session) (result, error) {
				return l.reapply(ctx, s, ev)
			})
			n++
		}
	}
}

// InboxBacklog returns how many events wait to be applied and how long the oldest failed
// one has waited.
func (l *Lifecycle) InboxBacklog(ctx context.Context) (int64, time.Duration, error) {
	row, err := l.system.InboxBacklog(ctx)
	if err != nil {
		return 0, 0, tenant.DatabaseError(err)
	}
	return row.Backlog, time.Duration(row.OldestFailedSeconds * float64(time.Second)), nil
}

// SpoolLen returns how many VAPI messages wait on local disk.
func (l *Lifecycle) SpoolLen() int {
	if l.spool == nil {
		return 0
	}
	return l.spool.Len()
}

// IndexSearch computes up to max of the search vectors that reports made stale, and
// returns how many it computed. Parsing an 18 KB transcript into a tsvector costs
// PostgreSQL 2 to 5 ms, several times what storing the report does, so serve does it in
// the background, through a SearchIndexer.
func (l *Lifecycle) IndexSearch(ctx context.Context, max int) (int, error) {
	total := 0
	for total < max {
		n, err := l.system.IndexStaleCallSearch(ctx, int32(min(max-total, 100)))
		if err != nil {
			return total, tenant.DatabaseError(err)
		}
		total += int(n)
		if n == 0 {
			break
		}
	}
	return total, nil
}

// SearchIndexer keeps search up to date in the background without competing with the
// requests: each pass (serve makes one a second) indexes up to rate reports, but only a
// tenth of that when requests had to wait for a database connection since the last pass.
// A burst of reports is then indexed mostly after it, and a report is searchable about a
// second after it arrived otherwise.
type SearchIndexer struct {
	l     *Lifecycle
	rate  int
	waits int64 // the pool's count of acquisitions that had to wait, at the last pass
}

// SearchIndexer returns an indexer that indexes up to rate reports a pass.
func (l *Lifecycle) SearchIndexer(rate int) *SearchIndexer {
	return &SearchIndexer{l: l, rate: rate, waits: l.pool.Stat().EmptyAcquireCount()}
}

// Pass indexes this pass's share and returns how many reports it indexed.
func (s *SearchIndexer) Pass(ctx context.Context) (int, error) {
	share := s.rate
	if s.l.pool.Stat().EmptyAcquireCount() > s.waits {
		share = max(1, s.rate/10)
	}
	n, err := s.l.IndexSearch(ctx, share)
	// The pass's own acquisitions do not count as the requests'.
	s.waits = s.l.pool.Stat().EmptyAcquireCount()
	return n, err
}

// PruneEvents drops live-update history older than a day.
func (l *Lifecycle) PruneEvents(ctx context.Context) error {
	_, err := l.system.PruneCallEvents(ctx)
	return tenant.DatabaseError(err)
}

// maxAttempts bounds reprocessing; an event that failed this often waits for an operator.
const maxAttempts = 10

func (l *Lifecycle) reapply(ctx context.Context, s *tenant.Session, ev dbsqlc.ClaimDueWebhookEventsRow) (result, error) {
	switch {
	case ev.Provider == providerTwilio && ev.EventType == typeVoice:
		in, ok := parseInbound(ev.Payload)
		if !ok {
			return result{outcome: Ignored, note: "no CallSid"}, nil
		}
		// Long after the call, so never hand it to VAPI: record it.
		return l.applyVoice(ctx, s, in, false, false)
	case ev.Provider == providerTwilio && ev.EventType == typeStatus:
		sc, ok := parseStatus(ev.Payload)
		if !ok {
			return result{outcome: Ignored, note: "no CallSid or unknown CallStatus"}, nil
		}
		return l.applyStatus(ctx, s, sc)
	case ev.Provider == providerVapi:
		msg, err := vapi.Decode(ev.Payload)
		if err != nil {
			return result{outcome: Ignored, note: "not a VAPI server message"}, nil
		}
		return l.applyVapi(ctx, s, msg)
	default:
		return result{outcome: Ignored, note: "unknown event type"}, nil
	}
}

func ptr[T any](v T) *T { return &v }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
