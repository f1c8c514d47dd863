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
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/pgtext"
	"github.com/switchboard-health/switchboard/internal/phonenumbers"
	"github.com/switchboard-health/switchboard/internal/routing"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/twilio"
	"github.com/switchboard-health/switchboard/internal/vapi"
)

// recorder keeps provider events in the inbox (inbox.go) and applies them to the call of
// the tenant Switchboard's own records say owns it. Intake applies live deliveries through
// it, Jobs reprocessed ones, so both apply an event the same way.
type recorder struct {
	db     *tenant.DB
	region string
	log    *slog.Logger
	now    func() time.Time
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
	// decision is how the call is routed, when this delivery decided it.
	decision routing.Decision
	// reply is the JSON VAPI is answered with (an assistant-request), when not an ack.
	reply []byte
}

// applyFunc applies an event inside s, the transaction that also records it.
type applyFunc func(ctx context.Context, s *tenant.Session) (result, error)

func ignore(note string) applyFunc {
	return func(context.Context, *tenant.Session) (result, error) {
		return result{outcome: Ignored, note: note}, nil
	}
}

// applyVoice records an inbound call for its owner. Exactly one delivery per CallSid
// creates the call row (the insert decides, across replicas); when live, it alone asks VAPI
// to take the call, after its transaction commits (res.created), and every other delivery
// answers with the TwiML the call keeps. Long after the call (reprocessing), the call is
// recorded as never handed off.
//
// A live delivery's first attempt inserts the call without waiting for a result: the
// insert travels with the inbox record and the commit, and committing proves it created
// the call. When the CallSid is recorded already, the insert fails the attempt, and the
// next one (after the event is stored on its own) finds the call as it is: with the owner
// on record, even when its numbers have changed hands since.
func (r *recorder) applyVoice(ctx context.Context, s *tenant.Session, in twilio.InboundCall, live, first bool) (result, error) {
	if !live || !first {
		if res, found, err := r.recordedCall(ctx, s, in.CallSid); err != nil || found {
			return res, err
		}
	}
	o, ok, err := r.resolveOwner(ctx, s.Service(), in)
	if err != nil {
		return result{}, err
	}
	if !ok {
		r.log.InfoContext(ctx, "inbound call with no registered owner rejected")
		return result{outcome: Unattributed, note: "no active registered number among ForwardedFrom, To and From", twiml: answer.Reject()}, nil
	}
	id, err := uuid.NewV7()
	if err != nil {
		return result{}, err
	}
	p := dbsqlc.CreateInboundCallParams{
		ID:              id,
		UserID:          string(o.userID),
		PhoneNumberID:   &o.phoneNumberID,
		Status:          string(StatusInitiated),
		CallerNumber:    canonicalOrRaw(in.From, r.region),
		ClinicNumber:    &o.number,
		AssistantNumber: canonicalOrRaw(in.To, r.region),
		MatchedBy:       &o.matchedBy,
		TwilioCallSid:   &in.CallSid,
	}
	res := result{outcome: Accepted, userID: o.userID, owner: o}
	if live {
		res.decision, res.twiml = r.route(o, in)
		routeParams(&p, res.decision, res.twiml)
	}
	if live && first {
		res.callID, res.created = &id, true
		return res, s.As(o.userID, func(q *dbsqlc.Queries) error {
			return q.InsertInboundCall(ctx, dbsqlc.InsertInboundCallParams(p))
		})
	}
	err = s.As(o.userID, func(q *dbsqlc.Queries) error { return createInbound(ctx, q, p, live, &res) })
	return res, err
}

// recordedCall finds the call recorded for callSid, with the TwiML Twilio was answered,
// in the tenant that owns it on record.
func (r *recorder) recordedCall(ctx context.Context, s *tenant.Session, callSid string) (result, bool, error) {
	ref, err := s.Service().FindCallOwnerBySid(ctx, callSid)
	if errors.Is(err, pgx.ErrNoRows) {
		return result{}, false, nil
	}
	if err != nil {
		return result{}, false, err
	}
	res := result{outcome: Accepted, userID: tenant.ID(ref.UserID), callID: &ref.ID}
	err = s.As(res.userID, func(q *dbsqlc.Queries) error {
		call, err := q.GetCallBySid(ctx, dbsqlc.GetCallBySidParams{UserID: ref.UserID, TwilioCallSid: &callSid})
		if call.Twiml != nil {
			res.twiml = *call.Twiml
		}
		return err
	})
	return res, true, err
}

