package calls

import (
	"context"
	"errors"
	"net/url"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/routing"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/twilio"
)

// The rest of a call Twilio asks about once the inbound call was answered with a forward
// or a voicemail: how a forward went, and the voicemail left. Each is kept in the inbox and
// applied like every webhook.
const (
	typeDial      = "dial"
	typeVoicemail = "voicemail"
	typeRecording = "recording"
)

// TwilioDial receives the action of a forward's <Dial> and returns the TwiML for the rest
// of the call: a forward nobody answered goes to the clinic's voicemail. The TwiML is there
// even when err is not nil (the caller must hear something); err is Invalid for a body
// without a CallSid.
func (in *Intake) TwilioDial(ctx context.Context, body []byte, headers map[string]string) (string, Outcome, error) {
	d, ok := parseForm(body, twilio.ParseDial)
	ev := webhookEvent{Provider: providerTwilio, Type: typeDial, Key: "dial:" + d.CallSid, Payload: body, Headers: headers}
	if !ok {
		ev.Key = "invalid:" + digest(body)
		_, _, err := in.caller.receive(ctx, ev, false, ignore("no CallSid"))
		return answer.Voicemail(""), Ignored, errors.Join(errNoCallSid, err)
	}
	// Repeats are applied again (it changes nothing), so that each delivery is answered.
	res, _, err := in.caller.receive(ctx, ev, true, func(ctx context.Context, s *tenant.Session) (result, error) {
		return in.caller.applyDial(ctx, s, d)
	})
	switch {
	case res.twiml != "":
		return res.twiml, res.outcome, err
	case d.Answered():
		return answer.Hangup(), res.outcome, err
	default:
		return answer.Voicemail(""), res.outcome, err
	}
}

// TwilioVoicemail receives the action of the voicemail's <Record>: the caller is done. The
// answer thanks them and ends the call, whatever storing the recording did.
func (in *Intake) TwilioVoicemail(ctx context.Context, body []byte, headers map[string]string) (string, Outcome, error) {
	outcome, err := in.receiveRecording(ctx, body, headers, typeVoicemail)
	return answer.Goodbye(), outcome, err
}

// TwilioRecording receives the voicemail recording's status callback.
func (in *Intake) TwilioRecording(ctx context.Context, body []byte, headers map[string]string) (Outcome, error) {
	return in.receiveRecording(ctx, body, headers, typeRecording)
}

func (in *Intake) receiveRecording(ctx context.Context, body []byte, headers map[string]string, typ string) (Outcome, error) {
	rec, ok := parseForm(body, twilio.ParseRecording)
	ev := webhookEvent{Provider: providerTwilio, Type: typ, Key: typ + ":" + rec.CallSid + ":" + rec.RecordingSid + ":" + rec.Status, Payload: body, Headers: headers}
	if !ok {
		ev.Key = "invalid:" + digest(body)
		_, _, err := in.rec.receive(ctx, ev, false, ignore("no CallSid"))
		return Ignored, errors.Join(errNoCallSid, err)
	}
	res, _, err := in.rec.receive(ctx, ev, false, func(ctx context.Context, s *tenant.Session) (result, error) {
		return in.rec.applyRecording(ctx, s, rec)
	})
	return res.outcome, err
}

// applyDial applies a forward's outcome to the call with its CallSid: unanswered, the call
// goes to voicemail with the clinic's greeting.
func (r *recorder) applyDial(ctx context.Context, s *tenant.Session, d twilio.DialOutcome) (result, error) {
	row, err := s.Service().FindCallRouting(ctx, d.CallSid)
	if errors.Is(err, pgx.ErrNoRows) {
		return result{outcome: Unattributed, note: "no call with this CallSid"}, nil
	}
	if err != nil {
		return result{}, err
	}
	res := result{outcome: Accepted, userID: tenant.ID(row.UserID), callID: &row.ID}
	if d.Answered() {
		res.twiml = answer.Hangup()
		return res, nil
	}
	res.twiml = answer.Voicemail(r.policyOf(ctx, row.Policy).VoicemailGreeting)
	return res, s.As(res.userID, func(q *dbsqlc.Queries) error {
		return q.RouteToVoicemail(ctx, dbsqlc.RouteToVoicemailParams{UserID: row.UserID, ID: row.ID, HandlingReason: ptr(routing.ReasonForwardUnanswered)})
	})
}

// applyRecording keeps a usable voicemail recording on the call with its CallSid.
func (r *recorder) applyRecording(ctx context.Context, s *tenant.Session, rec twilio.Recording) (result, error) {
	if !rec.Usable() {
		return result{outcome: Ignored, note: "no completed recording"}, nil
	}
	ref, res, found, err := callBySid(ctx, s, rec.CallSid)
	if !found || err != nil {
		return res, err
	}
	return res, s.As(res.userID, func(q *dbsqlc.Queries) error {
		return q.StoreVoicemail(ctx, dbsqlc.StoreVoicemailParams{UserID: ref.UserID, ID: ref.ID,
			VoicemailRecordingSid: &rec.RecordingSid, VoicemailDurationSeconds: rec.Duration})
	})
}

// parseForm reads a form body with parse; ok is false for a body that is not a form or
// that parse refuses.
func parseForm[T any](body []byte, parse func(url.Values) (T, bool)) (T, bool) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		var zero T
		return zero, false
	}
	return parse(form)
}
