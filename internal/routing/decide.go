package routing

import (
	"strconv"
	"strings"
	"time"
)

// Handling is how a call was handled.
type Handling string

// Handlings.
const (
	Assistant           Handling = "assistant"
	AfterHoursAssistant Handling = "after_hours_assistant"
	Forwarded           Handling = "forwarded"
	Voicemail           Handling = "voicemail"
	// Announced: the caller heard the clinic's message and the call ended. A number that
	// lives in VAPI (assistant-request) cannot take a voicemail; it gets this instead.
	Announced      Handling = "announced"
	Blocked        Handling = "blocked"
	SpamRejected   Handling = "spam_rejected"
	ClosedRejected Handling = "closed_rejected"
)

// Handlings lists them all, in the order the API documents them.
var Handlings = []Handling{Assistant, AfterHoursAssistant, Forwarded, Voicemail, Announced, Blocked, SpamRejected, ClosedRejected}

// Rejected reports whether h declines the call (Twilio's <Reject/>: nobody is billed).
func (h Handling) Rejected() bool { return h == Blocked || h == SpamRejected || h == ClosedRejected }

// Reasons a call was handled as it was. They are stored with the call and documented.
const (
	ReasonOpen              = "open"
	ReasonClosed            = "closed"
	ReasonClosure           = "closure"
	ReasonBlockedCaller     = "blocked_caller"
	ReasonSpam              = "caller_id_not_verified"
	ReasonNoAssistant       = "no_assistant_configured"
	ReasonVAPIUnavailable   = "vapi_unavailable"
	ReasonForwardUnanswered = "forward_unanswered"
)

// ClosedAction is what happens to a call while the clinic is closed.
type ClosedAction string

// Closed actions.
const (
	ClosedAfterHoursAssistant ClosedAction = "after_hours_assistant"
	ClosedForward             ClosedAction = "forward"
	ClosedVoicemail           ClosedAction = "voicemail"
	ClosedReject              ClosedAction = "reject"
)

// SpamPolicy is what happens to a call whose caller id failed STIR/SHAKEN or had none.
type SpamPolicy string

// Spam policies.
const (
	SpamAllow     SpamPolicy = "allow"
	SpamVoicemail SpamPolicy = "voicemail"
	SpamReject    SpamPolicy = "reject"
)

// Policy is a clinic's routing (or one number's, which replaces the clinic's). The zero
// Policy is a clinic that set nothing: always open, the number's assistant, voicemail
// when the assistant cannot take the call, every caller let through.
type Policy struct {
	ClinicName            string
	Hours                 *Hours // nil: always open
	ClosedAction          ClosedAction
	AfterHoursAssistantID string
	OnCallNumber          string
	FallbackNumber        string
	VoicemailGreeting     string
	SpamPolicy            SpamPolicy
}

// Call is what the decision needs to know about an inbound call.
type Call struct {
	// AssistantID is the assistant of the number called; empty when none is set.
	AssistantID string
	// CallerBlocked: the caller is on the clinic's blocked list.
	CallerBlocked bool
	// StirVerstat is Twilio's STIR/SHAKEN verdict on the caller id; empty when Twilio sent
	// none (the call did not come over a network that signs caller ids).
	StirVerstat string
}

// Decision is what happens to a call.
type Decision struct {
	Handling Handling
	Reason   string
	// AssistantID is the assistant asked to take the call (the assistant handlings).
	AssistantID string
	// ForwardTo is the number the call is dialled to (Forwarded).
	ForwardTo string
	// Open and NextOpen say where the clinic's hours stand at the call; NextOpen is zero
	// when the clinic is open or never opens again.
	Open     bool
	NextOpen time.Time
}

// Decide decides what happens to c, arriving at now: a blocked caller is declined, then
// a caller id that failed verification meets the spam policy, then a closed clinic its
// closed action; an open clinic's call goes to the number's assistant, or to the fallback
// when there is none.
func Decide(p Policy, c Call, now time.Time) Decision {
	d := Decision{Open: true}
	reason := ReasonOpen
	if p.Hours != nil {
		d.Open = p.Hours.OpenAt(now)
		if !d.Open {
			d.NextOpen, _ = p.Hours.NextOpening(now)
			reason = ReasonClosed
			if p.Hours.closed(DateOf(now.In(p.Hours.Zone))) {
				reason = ReasonClosure
			}
		}
	}
	switch {
	case c.CallerBlocked:
		return d.with(Blocked, ReasonBlockedCaller)
	case unverifiedCaller(c.StirVerstat) && p.SpamPolicy == SpamReject:
		return d.with(SpamRejected, ReasonSpam)
	case unverifiedCaller(c.StirVerstat) && p.SpamPolicy == SpamVoicemail:
		return d.with(Voicemail, ReasonSpam)
	case !d.Open:
		return p.closed(d, reason)
	case c.AssistantID == "":
		return p.Fallback(d, ReasonNoAssistant)
	}
	d = d.with(Assistant, reason)
	d.AssistantID = c.AssistantID
	return d
}

// closed applies the closed action; one it cannot carry out (no after-hours assistant or
// on-call number set any more) leaves a voicemail.
func (p Policy) closed(d Decision, reason string) Decision {
	switch {
	case p.ClosedAction == ClosedAfterHoursAssistant && p.AfterHoursAssistantID != "":
		d = d.with(AfterHoursAssistant, reason)
		d.AssistantID = p.AfterHoursAssistantID
		return d
	case p.ClosedAction == ClosedForward && p.OnCallNumber != "":
		d = d.with(Forwarded, reason)
		d.ForwardTo = p.OnCallNumber
		return d
	case p.ClosedAction == ClosedReject:
		return d.with(ClosedRejected, reason)
	}
	return d.with(Voicemail, reason)
}

// Fallback is where a call goes when the assistant cannot take it (why: reason): the
// human fallback number, or voicemail without one. Never a hang-up.
func (p Policy) Fallback(d Decision, reason string) Decision {
	d.AssistantID = ""
	if p.FallbackNumber != "" {
		d = d.with(Forwarded, reason)
		d.ForwardTo = p.FallbackNumber
		return d
	}
	return d.with(Voicemail, reason)
}

func (d Decision) with(h Handling, reason string) Decision {
	d.Handling, d.Reason = h, reason
	return d
}

// unverifiedCaller reads Twilio's StirVerstat: TN-Validation-Failed-A/B/C (the signature
// did not verify) and No-TN-Validation (no signature) are unverified; Passed is verified,
// and no verdict at all (a network without STIR/SHAKEN) is left alone.
func unverifiedCaller(verstat string) bool {
	return strings.HasPrefix(verstat, "TN-Validation-Failed") || verstat == "No-TN-Validation"
}

// Variables are the values the assistant's prompt may use ({{clinic_name}}, …): where the
// clinic stands at the call, so the assistant can say "we open at 8 tomorrow".
func (p Policy) Variables(d Decision) map[string]string {
	v := map[string]string{
		"clinic_name":  p.ClinicName,
		"clinic_open":  strconv.FormatBool(d.Open),
		"next_open":    "",
		"next_open_at": "",
		"time_zone":    "",
	}
	if p.Hours != nil {
		v["time_zone"] = p.Hours.Zone.String()
	}
	if !d.NextOpen.IsZero() && p.Hours != nil {
		local := d.NextOpen.In(p.Hours.Zone)
		v["next_open"] = local.Format("Monday 2 January at 15:04")
		v["next_open_at"] = local.Format(time.RFC3339)
	}
	return v
}