// createInbound records the inbound call p describes and fills res with it; a call
// recorded meanwhile by another delivery is found instead.
func createInbound(ctx context.Context, q *dbsqlc.Queries, p dbsqlc.CreateInboundCallParams, live bool, res *result) error {
	call, err := q.CreateInboundCall(ctx, p)
	switch {
	case err == nil && live:
		res.callID, res.created = &call.ID, true
		return nil
	case err == nil:
		// Recorded only now, long after Twilio gave up on the call.
		res.callID, res.twiml = &call.ID, answer.Apology()
		return recordHandoff(ctx, q, res.owner, call.ID, handoff{twiml: res.twiml, failedReason: "not_handed_off"})
	case !errors.Is(err, pgx.ErrNoRows):
		return err
	}
	call, err = q.GetCallBySid(ctx, dbsqlc.GetCallBySidParams{UserID: p.UserID, TwilioCallSid: p.TwilioCallSid})
	if errors.Is(err, pgx.ErrNoRows) {
		return errs.Wrap(err, "CallSid recorded for another owner")
	}
	// The call was routed by the delivery that recorded it; its answer is the call's.
	res.callID, res.twiml, res.decision = &call.ID, "", routing.Decision{}
	if call.Twiml != nil {
		res.twiml = *call.Twiml
	}
	return err
}

// handoff is what became of asking VAPI to take a call.
type handoff struct {
	twiml  string
	vapiID *string // VAPI's call id, when it took the call
	// fallback is where the call went instead, when VAPI did not take it.
	fallback *routing.Decision
	// failedReason ends the call failed: it was never handed off (recorded too late).
	failedReason string
}

// recordHandoff keeps what Twilio was answered: the TwiML and, when VAPI took the call,
// its call id, else how the call was handled instead.
func recordHandoff(ctx context.Context, q *dbsqlc.Queries, o owner, callID uuid.UUID, h handoff) error {
	p := dbsqlc.RecordHandoffParams{UserID: string(o.userID), ID: callID, Twiml: &h.twiml, VapiCallID: h.vapiID,
		FailedReason: pgtext.Optional(h.failedReason)}
	if d := h.fallback; d != nil {
		p.Handling, p.HandlingReason, p.ForwardedTo = pgtext.Optional(string(d.Handling)), pgtext.Optional(d.Reason), pgtext.Optional(d.ForwardTo)
	}
	return q.RecordHandoff(ctx, p)
}

// applyStatus moves the call with the callback's CallSid forward.
func (r *recorder) applyStatus(ctx context.Context, s *tenant.Session, sc twilio.StatusCallback) (result, error) {
	status, reason, ok := StatusFromTwilio(sc.CallStatus)
	if !ok {
		return result{outcome: Ignored, note: "a CallStatus Twilio does not document"}, nil
	}
	ref, res, found, err := callBySid(ctx, s, sc.CallSid)
	if !found || err != nil {
		return res, err
	}
	return res, s.As(res.userID, func(q *dbsqlc.Queries) error {
		p := dbsqlc.AdvanceCallStatusParams{UserID: ref.UserID, ID: ref.ID, Status: string(status), DurationSeconds: sc.Duration}
		if reason != "" {
			p.EndedReason = &reason
		}
		return q.AdvanceCallStatus(ctx, p)
	})
}

// applyVapi stores a status update or an end-of-call report on the call Switchboard's
// records say it belongs to.
func (r *recorder) applyVapi(ctx context.Context, s *tenant.Session, msg vapi.Message) (result, error) {
	if _, tracked := StatusFromVAPI(msg.Status); msg.Type != vapi.TypeEndOfCallReport && (msg.Type != vapi.TypeStatusUpdate || !tracked) {
		return result{outcome: Ignored}, nil
	}
	ref, found, err := r.findVapiCall(ctx, s.Service(), msg)
	if err != nil {
		return result{}, err
	}
	if !found || (ref.id == uuid.Nil && msg.CallID == "") {
		r.log.WarnContext(ctx, "VAPI message for an unknown call kept unattributed", slog.String("type", msg.Type))
		return result{outcome: Unattributed, note: "no recorded call, and the metadata's number is not the metadata's tenant's"}, nil
	}
	var res result
	err = s.As(ref.userID, func(q *dbsqlc.Queries) error {
		res, err = r.applyToCall(ctx, q, ref, msg)
		return err
	})
	return res, err
}

