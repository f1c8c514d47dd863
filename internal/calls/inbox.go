package calls

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

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

// lockWait bounds how long applying an event, in the transaction that also stores it, may
// wait for a row another transaction holds. Past it the event is stored on its own first,
// so that an event never waits long without being on disk.
const lockWait = 250 * time.Millisecond

// receive stores ev and applies it. The usual delivery is stored and applied in one
// transaction, with one commit. A repeat delivery of an applied event is applied again in
// a transaction that is then rolled back, and reported as a duplicate; its TwiML, for
// the voice webhook, is the one the call keeps. An event whose applying fails or waits for
// a lock takes the longer way: it is stored on its own, durably, and then applied, and a
// failure is recorded with it for reprocessing; there, a repeat of an event already
// applied is not applied again unless applyRepeats (the voice webhook). stored reports
// whether the event is safely in the inbox.
func (r *recorder) receive(ctx context.Context, ev webhookEvent, applyRepeats bool, apply applyFunc) (res result, stored bool, err error) {
	// The key says what a message is about; its digest, which delivery of which content
	// it is. A repeat of the same bytes is the same event, a duplicate. Different content
	// about the same thing (a corrected report) is an event of its own, applied on its own:
	// it never passes for a repeat, and never stands in for an event that failed.
	ev.Key += "#" + digest(ev.Payload)
	res, err = r.storeApplied(ctx, ev, apply)
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
	if errors.As(err, &pgErr) && (pgErr.ConstraintName == callSidKey || pgErr.ConstraintName == callSidLookupKey) {
		level = slog.LevelInfo
	}
	r.log.Log(ctx, level, "webhook not applied at once; storing it first", slog.String("provider", ev.Provider),
		slog.String("type", ev.Type), slog.String("error", err.Error()))
	res, stored, err = r.storeThenApply(ctx, ev, applyRepeats, apply)
	if err != nil {
		// Whatever applying had found before it failed, the delivery failed.
		res.outcome = Failed
	}
	return res, stored, err
}

// receiveVapi keeps a VAPI message in the inbox and applies it; receivedAt is when it
// arrived, when that was not now (a spooled message). stored reports whether the message
// is safely in the inbox. An assistant-request's answer is res.reply.
func (r *recorder) receiveVapi(ctx context.Context, body []byte, headers map[string]string, receivedAt *time.Time) (res result, stored bool, err error) {
	msg, err := vapi.Decode(body)
	if err != nil {
		ev := webhookEvent{Provider: providerVapi, Type: "malformed", Key: "malformed:" + digest(body), Payload: body, Headers: headers, ReceivedAt: receivedAt}
		_, stored, serr := r.receive(ctx, ev, false, ignore("not a VAPI server message"))
		return result{outcome: Ignored}, stored, errors.Join(errNotVAPIServer, serr)
	}
	ev := webhookEvent{Provider: providerVapi, Type: msg.Type, Key: vapiKey(msg, body), Payload: body, Headers: headers, ReceivedAt: receivedAt}
	apply, applyRepeats := func(ctx context.Context, s *tenant.Session) (result, error) {
		return r.applyVapi(ctx, s, msg)
	}, false
	if msg.Type == vapi.TypeAssistantRequest && receivedAt == nil {
		// Answered live only: a spooled request was answered long ago. Each delivery is
		// answered, repeats from the call the first one recorded.
		apply, applyRepeats = func(ctx context.Context, s *tenant.Session) (result, error) {
			return r.applyAssistantRequest(ctx, s, msg)
		}, true
	}
	res, stored, err = r.receive(ctx, ev, applyRepeats, apply)
	if !stored {
		res.outcome = Failed
	}
	if msg.Type == vapi.TypeAssistantRequest && res.reply == nil {
		// Routing failed (the database is down): the caller hears why rather than silence.
		res, _ = reply(res, assistantReply{Error: sayUnavailable})
	}
	return res, stored, err
}

// The constraints a second call with a recorded CallSid fails on: the tenant's own, or the
// lookup that keeps CallSids unique across tenants.
const (
	callSidKey       = "calls_user_twilio_call_sid_key"
	callSidLookupKey = "call_sids_pkey"
)

