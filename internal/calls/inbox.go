package calls

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/tenant"
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
}

type storedEvent struct {
	id       int64
	status   string
	inserted bool
}

// store puts ev in the inbox, or finds it there when it is a repeat delivery.
func (l *Lifecycle) store(ctx context.Context, ev webhookEvent) (storedEvent, error) {
	headers, err := json.Marshal(ev.Headers)
	if err != nil {
		return storedEvent{}, err
	}
	row, err := l.system.InsertWebhookEvent(ctx, dbsqlc.InsertWebhookEventParams{
		Provider:   ev.Provider,
		EventKey:   ev.Key,
		EventType:  ev.Type,
		Payload:    ev.Payload,
		Headers:    headers,
		ReceivedAt: ev.ReceivedAt,
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

// receive stores ev, applies it and records how that ended. A repeat of an event that was
// already applied is not applied again unless applyRepeats (the voice webhook, whose
// repeats must get the same TwiML and whose applying is idempotent). stored reports
// whether the event is safely in the inbox.
func (l *Lifecycle) receive(ctx context.Context, ev webhookEvent, applyRepeats bool, apply func(context.Context) (result, error)) (res result, stored bool, err error) {
	st, err := l.store(ctx, ev)
	if err != nil {
		return result{outcome: Failed}, false, err
	}
	// The delivery that stored the event records its outcome; so does a retry of one
	// that failed. Other repeats leave the record to them.
	owner := st.inserted || st.status == "failed"
	if !owner && !applyRepeats {
		l.log.InfoContext(ctx, "webhook duplicate", slog.String("provider", ev.Provider), slog.String("type", ev.Type), slog.Int64("event_id", st.id))
		return result{outcome: Duplicate}, true, nil
	}
	res, err = apply(ctx)
	if owner {
		l.finish(ctx, st.id, res, err)
	} else if err == nil {
		res.outcome = Duplicate
	}
	return res, true, err
}

// finish records how applying an event ended, without waiting for the disk. Its own
// failure (or loss in a crash) leaves the event pending, and reprocessing applies it
// again, which is harmless.
func (l *Lifecycle) finish(ctx context.Context, id int64, res result, applyErr error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	p := dbsqlc.FinishWebhookEventParams{ID: id, CallID: res.callID}
	if res.userID != "" {
		u := string(res.userID)
		p.UserID = &u
	}
	switch {
	case applyErr != nil:
		p.Status = "failed"
		p.Error = ptr(truncate(applyErr.Error(), 2000))
	case res.outcome == Unattributed:
		p.Status = "unattributed"
	case res.outcome == Ignored:
		p.Status = "ignored"
	default:
		p.Status = "processed"
	}
	if applyErr == nil && res.note != "" {
		p.Error = ptr(res.note)
	}
	if err := l.db.Bookkeeping(ctx, func(q *dbsqlc.Queries) error { return q.FinishWebhookEvent(ctx, p) }); err != nil {
		l.log.ErrorContext(ctx, "recording a webhook outcome", slog.Int64("event_id", id), slog.String("error", err.Error()))
	}
	if applyErr != nil {
		l.log.ErrorContext(ctx, "webhook processing failed; kept for reprocessing", slog.Int64("event_id", id), slog.String("error", applyErr.Error()))
	}
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
			res, err := l.reapply(ctx, ev)
			l.finish(ctx, ev.ID, res, err)
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

// IndexSearch computes the search vectors that reports made stale, and returns how many.
// serve runs it every second, so a report is searchable about a second after it arrived.
func (l *Lifecycle) IndexSearch(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := l.system.IndexStaleCallSearch(ctx, 100)
		if err != nil {
			return total, tenant.DatabaseError(err)
		}
		total += int(n)
		if n == 0 {
			return total, nil
		}
	}
}

// PruneEvents drops live-update history older than a day.
func (l *Lifecycle) PruneEvents(ctx context.Context) error {
	_, err := l.system.PruneCallEvents(ctx)
	return tenant.DatabaseError(err)
}

// maxAttempts bounds reprocessing; an event that failed this often waits for an operator.
const maxAttempts = 10

func (l *Lifecycle) reapply(ctx context.Context, ev dbsqlc.ClaimDueWebhookEventsRow) (result, error) {
	switch {
	case ev.Provider == providerTwilio && ev.EventType == typeVoice:
		in, ok := parseInbound(ev.Payload)
		if !ok {
			return result{outcome: Ignored, note: "no CallSid"}, nil
		}
		// Long after the call, so never hand it to VAPI: record it.
		return l.applyVoice(ctx, in, false)
	case ev.Provider == providerTwilio && ev.EventType == typeStatus:
		sc, ok := parseStatus(ev.Payload)
		if !ok {
			return result{outcome: Ignored, note: "no CallSid or unknown CallStatus"}, nil
		}
		return l.applyStatus(ctx, sc)
	case ev.Provider == providerVapi:
		return l.applyVapiPayload(ctx, ev.Payload)
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
