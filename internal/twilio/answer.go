package twilio

import (
	"github.com/twilio/twilio-go/twiml"
)

// The paths Twilio calls back during a call. They are relative: Twilio resolves them
// against the URL of the document it is running, this server's, and signs the URL it
// resolved like every webhook.
const (
	DialActionPath      = "/api/webhooks/twilio/dial"
	VoicemailActionPath = "/api/webhooks/twilio/voicemail"
	RecordingStatusPath = "/api/webhooks/twilio/recording"
)

// DefaultGreeting is what a caller hears before leaving a voicemail when the clinic set no
// greeting of its own.
const DefaultGreeting = "Sorry we cannot take your call right now. Please leave a message after the tone, and we will call you back."

// Answer is the TwiML of each way a call can go, built with twilio-go's TwiML builder so
// that what a clinic typed (a greeting) is escaped.
type Answer struct{}

// Reject declines the call without answering it, so nobody is billed for it.
func (Answer) Reject() string {
	return build(twiml.VoiceReject{})
}

// Dial forwards the call to number, showing callerID (the caller's own number, so the
// human sees who calls; empty shows the number Twilio received the call on). Whatever the
// forward's outcome, Twilio asks DialActionPath what next: a forward nobody answers goes
// to voicemail.
func (Answer) Dial(number, callerID string) string {
	return build(twiml.VoiceDial{
		Action:        DialActionPath,
		Method:        "POST",
		CallerId:      callerID,
		Timeout:       "20",
		InnerElements: []twiml.Element{twiml.VoiceNumber{PhoneNumber: number}},
	})
}

// Voicemail says greeting (DefaultGreeting when empty) and records a message of up to
// two minutes. Twilio posts the recording's status to RecordingStatusPath and, when the
// caller is done, asks VoicemailActionPath what next.
func (Answer) Voicemail(greeting string) string {
	if greeting == "" {
		greeting = DefaultGreeting
	}
	return build(
		twiml.VoiceSay{Message: greeting},
		twiml.VoiceRecord{
			Action:                        VoicemailActionPath,
			Method:                        "POST",
			MaxLength:                     "120",
			PlayBeep:                      "true",
			Timeout:                       "5",
			RecordingStatusCallback:       RecordingStatusPath,
			RecordingStatusCallbackMethod: "POST",
			RecordingStatusCallbackEvent:  "completed",
		},
		// Reached only when the caller recorded nothing before the timeout.
		twiml.VoiceSay{Message: "We did not get a message. Goodbye."},
		twiml.VoiceHangup{},
	)
}

// Goodbye thanks a caller who left a message and ends the call.
func (Answer) Goodbye() string {
	return build(twiml.VoiceSay{Message: "Thank you for your message. Goodbye."}, twiml.VoiceHangup{})
}

// Hangup ends the call (after a forward that was answered and is over).
func (Answer) Hangup() string {
	return build(twiml.VoiceHangup{})
}

// Apology says sorry and hangs up: for a repeated delivery of a call whose first delivery
// never said how it went (see calls.Intake), and for a call recorded long after Twilio
// gave up on it.
func (Answer) Apology() string {
	return build(twiml.VoiceSay{Message: "We're sorry, we cannot take your call right now. Please call again later."}, twiml.VoiceHangup{})
}

// build writes verbs as a TwiML document. The builder fails only when writing to memory
// fails, which a caller cannot be told about; the document is then one without verbs.
func build(verbs ...twiml.Element) string {
	doc, err := twiml.Voice(verbs)
	if err != nil {
		return `<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>`
	}
	return doc
}