// applyToCall stores a status update or an end-of-call report on the call ref names,
// through q, the owner's queries; a ref without a call id records the call VAPI reported.
func (r *recorder) applyToCall(ctx context.Context, q *dbsqlc.Queries, ref callRef, msg vapi.Message) (result, error) {
	if msg.Type == vapi.TypeEndOfCallReport {
		return r.storeReport(ctx, q, ref, msg)
	}
	status, ok := StatusFromVAPI(msg.Status)
	if !ok {
		return result{outcome: Ignored}, nil
	}
	res := result{outcome: Accepted, userID: ref.userID}
	if ref.id == uuid.Nil {
		c, err := q.InsertReportedCall(ctx, dbsqlc.InsertReportedCallParams{
			UserID:        string(ref.userID),
			PhoneNumberID: ref.phoneNumberID,
			VapiCallID:    &msg.CallID,
			CallerNumber:  canonicalOrRaw(msg.CustomerNumber, r.region),
			StartedAt:     msg.StartedAt,
		})
		if err != nil {
			return res, err
		}
		ref.id = c.ID
	}
	res.callID = &ref.id
	p := dbsqlc.AdvanceCallStatusParams{UserID: string(ref.userID), ID: ref.id, Status: string(status), VapiCallID: pgtext.Optional(msg.CallID)}
	if status.Final() {
		p.EndedReason = msg.EndedReason
	}
	return res, q.AdvanceCallStatus(ctx, p)
}

// storeReport stores an end-of-call report on the call ref names, recording the call when
// Switchboard never did.
func (r *recorder) storeReport(ctx context.Context, q *dbsqlc.Queries, ref callRef, msg vapi.Message) (result, error) {
	res := result{outcome: Accepted, userID: ref.userID}
	if ref.id == uuid.Nil {
		// Time-ordered, as the database's own call ids (see its uuid_v7).
		id, err := uuid.NewV7()
		if err != nil {
			return res, err
		}
		ref.id = id
	}
	res.callID = &ref.id
	return res, q.StoreEndOfCallReport(ctx, dbsqlc.StoreEndOfCallReportParams{
		ID:                 ref.id,
		UserID:             string(ref.userID),
		PhoneNumberID:      ref.phoneNumberID,
		VapiCallID:         pgtext.Optional(msg.CallID),
		CallerNumber:       canonicalOrRaw(msg.CustomerNumber, r.region),
		StartedAt:          msg.StartedAt,
		EndedAt:            msg.EndedAt,
		DurationSeconds:    msg.DurationSeconds(),
		EndedReason:        msg.EndedReason,
		RecordingUrl:       msg.RecordingURL,
		StereoRecordingUrl: msg.StereoRecordingURL,
		Summary:            msg.Summary,
		SuccessEvaluation:  msg.SuccessEvaluation,
		StructuredData:     json.RawMessage(msg.StructuredData),
		StructuredOutputs:  json.RawMessage(msg.StructuredOutputs),
		CostBreakdown:      json.RawMessage(msg.CostBreakdown),
		Cost:               msg.Cost,
		Transcript:         msg.Transcript,
		Messages:           json.RawMessage(msg.Messages),
	})
}

// reapply applies an event the inbox holds again, long after it arrived: a voice webhook
// is then recorded, never handed to VAPI.
func (r *recorder) reapply(ctx context.Context, s *tenant.Session, ev dbsqlc.ClaimDueWebhookEventsRow) (result, error) {
	switch {
	case ev.Provider == providerTwilio && ev.EventType == typeVoice:
		in, ok := parseInbound(ev.Payload)
		if !ok {
			return result{outcome: Ignored, note: "no CallSid"}, nil
		}
		return r.applyVoice(ctx, s, in, false, false)
	case ev.Provider == providerTwilio && ev.EventType == typeStatus:
		sc, ok := parseStatus(ev.Payload)
		if !ok {
			return result{outcome: Ignored, note: "no CallSid or unknown CallStatus"}, nil
		}
		return r.applyStatus(ctx, s, sc)
	case ev.Provider == providerTwilio && ev.EventType == typeDial:
		d, ok := parseForm(ev.Payload, twilio.ParseDial)
		if !ok {
			return result{outcome: Ignored, note: "no CallSid"}, nil
		}
		return r.applyDial(ctx, s, d)
	case ev.Provider == providerTwilio && (ev.EventType == typeVoicemail || ev.EventType == typeRecording):
		rec, ok := parseForm(ev.Payload, twilio.ParseRecording)
		if !ok {
			return result{outcome: Ignored, note: "no CallSid"}, nil
		}
		return r.applyRecording(ctx, s, rec)
	case ev.Provider == providerVapi:
		msg, err := vapi.Decode(ev.Payload)
		if err != nil {
			return result{outcome: Ignored, note: "not a VAPI server message"}, nil
		}
		return r.applyVapi(ctx, s, msg)
	default:
		return result{outcome: Ignored, note: "unknown event type"}, nil
	}
}

func canonicalOrRaw(raw, region string) *string {
	if n, ok := phonenumbers.Canonical(raw, region); ok {
		return &n
	}
	return pgtext.Optional(raw)
}
