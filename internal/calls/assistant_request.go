package calls

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/pgtext"
	"github.com/switchboard-health/switchboard/internal/phonenumbers"
	"github.com/switchboard-health/switchboard/internal/routing"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/vapi"
)

// What a caller hears when VAPI's assistant-request is answered without an assistant.
const (
	sayNotInService = "Sorry, this number is not in service."
	sayDeclined     = "Sorry, this call cannot be completed."
	sayUnavailable  = "Sorry, we cannot take your call right now. Please call again later."
)

// assistantReply is the answer to VAPI's assistant-request.
type assistantReply struct {
	AssistantID        string          `json:"assistantId,omitempty"`
	AssistantOverrides map[string]any  `json:"assistantOverrides,omitempty"`
	Destination        *vapiTransferTo `json:"destination,omitempty"`
	Error              string          `json:"error,omitempty"`
}

type vapiTransferTo struct {
	Type   string `json:"type"`
	Number string `json:"number"`
}

// applyAssistantRequest answers VAPI's assistant-request for a number that lives in VAPI
// from the same routing decision as a Twilio call, and records the call against the
// clinic that verified the number, once per VAPI call id: a repeated request is answered
// from the call recorded, so the later messages attach to the same call.
func (r *recorder) applyAssistantRequest(ctx context.Context, s *tenant.Session, msg vapi.Message) (result, error) {
	number, ok := phonenumbers.Canonical(msg.PhoneNumber, r.region)
	if !ok || msg.CallID == "" {
		return reply(result{outcome: Ignored, note: "no phone number or call id"}, assistantReply{Error: sayNotInService})
	}
	caller, _ := phonenumbers.Canonical(msg.CustomerNumber, r.region)
	rows, err := s.Service().FindOwnerCandidates(ctx, dbsqlc.FindOwnerCandidatesParams{Numbers: []string{number}, Caller: caller})
	if err != nil {
		return result{}, err
	}
	if len(rows) == 0 {
		return reply(result{outcome: Unattributed, note: "the number is no clinic's verified number"}, assistantReply{Error: sayNotInService})
	}
	row := rows[0]
	o := owner{userID: tenant.ID(row.UserID), phoneNumberID: row.ID, number: row.PhoneNumber, assistantID: row.VapiAssistantID,
		matchedBy: "to", policy: r.policyOf(ctx, row.Policy), callerBlocked: row.CallerBlocked, hipaa: row.HipaaMode}
	c := routing.Call{CallerBlocked: o.callerBlocked}
	if o.assistantID != nil {
		c.AssistantID = *o.assistantID
	}
	d := routing.Decide(o.policy, c, r.now())
	if d.Handling == routing.Voicemail {
		// VAPI cannot take a voicemail: the caller hears the clinic's message instead.
		d.Handling = routing.Announced
	}
	res := result{outcome: Accepted, userID: o.userID}
	err = s.As(o.userID, func(q *dbsqlc.Queries) error {
		id, err := r.recordRoutedVapiCall(ctx, q, o, msg, caller, &d)
		res.callID = &id
		return err
	})
	if err != nil {
		return result{}, err
	}
	return reply(res, answerFor(o, *res.callID, d))
}

// recordRoutedVapiCall records the call with decision d, or, when the call is recorded
// already (a repeated request), replaces d with the decision recorded then.
func (r *recorder) recordRoutedVapiCall(ctx context.Context, q *dbsqlc.Queries, o owner, msg vapi.Message, caller string, d *routing.Decision) (uuid.UUID, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, err
	}
	p := dbsqlc.InsertRoutedVapiCallParams{
		ID: id, UserID: string(o.userID), PhoneNumberID: &o.phoneNumberID, Status: string(StatusInitiated),
		CallerNumber: pgtext.Optional(caller), ClinicNumber: &o.number, VapiCallID: &msg.CallID,
		Handling: ptr(string(d.Handling)), HandlingReason: pgtext.Optional(d.Reason),
		RoutedAssistantID: pgtext.Optional(d.AssistantID), ForwardedTo: pgtext.Optional(d.ForwardTo),
	}
	if d.Handling.Rejected() || d.Handling == routing.Announced {
		p.Status, p.EndedReason = string(StatusEnded), pgtext.Optional(d.Reason)
	}
	_, err = q.InsertRoutedVapiCall(ctx, p)
	if !errors.Is(err, pgx.ErrNoRows) {
		return id, err
	}
	call, err := q.GetCallByVapiID(ctx, dbsqlc.GetCallByVapiIDParams{UserID: string(o.userID), VapiCallID: &msg.CallID})
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, errors.New("VAPI call id recorded for another owner")
	}
	if err != nil {
		return uuid.Nil, err
	}
	if call.Handling != nil {
		d.Handling, d.Reason = routing.Handling(*call.Handling), deref(call.HandlingReason)
		d.AssistantID, d.ForwardTo = deref(call.RoutedAssistantID), deref(call.ForwardedTo)
	}
	return call.ID, nil
}

// answerFor is what VAPI is told for decision d about call id of o.
func answerFor(o owner, id uuid.UUID, d routing.Decision) assistantReply {
	switch {
	case d.Handling == routing.Assistant || d.Handling == routing.AfterHoursAssistant:
		md := vapi.Metadata{UserID: string(o.userID), CallID: id.String(), PhoneNumberID: o.phoneNumberID.String()}
		return assistantReply{AssistantID: d.AssistantID, AssistantOverrides: vapi.Overrides(md, o.policy.Variables(d), o.hipaa)}
	case d.Handling == routing.Forwarded:
		return assistantReply{Destination: &vapiTransferTo{Type: "number", Number: d.ForwardTo}}
	case d.Handling.Rejected():
		return assistantReply{Error: sayDeclined}
	case !d.Open:
		v := o.policy.Variables(d)
		name := v["clinic_name"]
		if name == "" {
			name = "The clinic"
		}
		if v["next_open"] != "" {
			return assistantReply{Error: fmt.Sprintf("%s is closed now. We open %s. Please call again then.", name, v["next_open"])}
		}
		return assistantReply{Error: name + " is closed now. Please call again later."}
	}
	return assistantReply{Error: sayUnavailable}
}

func reply(res result, a assistantReply) (result, error) {
	body, err := json.Marshal(a)
	res.reply = body
	return res, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
