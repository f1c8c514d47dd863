package calls

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/spool"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/vapi"
)

// Intake receives the provider messages that make up a call's life: Twilio's inbound call,
// which it hands to VAPI, Twilio's status callbacks, and VAPI's status updates and
// end-of-call report. Every message arrives here already authenticated; each is kept in the
// inbox, in the transaction that applies it or, when applying it fails or would wait,
// before it is applied.
type Intake struct {
	rec *recorder
	// caller records what a caller on the line waits for (the inbound call's hand-off,
	// a forward's outcome) on the database of Deps.CallerDB.
	caller      *recorder
	vapi        *vapi.Client
	spool       *spool.Spool
	log         *slog.Logger
	handoffWait time.Duration
}

// NewIntake returns the Intake.
func NewIntake(d Deps) *Intake {
	if d.HandoffWait == 0 {
		d.HandoffWait = 10 * time.Second
	}
	in := &Intake{rec: d.recorder(), vapi: d.VAPI, spool: d.Spool, log: d.Log, handoffWait: d.HandoffWait}
	in.caller = in.rec
	if d.CallerDB != nil {
		d.DB = d.CallerDB
		in.caller = d.recorder()
	}
	return in
}

var (
	errNoCallSid     = errs.New(errs.CodeValidationFailed, "The request has no CallSid.")
	errBadStatus     = errs.New(errs.CodeValidationFailed, "The request needs a CallSid and a CallStatus Twilio documents.")
	errNotVAPIServer = errs.New(errs.CodeValidationFailed, "The body is not a VAPI server message.")
)

// TwilioStatus receives a Twilio status callback. Returns Invalid for a body without a
// CallSid or with an unknown CallStatus.
func (in *Intake) TwilioStatus(ctx context.Context, body []byte, headers map[string]string) (Outcome, error) {
	sc, ok := parseStatus(body)
	ev := webhookEvent{Provider: providerTwilio, Type: typeStatus, Key: "status:" + sc.CallSid + ":" + sc.CallStatus, Payload: body, Headers: headers}
	if !ok {
		ev.Key = "invalid:" + digest(body)
		_, _, err := in.rec.receive(ctx, ev, false, ignore("no CallSid or unknown CallStatus"))
		return Ignored, errors.Join(errBadStatus, err)
	}
	res, _, err := in.rec.receive(ctx, ev, false, func(ctx context.Context, s *tenant.Session) (result, error) {
		return in.rec.applyStatus(ctx, s, sc)
	})
	return res.outcome, err
}

// VapiReply is what a VAPI server message is answered with.
type VapiReply struct {
	Outcome Outcome
	// Body is the JSON answer to an assistant-request; nil for every other message, which
	// is acknowledged.
	Body []byte
}

// VapiMessage receives a VAPI server message. When the database cannot be reached the
// message goes to the spool, because VAPI sends a report once (an assistant-request is
// then answered with a message the caller hears). Returns Invalid for a body that is not a
// server message.
func (in *Intake) VapiMessage(ctx context.Context, body []byte, headers map[string]string) (VapiReply, error) {
	res, stored, err := in.rec.receiveVapi(ctx, body, headers, nil)
	if stored || in.spool == nil || !errs.Is(err, errs.Unavailable) {
		return VapiReply{Outcome: res.outcome, Body: res.reply}, err
	}
	if _, serr := in.spool.Put(spool.Record{ReceivedAt: time.Now().UTC(), Headers: headers, Body: body}); serr != nil {
		return VapiReply{Outcome: Failed}, errors.Join(err, serr)
	}
	in.log.WarnContext(ctx, "database unavailable: VAPI message spooled")
	return VapiReply{Outcome: Spooled, Body: res.reply}, nil
}
