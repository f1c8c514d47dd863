package calls

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/phonenumbers"
	"github.com/switchboard-health/switchboard/internal/spool"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/twilio"
	"github.com/switchboard-health/switchboard/internal/vapi"
)

// Lifecycle receives the webhooks that make up a call's life: Twilio's inbound call, which
// it hands to VAPI, Twilio's status callbacks, and VAPI's status updates and end-of-call
// report. Every event is kept in the inbox, in the transaction that applies it or, when
// applying it fails or would wait, before it is applied; it is applied to the call of the
// tenant Switchboard's own records say owns it.
type Lifecycle struct {
	system *dbsqlc.Queries // the owner lookups and the inbox, outside any tenant
	pool   *pgxpool.Pool
	db     *tenant.DB
	vapi   *vapi.Client
	spool  *spool.Spool
	region string
	log    *slog.Logger
	// handoffWait bounds how long a repeat of a voice webhook waits for the first
	// delivery's TwiML; Twilio gives up on a webhook after 15 s.
	handoffWait time.Duration
}

// LifecycleConfig is what a Lifecycle needs.
type LifecycleConfig struct {
	Pool        *pgxpool.Pool
	VAPI        *vapi.Client
	Spool       *spool.Spool // where VAPI messages wait while the database is down; may be nil
	Region      string       // for reading numbers without a country code
	Log         *slog.Logger
	HandoffWait time.Duration // default 10 s
}

// NewLifecycle returns a Lifecycle.
func NewLifecycle(c LifecycleConfig) *Lifecycle {
	if c.HandoffWait == 0 {
		c.HandoffWait = 10 * time.Second
	}
	return &Lifecycle{
		system:      dbsqlc.New(c.Pool),
		pool:        c.Pool,
		db:          tenant.NewDB(c.Pool),
		vapi:        c.VAPI,
		spool:       c.Spool,
		region:      c.Region,
		log:         c.Log,
		handoffWait: c.HandoffWait,
	}
}

var errNoCallSid = errs.E(errs.Invalid, "validation_failed", "The request has no CallSid.")

// TwilioVoice receives Twilio's inbound-call webhook (its form body, already
// authenticated) and answers it: answer is called once with the TwiML, as soon as it is
// known, and with how long asking VAPI took when this delivery asked it (else zero). The
// hand-off is recorded after answering, so the caller is not kept waiting for that write.
// An error is returned only when answer was not called: Invalid for a body without a
// CallSid, Unavailable or Internal when the event could not be applied (Twilio retries
// those).
func (l *Lifecycle) TwilioVoice(ctx context.Context, body []byte, headers map[string]string, answer func(twiml string, vapi time.Duration)) (Outcome, error) {
	in, ok := parseInbound(body)
	ev := webhookEvent{Provider: providerTwilio, Type: typeVoice, Key: "voice:" + in.CallSid, Payload: body, Headers: headers}
	if !ok {
		ev.Key = "invalid:" + digest(body)
		_, _, err := l.receive(ctx, ev, false, ignore("no CallSid"))
		return Ignored, errors.Join(errNoCallSid, err)
	}
	// receive applies at most twice: first in the transaction that also keeps the event,
	// then, when that failed, after keeping it on its own. Only the first attempt may
	// insert the call without reading the result (see applyVoice).
	first := true
	res, _, err := l.receive(ctx, ev, true, func(ctx context.Context, s *tenant.Session) (result, error) {
		res, err := l.applyVoice(ctx, s, in, true, first)
		first = false
		return res, err
	})
	switch {
	case err != nil:
		return Failed, err
	case res.created:
		// The call row is committed, so this delivery alone hands the call to VAPI. The
		// hand-off must outlive a caller that hangs up mid-request: VAPI may already have
		// taken the call, and its id must be kept.
		ctx = context.WithoutCancel(ctx)
		start := time.Now()
		twiml, vapiID, failedReason := l.handOff(ctx, res.owner, *res.callID, in)
		answer(twiml, time.Since(start))
		if err := l.recordHandoff(ctx, res.owner, *res.callID, twiml, vapiID, failedReason); err != nil {
			// VAPI took the call but recording that failed: the caller still has the
			// assistant, and the event is marked for reprocessing.
			l.finish(ctx, res.eventID, res, err)
			return Failed, nil
		}
	case res.twiml == "" && res.callID != nil:
		// Another delivery recorded the call and is handing it off.
		answer(l.awaitTwiML(ctx, res.userID, in.CallSid), 0)
	default:
		answer(res.twiml, 0)
	}
	return res.outcome, nil
}

