package calls

import (
	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/pgtext"
	"github.com/switchboard-health/switchboard/internal/phonenumbers"
	"github.com/switchboard-health/switchboard/internal/routing"
	"github.com/switchboard-health/switchboard/internal/twilio"
)

// answer builds the TwiML of every way a call can go.
var answer twilio.Answer

// route decides how the inbound call in, owned by o, goes, by o's clinic's routing and the
// recorder's clock. For the ways that need no assistant it returns the TwiML too; for an
// assistant the TwiML is VAPI's, asked for after the call is recorded (see handOff).
func (r *recorder) route(o owner, in twilio.InboundCall) (routing.Decision, string) {
	c := routing.Call{CallerBlocked: o.callerBlocked, StirVerstat: in.StirVerstat}
	// Twilio's calls reach an assistant through the number's VAPI phone number; without
	// one there is no assistant to ask.
	if o.assistantID != nil && o.vapiPhoneNumberID != nil && *o.vapiPhoneNumberID != "" {
		c.AssistantID = *o.assistantID
	}
	d := routing.Decide(o.policy, c, r.now())
	return d, r.twimlFor(o.policy, d, in.From)
}

// twimlFor is the TwiML of a decision that needs no assistant ("" for one that does). A
// forward shows the caller's own number, so that whoever answers sees who calls.
func (r *recorder) twimlFor(p routing.Policy, d routing.Decision, from string) string {
	switch {
	case d.Handling.Rejected():
		return answer.Reject()
	case d.Handling == routing.Forwarded:
		caller, _ := phonenumbers.Canonical(from, r.region)
		return answer.Dial(d.ForwardTo, caller)
	case d.Handling == routing.Voicemail:
		return answer.Voicemail(p.VoicemailGreeting)
	}
	return ""
}

// routeParams records decision d, and its TwiML when known, with the new call. A declined
// call ends at once: nobody answers it.
func routeParams(p *dbsqlc.CreateInboundCallParams, d routing.Decision, twiml string) {
	p.Handling, p.HandlingReason = pgtext.Optional(string(d.Handling)), pgtext.Optional(d.Reason)
	p.RoutedAssistantID, p.ForwardedTo, p.Twiml = pgtext.Optional(d.AssistantID), pgtext.Optional(d.ForwardTo), pgtext.Optional(twiml)
	if d.Handling.Rejected() {
		p.Status, p.EndedReason = string(StatusEnded), pgtext.Optional(d.Reason)
	}
}