// storeApplied applies ev and stores it with its outcome in the same transaction; the
// inbox row is its last statement and carries the commit.
func (r *recorder) storeApplied(ctx context.Context, ev webhookEvent, apply applyFunc) (result, error) {
	var res result
	err := r.db.Atomically(ctx, lockWait, func(s *tenant.Session) error {
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
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == repeatCode {
		// A repeat of an event already applied: what applying it again wrote is rolled
		// back, so that a repeat never undoes what happened since (an erasure above all).
		// Nothing it wrote stands: in particular it created no call to hand off.
		res.outcome, res.eventID, res.created = Duplicate, 0, false
		r.log.InfoContext(ctx, "webhook duplicate", slog.String("provider", ev.Provider), slog.String("type", ev.Type))
		return res, nil
	}
	return res, err
}

// repeatCode is the SQLSTATE with which recording a repeat of an applied event fails the
// transaction (see RecordAppliedWebhookEvent).
const repeatCode = "SW001"

// storeThenApply keeps ev in the inbox, durably, or finds it there when it is a repeat
// delivery, and then applies it.
func (r *recorder) storeThenApply(ctx context.Context, ev webhookEvent, applyRepeats bool, apply applyFunc) (result, bool, error) {
	st, err := r.store(ctx, ev)
	if err != nil {
		return result{outcome: Failed}, false, err
	}
	// The delivery that stored the event records its outcome; so does a retry of one
	// that failed. Other repeats leave the record to them.
	if st.inserted || st.status == "failed" {
		res, err := r.applyStored(ctx, st.id, apply)
		return res, true, err
	}
	if !applyRepeats {
		r.log.InfoContext(ctx, "webhook duplicate", slog.String("provider", ev.Provider), slog.String("type", ev.Type), slog.Int64("event_id", st.id))
		return result{outcome: Duplicate, eventID: st.id}, true, nil
	}
	var res result
	err = r.db.Atomically(ctx, 0, func(s *tenant.Session) error {
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
func (r *recorder) store(ctx context.Context, ev webhookEvent) (storedEvent, error) {
	headers, err := json.Marshal(ev.Headers)
	if err != nil {
		return storedEvent{}, err
	}
	var st storedEvent
	err = r.db.Service(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.InsertWebhookEvent(ctx, dbsqlc.InsertWebhookEventParams{
			Provider: ev.Provider, EventKey: ev.Key, EventType: ev.Type, Payload: ev.Payload,
			Headers: headers, ReceivedAt: ev.ReceivedAt,
		})
		if err == nil {
			st = storedEvent{id: row.ID, status: row.Status, inserted: true}
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		// A separate statement: the insert's snapshot may predate the row it collided with.
		existing, err := q.GetWebhookEventByKey(ctx, dbsqlc.GetWebhookEventByKeyParams{Provider: ev.Provider, EventKey: ev.Key})
		st = storedEvent{id: existing.ID, status: existing.Status}
		return err
	})
	return st, err
}

// applyStored applies an event the inbox holds and records how that ended in the same
// transaction; a failure is recorded on its own, for reprocessing.
func (r *recorder) applyStored(ctx context.Context, id int64, apply applyFunc) (result, error) {
	var res result
	err := r.db.Atomically(ctx, 0, func(s *tenant.Session) error {
		var err error
		if res, err = apply(ctx, s); err != nil {
			return err
		}
		return s.Last().FinishWebhookEvent(ctx, finishParams(id, res, nil))
	})
	res.eventID = id
	if err != nil {
		r.finish(ctx, id, res, err)
	}
	return res, err
}

// finish records how applying an event ended, on its own. Its own failure (or loss in a crash) leaves the event as it was, and reprocessing
// applies it again, which is harmless.
func (r *recorder) finish(ctx context.Context, id int64, res result, applyErr error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	p := finishParams(id, res, applyErr)
	if err := r.db.Service(ctx, func(q *dbsqlc.Queries) error { return q.FinishWebhookEvent(ctx, p) }); err != nil {
		r.log.ErrorContext(ctx, "recording a webhook outcome", slog.Int64("event_id", id), slog.String("error", err.Error()))
	}
	if applyErr != nil {
		r.log.ErrorContext(ctx, "webhook processing failed; kept for reprocessing", slog.Int64("event_id", id), slog.String("error", applyErr.Error()))
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

func ptr[T any](v T) *T { return &v }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