// TwilioStatus receives a Twilio status callback. Returns Invalid for a body without a
// CallSid or with an unknown CallStatus.
func (l *Lifecycle) TwilioStatus(ctx context.Context, body []byte, headers map[string]string) (Outcome, error) {
	sc, ok := parseStatus(body)
	ev := webhookEvent{Provider: providerTwilio, Type: typeStatus, Key: "status:" + sc.CallSid + ":" + sc.CallStatus, Payload: body, Headers: headers}
	if !ok {
		ev.Key = "invalid:" + digest(body)
		_, _, err := l.receive(ctx, ev, false, ignore("no CallSid or unknown CallStatus"))
		return Ignored, errors.Join(errs.E(errs.Invalid, "validation_failed", "The request needs a CallSid and a CallStatus Twilio documents."), err)
	}
	res, _, err := l.receive(ctx, ev, false, func(ctx context.Context, s *tenant.Session) (result, error) {
		return l.applyStatus(ctx, s, sc)
	})
	return res.outcome, err
}

// VapiMessage receives a VAPI server message (already authenticated). When the database
// cannot be reached the message goes to the spool, because VAPI sends a report once.
// Returns Invalid for a body that is not a server message.
func (l *Lifecycle) VapiMessage(ctx context.Context, body []byte, headers map[string]string) (Outcome, error) {
	return l.receiveVapi(ctx, body, headers, nil, true)
}

func (l *Lifecycle) receiveVapi(ctx context.Context, body []byte, headers map[string]string, receivedAt *time.Time, spoolIfDown bool) (Outcome, error) {
	msg, err := vapi.Decode(body)
	if err != nil {
		ev := webhookEvent{Provider: providerVapi, Type: "malformed", Key: "malformed:" + digest(body), Payload: body, Headers: headers, ReceivedAt: receivedAt}
		_, _, serr := l.receive(ctx, ev, false, ignore("not a VAPI server message"))
		return Ignored, errors.Join(errs.E(errs.Invalid, "validation_failed", "The body is not a VAPI server message."), serr)
	}
	ev := webhookEvent{Provider: providerVapi, Type: msg.Type, Key: vapiKey(msg, body), Payload: body, Headers: headers, ReceivedAt: receivedAt}
	res, stored, err := l.receive(ctx, ev, false, func(ctx context.Context, s *tenant.Session) (result, error) {
		return l.applyVapi(ctx, s, msg)
	})
	if !stored && spoolIfDown && l.spool != nil && errs.Is(err, errs.Unavailable) {
		if _, serr := l.spool.Put(spool.Record{ReceivedAt: time.Now().UTC(), Headers: headers, Body: body}); serr != nil {
			return Failed, errors.Join(err, serr)
		}
		l.log.WarnContext(ctx, "database unavailable: VAPI message spooled", slog.String("type", msg.Type))
		return Spooled, nil
	}
	if !stored {
		return Failed, err
	}
	return res.outcome, err
}

