package calls

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/routing"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/vapi"
)

// Reconcile finishes calls that are still open although they started before olderThan
// ago: VAPI sends its end-of-call report once, and one lost on the way would leave the call
// open for ever. It asks VAPI for each call and stores what the report would have stored;
// a call VAPI does not know, or that never reached VAPI, ends failed with the reason. It
// returns how many calls it looked at. Calls it cannot settle now (VAPI unavailable, or the
// call still live on VAPI) are looked at again next time.
func (j *Jobs) Reconcile(ctx context.Context, olderThan time.Duration) (int, error) {
	var stale []dbsqlc.ListStaleOpenCallsRow
	err := j.rec.db.Service(ctx, func(q *dbsqlc.Queries) (err error) {
		stale, err = q.ListStaleOpenCalls(ctx, dbsqlc.ListStaleOpenCallsParams{
			StartedBefore: time.Now().Add(-olderThan), BatchSize: 100,
		})
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, c := range stale {
		ref := callRef{id: c.ID, userID: tenant.ID(c.UserID)}
		if err := j.reconcileCall(ctx, ref, c.VapiCallID, c.Handling); err != nil {
			j.log.WarnContext(ctx, "reconciling a call failed; it is tried again later",
				slog.String("call_id", c.ID.String()), slog.String("error", err.Error()))
		}
	}
	return len(stale), nil
}

func (j *Jobs) reconcileCall(ctx context.Context, ref callRef, vapiCallID, handling *string) error {
	if vapiCallID == nil && handling != nil && (*handling == string(routing.Forwarded) || *handling == string(routing.Voicemail)) {
		// Routed to a human or to voicemail, never to VAPI: the call took place, and only
		// Twilio's final status never came (no status callback set on the line).
		return j.endCall(ctx, ref, StatusEnded, "final_status_not_received")
	}
	if vapiCallID == nil {
		// Never handed to VAPI (the process stopped mid hand-off): nothing will report it.
		return j.failCall(ctx, ref, "handoff_incomplete")
	}
	body, found, err := j.vapi.GetCall(ctx, *vapiCallID)
	if err != nil {
		return err
	}
	if !found {
		return j.failCall(ctx, ref, "vapi_call_not_found")
	}
	msg, status, err := vapi.DecodeCall(body)
	if err != nil {
		return err
	}
	if status != "ended" {
		msg.Type, msg.Status = vapi.TypeStatusUpdate, status
	}
	err = j.rec.db.Tx(ctx, ref.userID, func(q *dbsqlc.Queries) error {
		_, err := j.rec.applyToCall(ctx, q, ref, msg)
		return err
	})
	if err == nil && status == "ended" {
		j.log.InfoContext(ctx, "reconciled a call whose report never arrived", slog.String("call_id", ref.id.String()))
	}
	return err
}

func (j *Jobs) failCall(ctx context.Context, ref callRef, reason string) error {
	return j.endCall(ctx, ref, StatusFailed, reason)
}

func (j *Jobs) endCall(ctx context.Context, ref callRef, status Status, reason string) error {
	return j.rec.db.Tx(ctx, ref.userID, func(q *dbsqlc.Queries) error {
		return q.AdvanceCallStatus(ctx, dbsqlc.AdvanceCallStatusParams{
			UserID: string(ref.userID), ID: ref.id, Status: string(status), EndedReason: &reason,
		})
	})
}
