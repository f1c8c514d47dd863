package calls

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/routing"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/twilio"
	"github.com/switchboard-health/switchboard/internal/vapi"
)

// VoiceAnswer is what Twilio's voice webhook is answered with. When this delivery handed
// the call to VAPI, the hand-off is recorded by Record, after the answer is sent, so that
// the caller is not kept waiting for that write.
type VoiceAnswer struct {
	TwiML string
	// VAPITime is how long asking VAPI took, when this delivery asked it (else zero).
	VAPITime time.Duration

	outcome Outcome
	record  func(ctx context.Context) Outcome // nil when nothing is left to record
}

// Record keeps what the answer gave (VAPI's call id, or why the call failed), and returns
// what became of the delivery. Call it once the answer is sent; it outlives ctx's
// cancellation, since VAPI may already have taken the call and its id must be kept.
func (a VoiceAnswer) Record(ctx context.Context) Outcome {
	if a.record == nil {
		return a.outcome
	}
	return a.record(context.WithoutCancel(ctx))
}

// TwilioVoice receives Twilio's inbound-call webhook (its form body) and returns the
// answer; the caller sends it and then calls its Record. Returns Invalid for a body
// without a CallSid, and Unavailable or Internal when the event could not be applied
// (Twilio retries those).
func (in *Intake) TwilioVoice(ctx context.Context, body []byte, headers map[string]string) (VoiceAnswer, error) {
	call, ok := parseInbound(body)
	ev := webhookEvent{Provider: providerTwilio, Type: typeVoice, Key: "voice:" + call.CallSid, Payload: body, Headers: headers}
	if !ok {
		ev.Key = "invalid:" + digest(body)
		_, _, err := in.caller.receive(ctx, ev, false, ignore("no CallSid"))
		return VoiceAnswer{outcome: Ignored}, errors.Join(errNoCallSid, err)
	}
	// receive applies at most twice: first in the transaction that also keeps the event,
	// then, when that failed, after keeping it on its own. Only the first attempt may
	// insert the call without reading the result (see applyVoice).
	first := true
	res, _, err := in.caller.receive(ctx, ev, true, func(ctx context.Context, s *tenant.Session) (result, error) {
		res, err := in.caller.applyVoice(ctx, s, call, true, first)
		first = false
		return res, err
	})
	switch {
	case err != nil:
		return VoiceAnswer{outcome: Failed}, err
	case res.created && res.twiml != "":
		// Routed where no assistant is asked (a human, voicemail, a rejection): the
		// answer was recorded with the call.
		return VoiceAnswer{TwiML: res.twiml, outcome: res.outcome}, nil
	case res.created:
		// The call row is committed, so this delivery alone hands the call to VAPI.
		return in.handOff(context.WithoutCancel(ctx), res, call), nil
	case res.twiml == "" && res.callID != nil:
		// Another delivery recorded the call and is handing it off.
		return VoiceAnswer{TwiML: in.awaitTwiML(ctx, res.userID, call.CallSid), outcome: res.outcome}, nil
	default:
		return VoiceAnswer{TwiML: res.twiml, outcome: res.outcome}, nil
	}
}

// handOff asks VAPI to take the call res recorded, and returns the answer for Twilio with
// the hand-off still to record. When VAPI does not take the call, the caller goes to the
// clinic's fallback: its human number, or voicemail.
func (in *Intake) handOff(ctx context.Context, res result, call twilio.InboundCall) VoiceAnswer {
	start := time.Now()
	h := handoff{}
	var reason string
	h.twiml, h.vapiID, reason = in.askVAPI(ctx, res.owner, res.decision, *res.callID, call)
	if reason != "" {
		fallback := res.owner.policy.Fallback(res.decision, reason)
		h.fallback, h.twiml = &fallback, in.caller.twimlFor(res.owner.policy, fallback, call.From)
	}
	record := func(ctx context.Context) Outcome {
		// Its commit does not wait for the disk: the call row and the inbox event are
		// durable already, and should a crash lose this record, VAPI's own messages (found
		// through metadata.call_id) fill in its call id.
		err := in.caller.db.Redoable(ctx, res.owner.userID, func(q *dbsqlc.Queries) error {
			return recordHandoff(ctx, q, res.owner, *res.callID, h)
		})
		if err != nil {
			// The caller has the assistant or the fallback, but recording that failed:
			// the event is marked for reprocessing.
			in.caller.finish(ctx, res.eventID, res, err)
			return Failed
		}
		return res.outcome
	}
	return VoiceAnswer{TwiML: h.twiml, VAPITime: time.Since(start), outcome: res.outcome, record: record}
}

// askVAPI asks VAPI to have the decision's assistant take the call, telling it where the
// clinic stands, and returns VAPI's TwiML and call id, or why it could not.
func (in *Intake) askVAPI(ctx context.Context, o owner, d routing.Decision, callID uuid.UUID, call twilio.InboundCall) (twiml string, vapiID *string, failedReason string) {
	if d.AssistantID == "" || o.vapiPhoneNumberID == nil || *o.vapiPhoneNumberID == "" {
		return "", nil, routing.ReasonNoAssistant
	}
	vc, err := in.vapi.CreateCall(ctx, vapi.CreateCallRequest{
		PhoneNumberID:  *o.vapiPhoneNumberID,
		AssistantID:    d.AssistantID,
		CustomerNumber: call.From,
		Metadata: vapi.Metadata{
			UserID:        string(o.userID),
			CallID:        callID.String(),
			PhoneNumberID: o.phoneNumberID.String(),
			TwilioCallSid: call.CallSid,
		},
		VariableValues: o.policy.Variables(d),
		HIPAA:          o.hipaa,
	})
	if err != nil {
		in.log.WarnContext(ctx, "VAPI did not take the call; routing to the fallback", slog.String("call_id", callID.String()), slog.String("error", err.Error()))
		return "", nil, routing.ReasonVAPIUnavailable
	}
	return vc.TwiML, &vc.ID, ""
}

// awaitTwiML waits for the delivery that created the call to store its TwiML. If none
// appears in time (that delivery is stuck or died), the caller is offered voicemail rather
// than a second assistant: the message attaches to the call by its CallSid.
func (in *Intake) awaitTwiML(ctx context.Context, user tenant.ID, callSid string) string {
	ctx, cancel := context.WithTimeout(ctx, in.handoffWait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var twiml *string
		err := in.caller.db.Read(ctx, user, func(q *dbsqlc.Queries) error {
			c, err := q.GetCallBySid(ctx, dbsqlc.GetCallBySidParams{UserID: string(user), TwilioCallSid: &callSid})
			twiml = c.Twiml
			return err
		})
		if err == nil && twiml != nil {
			return *twiml
		}
		select {
		case <-ctx.Done():
			in.log.WarnContext(ctx, "repeat voice webhook gave up waiting for the hand-off; offering voicemail")
			return answer.Voicemail("")
		case <-tick.C:
		}
	}
}