// DrainSpool moves spooled VAPI messages into the inbox and applies them, oldest first.
// It stops at the first one the database does not take, and returns how many it moved.
func (l *Lifecycle) DrainSpool(ctx context.Context) (int, error) {
	if l.spool == nil {
		return 0, nil
	}
	names, err := l.spool.Names()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		rec, err := l.spool.Get(name)
		if err != nil {
			l.log.ErrorContext(ctx, "unreadable spool record left in place", slog.String("name", name), slog.String("error", err.Error()))
			continue
		}
		_, err = l.receiveVapi(ctx, rec.Body, rec.Headers, &rec.ReceivedAt, false)
		if errs.Is(err, errs.Unavailable) {
			return n, err
		}
		// In the inbox now, applied or kept there for reprocessing.
		if err := l.spool.Remove(name); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// owner is the registered number that owns a call.
type owner struct {
	userID            tenant.ID
	phoneNumberID     uuid.UUID
	number            string
	assistantID       *string
	vapiPhoneNumberID *string
	matchedBy         string
}

// resolveOwner decides which clinic owns an inbound call, among active registered numbers:
// the line that forwarded the call, then the line it was made to (a dedicated line), then
// the line it came from (a clinic calling from its own line). A shared assistant line is
// registered by nobody, so calls to it are owned through ForwardedFrom or From.
func (l *Lifecycle) resolveOwner(ctx context.Context, q *dbsqlc.Queries, in twilio.InboundCall) (owner, bool, error) {
	type rule struct{ matchedBy, number string }
	var rules []rule
	var numbers []string
	for _, r := range []rule{{"forwarded_from", in.ForwardedFrom}, {"to", in.To}, {"from", in.From}} {
		if n, ok := phonenumbers.Canonical(r.number, l.region); ok {
			rules = append(rules, rule{r.matchedBy, n})
			numbers = append(numbers, n)
		}
	}
	if len(numbers) == 0 {
		return owner{}, false, nil
	}
	rows, err := q.FindOwnerCandidates(ctx, numbers)
	if err != nil {
		return owner{}, false, tenant.DatabaseError(err)
	}
	for _, r := range rules {
		for _, row := range rows {
			if row.PhoneNumber == r.number {
				return owner{
					userID:            tenant.ID(row.UserID),
					phoneNumberID:     row.ID,
					number:            row.PhoneNumber,
					assistantID:       row.VapiAssistantID,
					vapiPhoneNumberID: row.VapiPhoneNumberID,
					matchedBy:         r.matchedBy,
				}, true, nil
			}
		}
	}
	return owner{}, false, nil
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
// next one (after the event is stored on its own) finds the call as it is.
func (l *Lifecycle) applyVoice(ctx context.Context, s *tenant.Session, in twilio.InboundCall, live, first bool) (result, error) {
	o, ok, err := l.resolveOwner(ctx, s.System(), in)
	if err != nil {
		return result{}, err
	}
	if !ok {
		l.log.InfoContext(ctx, "inbound call with no registered owner rejected")
		return result{outcome: Unattributed, note: "no active registered number among ForwardedFrom, To and From", twiml: twilio.RejectTwiML}, nil
	}
	res := result{outcome: Accepted, userID: o.userID, owner: o}
	id, err := uuid.NewV7()
	if err != nil {
		return result{}, err
	}
	p := dbsqlc.CreateInboundCallParams{
		ID:              id,
		UserID:          string(o.userID),
		PhoneNumberID:   &o.phoneNumberID,
		CallerNumber:    canonicalOrRaw(in.From, l.region),
		ClinicNumber:    &o.number,
		AssistantNumber: canonicalOrRaw(in.To, l.region),
		MatchedBy:       &o.matchedBy,
		TwilioCallSid:   &in.CallSid,
	}
	if live && first {
		res.callID, res.created = &id, true
		return res, s.AsTenantLater(o.userID, func(q *dbsqlc.Queries) error {
			return q.InsertInboundCall(ctx, dbsqlc.InsertInboundCallParams(p))
		})
	}
	err = s.AsTenant(o.userID, func(q *dbsqlc.Queries) error {
		call, err := q.CreateInboundCall(ctx, p)
		switch {
		case err == nil && live:
			res.callID, res.created = &call.ID, true
			return nil
		case err == nil:
			// Recorded only now, long after Twilio gave up on the call.
			res.callID, res.twiml = &call.ID, twilio.ApologyTwiML
			return recordHandoff(ctx, q, o, call.ID, res.twiml, nil, "not_handed_off")
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		call, err = q.GetCallBySid(ctx, dbsqlc.GetCallBySidParams{UserID: string(o.userID), TwilioCallSid: &in.CallSid})
		if errors.Is(err, pgx.ErrNoRows) {
			return errs.Wrap(err, "CallSid recorded for another owner")
		}
		res.callID = &call.ID
		if call.Twiml != nil {
			res.twiml = *call.Twiml
		}
		return err
	})
	if err != nil {
		return result{}, err
	}
	return res, nil
}

// handOff asks VAPI to take the call and returns the TwiML for Twilio, VAPI's call id
// when it took the call, and otherwise why the call failed.
func (l *Lifecycle) handOff(ctx context.Context, o owner, callID uuid.UUID, in twilio.InboundCall) (twiml string, vapiID *string, failedReason string) {
	if o.assistantID == nil || o.vapiPhoneNumberID == nil || *o.assistantID == "" || *o.vapiPhoneNumberID == "" {
		return twilio.ApologyTwiML, nil, "no_assistant_configured"
	}
	vc, err := l.vapi.CreateCall(ctx, vapi.CreateCallRequest{
		PhoneNumberID:  *o.vapiPhoneNumberID,
		AssistantID:    *o.assistantID,
		CustomerNumber: in.From,
		Metadata: vapi.Metadata{
			UserID:        string(o.userID),
			CallID:        callID.String(),
			PhoneNumberID: o.phoneNumberID.String(),
			TwilioCallSid: in.CallSid,
		},
	})
	if err != nil {
		l.log.WarnContext(ctx, "VAPI did not take the call", slog.String("call_id", callID.String()), slog.String("error", err.Error()))
		return twilio.ApologyTwiML, nil, "vapi_unavailable"
	}
	return vc.TwiML, &vc.ID, ""
}

// recordHandoff keeps what Twilio was answered. Its commit does not wait for the disk: the
// call row and the inbox event are durable already, and should a crash lose this record,
// VAPI's own messages (found through metadata.call_id) fill in its call id.
func (l *Lifecycle) recordHandoff(ctx context.Context, o owner, callID uuid.UUID, twiml string, vapiID *string, failedReason string) error {
	return l.db.WriteRedoable(ctx, o.userID, func(q *dbsqlc.Queries) error {
		return recordHandoff(ctx, q, o, callID, twiml, vapiID, failedReason)
	})
}

func recordHandoff(ctx context.Context, q *dbsqlc.Queries, o owner, callID uuid.UUID, twiml string, vapiID *string, failedReason string) error {
	p := dbsqlc.RecordHandoffParams{UserID: string(o.userID), ID: callID, Twiml: &twiml, VapiCallID: vapiID}
	if failedReason != "" {
		p.FailedReason = &failedReason
	}
	return q.RecordHandoff(ctx, p)
}

// awaitTwiML waits for the delivery that created the call to store its TwiML. If none
// appears in time (that delivery is stuck or died), the caller hears the apology rather
// than a second assistant.
func (l *Lifecycle) awaitTwiML(ctx context.Context, user tenant.ID, callSid string) string {
	ctx, cancel := context.WithTimeout(ctx, l.handoffWait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var twiml *string
		// One statement per poll: Read makes it a single round trip.
		err := l.db.Read(ctx, user, func(q *dbsqlc.Queries) error {
			c, err := q.GetCallBySid(ctx, dbsqlc.GetCallBySidParams{UserID: string(user), TwilioCallSid: &callSid})
			twiml = c.Twiml
			return err
		})
		if err == nil && twiml != nil {
			return *twiml
		}
		select {
		case <-ctx.Done():
			l.log.WarnContext(ctx, "repeat voice webhook gave up waiting for the hand-off")
			return twilio.ApologyTwiML
		case <-tick.C:
		}
	}
}

// applyStatus moves the call with the callback's CallSid forward.
func (l *Lifecycle) applyStatus(ctx context.Context, s *tenant.Session, sc twilio.StatusCallback) (result, error) {
	ref, err := s.System().FindCallOwnerBySid(ctx, &sc.CallSid)
	if errors.Is(err, pgx.ErrNoRows) {
		return result{outcome: Unattributed, note: "no call with this CallSid"}, nil
	}
	if err != nil {
		return result{}, err
	}
	status, reason := sc.Status()
	res := result{outcome: Accepted, userID: tenant.ID(ref.UserID), callID: &ref.ID}
	return res, s.AsTenantLater(res.userID, func(q *dbsqlc.Queries) error {
		p := dbsqlc.AdvanceCallStatusParams{UserID: ref.UserID, ID: ref.ID, Status: status, DurationSeconds: sc.Duration}
		if reason != "" {
			p.EndedReason = &reason
		}
		return q.AdvanceCallStatus(ctx, p)
	})
}

// vapiStatuses maps VAPI's call statuses to Switchboard's.
var vapiStatuses = map[string]string{
	"scheduled":   "initiated",
	"queued":      "initiated",
	"ringing":     "ringing",
	"in-progress": "in_progress",
	"forwarding":  "forwarding",
	"ended":       "ended",
}

// applyVapi stores a status update or an end-of-call report on the call Switchboard's
// records say it belongs to.
func (l *Lifecycle) applyVapi(ctx context.Context, s *tenant.Session, msg vapi.Message) (result, error) {
	switch {
	case msg.Type == vapi.TypeEndOfCallReport:
	case msg.Type == vapi.TypeStatusUpdate && vapiStatuses[msg.Status] != "":
	default:
		return result{outcome: Ignored}, nil
	}
	ref, found, err := l.findVapiCall(ctx, s.System(), msg)
	if err != nil {
		return result{}, err
	}
	if !found || (ref.id == uuid.Nil && msg.CallID == "") {
		l.log.WarnContext(ctx, "VAPI message for an unknown call kept unattributed", slog.String("type", msg.Type))
		return result{outcome: Unattributed, note: "no recorded call, and the metadata's number is not the metadata's tenant's"}, nil
	}
	// Recording a call first heard of through a status update needs that statement's
	// answer; everything else only writes, and travels with the inbox row and the commit.
	asTenant := s.AsTenantLater
	if ref.id == uuid.Nil && msg.Type == vapi.TypeStatusUpdate {
		asTenant = s.AsTenant
	}
	var res result
	err = asTenant(ref.userID, func(q *dbsqlc.Queries) error {
		res, err = l.applyToCall(ctx, q, ref, msg)
		return err
	})
	return res, err
}

// applyToCall stores a status update or an end-of-call report on the call ref names,
// through q, the owner's queries; a ref without a call id records the call VAPI reported.
func (l *Lifecycle) applyToCall(ctx context.Context, q *dbsqlc.Queries, ref callRef, msg vapi.Message) (result, error) {
	res := result{outcome: Accepted, userID: ref.userID}
	vapiID := nonEmpty(msg.CallID)
	if msg.Type == vapi.TypeEndOfCallReport {
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
			VapiCallID:         vapiID,
			CallerNumber:       canonicalOrRaw(msg.CustomerNumber, l.region),
			StartedAt:          msg.StartedAt,
			EndedAt:            msg.EndedAt,
			DurationSeconds:    msg.DurationSeconds(),
			EndedReason:        msg.EndedReason,
			RecordingUrl:       msg.RecordingURL,
			StereoRecordingUrl: msg.StereoRecordingURL,
			Summary:            msg.Summary,
			SuccessEvaluation:  msg.SuccessEvaluation,
			StructuredData:     json.RawMessage(msg.StructuredData),
			Cost:               msg.Cost,
			Transcript:         msg.Transcript,
			Messages:           json.RawMessage(msg.Messages),
		})
	}
	status := vapiStatuses[msg.Status]
	if status == "" {
		return result{outcome: Ignored}, nil
	}
	if ref.id == uuid.Nil {
		c, err := q.InsertReportedCall(ctx, dbsqlc.InsertReportedCallParams{
			UserID:        string(ref.userID),
			PhoneNumberID: ref.phoneNumberID,
			VapiCallID:    &msg.CallID,
			CallerNumber:  canonicalOrRaw(msg.CustomerNumber, l.region),
			StartedAt:     msg.StartedAt,
		})
		if err != nil {
			return res, err
		}
		ref.id = c.ID
	}
	res.callID = &ref.id
	p := dbsqlc.AdvanceCallStatusParams{UserID: string(ref.userID), ID: ref.id, Status: status, VapiCallID: vapiID}
	if status == "ended" {
		p.EndedReason = msg.EndedReason
	}
	return res, q.AdvanceCallStatus(ctx, p)
}

// callRef is a call and its owner; id is the zero uuid for a call Switchboard has not
// recorded yet.
type callRef struct {
	id            uuid.UUID
	userID        tenant.ID
	phoneNumberID *uuid.UUID
}

// findVapiCall finds who owns the call a VAPI message is about (FindVapiCallOwner says
// by which precedence). The owner is the one on record; a payload that names another is
// logged and overruled.
func (l *Lifecycle) findVapiCall(ctx context.Context, q *dbsqlc.Queries, msg vapi.Message) (callRef, bool, error) {
	p := dbsqlc.FindVapiCallOwnerParams{VapiCallID: nonEmpty(msg.CallID)}
	if id, err := uuid.Parse(msg.Metadata.CallID); err == nil {
		p.CallID = &id
	}
	if id, err := uuid.Parse(msg.Metadata.PhoneNumberID); err == nil && msg.Metadata.UserID != "" {
		p.PhoneNumberID, p.UserID = &id, &msg.Metadata.UserID
	}
	row, err := q.FindVapiCallOwner(ctx, p)
	if errors.Is(err, pgx.ErrNoRows) {
		return callRef{}, false, nil
	}
	if err != nil {
		return callRef{}, false, err
	}
	ref := callRef{id: row.CallID, userID: tenant.ID(row.UserID), phoneNumberID: row.PhoneNumberID}
	if ref.id != uuid.Nil && msg.Metadata.UserID != "" && msg.Metadata.UserID != row.UserID {
		l.log.WarnContext(ctx, "VAPI metadata names another owner than the record; the record wins",
			slog.String("call_id", ref.id.String()))
	}
	return ref, true, nil
}

// vapiKey identifies a VAPI message for deduplication: a call has one end-of-call report
// and one update per status; other messages are told apart by their content.
func vapiKey(msg vapi.Message, body []byte) string {
	call := msg.CallID
	if call == "" {
		call = "meta-" + msg.Metadata.CallID
	}
	switch msg.Type {
	case vapi.TypeEndOfCallReport:
		return msg.Type + ":" + call
	case vapi.TypeStatusUpdate:
		return msg.Type + ":" + call + ":" + msg.Status
	default:
		return msg.Type + ":" + call + ":" + digest(body)
	}
}

func parseInbound(body []byte) (twilio.InboundCall, bool) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return twilio.InboundCall{}, false
	}
	return twilio.ParseInbound(form)
}

func parseStatus(body []byte) (twilio.StatusCallback, bool) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return twilio.StatusCallback{}, false
	}
	return twilio.ParseStatus(form)
}

func ignore(note string) applyFunc {
	return func(context.Context, *tenant.Session) (result, error) {
		return result{outcome: Ignored, note: note}, nil
	}
}

func canonicalOrRaw(raw, region string) *string {
	if n, ok := phonenumbers.Canonical(raw, region); ok {
		return &n
	}
	return nonEmpty(raw)
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}
