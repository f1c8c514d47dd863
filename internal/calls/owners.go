package calls

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/pgtext"
	"github.com/switchboard-health/switchboard/internal/phonenumbers"
	"github.com/switchboard-health/switchboard/internal/routing"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/twilio"
	"github.com/switchboard-health/switchboard/internal/vapi"
)

// owner is the registered number that owns a call, with how its clinic routes the call.
type owner struct {
	userID            tenant.ID
	phoneNumberID     uuid.UUID
	number            string
	assistantID       *string
	vapiPhoneNumberID *string
	matchedBy         string
	policy            routing.Policy
	callerBlocked     bool
	hipaa             bool // the clinic is in HIPAA mode: VAPI is asked to keep nothing
}

// resolveOwner decides which clinic owns an inbound call, among active registered numbers:
// the line that forwarded the call, then the line it was made to (a dedicated line), then
// the line it came from (a clinic calling from its own line). A shared assistant line is
// registered by nobody, so calls to it are owned through ForwardedFrom or From. The
// owner's routing comes in the same round trip.
func (r *recorder) resolveOwner(ctx context.Context, q *dbsqlc.Queries, in twilio.InboundCall) (owner, bool, error) {
	type rule struct{ matchedBy, number string }
	var rules []rule
	var numbers []string
	for _, ru := range []rule{{"forwarded_from", in.ForwardedFrom}, {"to", in.To}, {"from", in.From}} {
		if n, ok := phonenumbers.Canonical(ru.number, r.region); ok {
			rules = append(rules, rule{ru.matchedBy, n})
			numbers = append(numbers, n)
		}
	}
	if len(numbers) == 0 {
		return owner{}, false, nil
	}
	caller, _ := phonenumbers.Canonical(in.From, r.region)
	rows, err := q.FindOwnerCandidates(ctx, dbsqlc.FindOwnerCandidatesParams{Numbers: numbers, Caller: caller})
	if err != nil {
		return owner{}, false, err
	}
	for _, ru := range rules {
		for _, row := range rows {
			if row.PhoneNumber == ru.number {
				return owner{
					userID:            tenant.ID(row.UserID),
					phoneNumberID:     row.ID,
					number:            row.PhoneNumber,
					assistantID:       row.VapiAssistantID,
					vapiPhoneNumberID: row.VapiPhoneNumberID,
					matchedBy:         ru.matchedBy,
					policy:            r.policyOf(ctx, row.Policy),
					callerBlocked:     row.CallerBlocked,
					hipaa:             row.HipaaMode,
				}, true, nil
			}
		}
	}
	return owner{}, false, nil
}

// policyOf reads a stored routing policy; none (null) is the zero Policy, the defaults.
// A stored policy that no longer reads (it was checked when written) is logged and
// routes by the defaults, so that the call still reaches someone.
func (r *recorder) policyOf(ctx context.Context, raw []byte) routing.Policy {
	if len(raw) == 0 || string(raw) == "null" {
		return routing.Policy{}
	}
	var st routing.Stored
	err := json.Unmarshal(raw, &st)
	p, perr := st.Policy()
	if err = errors.Join(err, perr); err != nil {
		r.log.ErrorContext(ctx, "stored routing policy does not read; routing by the defaults", slog.String("error", err.Error()))
		return routing.Policy{}
	}
	return p
}

// callBySid finds the call recorded for callSid and its owner, with the result of an
// event about it; found is false (the result unattributed) when there is none.
func callBySid(ctx context.Context, s *tenant.Session, callSid string) (dbsqlc.FindCallOwnerBySidRow, result, bool, error) {
	ref, err := s.Service().FindCallOwnerBySid(ctx, callSid)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return ref, result{outcome: Unattributed, note: "no call with this CallSid"}, false, nil
	case err != nil:
		return ref, result{}, false, err
	}
	return ref, result{outcome: Accepted, userID: tenant.ID(ref.UserID), callID: &ref.ID}, true, nil
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
func (r *recorder) findVapiCall(ctx context.Context, q *dbsqlc.Queries, msg vapi.Message) (callRef, bool, error) {
	p := dbsqlc.FindVapiCallOwnerParams{VapiCallID: pgtext.Optional(msg.CallID)}
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
		r.log.WarnContext(ctx, "VAPI metadata names another owner than the record; the record wins",
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
	case vapi.TypeEndOfCallReport, vapi.TypeAssistantRequest:
		return msg.Type + ":" + call
	case vapi.TypeStatusUpdate:
		return msg.Type + ":" + call + ":" + msg.Status
	default:
		return msg.Type + ":" + call + ":" + digest(body)
	}
}

func parseInbound(body []byte) (twilio.InboundCall, bool) {
	return parseForm(body, twilio.ParseInbound)
}

// parseStatus reads a status callback; ok is false without a CallSid or with a CallStatus
// Twilio does not document.
func parseStatus(body []byte) (twilio.StatusCallback, bool) {
	sc, ok := parseForm(body, twilio.ParseStatus)
	_, _, known := StatusFromTwilio(sc.CallStatus)
	return sc, ok && known
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}
