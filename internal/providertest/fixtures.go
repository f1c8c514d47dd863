package providertest

import (
	"encoding/json"
	"net/url"
)

// InboundForm is the form of Twilio's voice webhook for an inbound call from from to to,
// forwarded by forwardedFrom when that is not empty.
func InboundForm(sid, from, to, forwardedFrom string) url.Values {
	f := url.Values{
		"CallSid":    {sid},
		"AccountSid": {"AC00000000000000000000000000000000"},
		"From":       {from},
		"To":         {to},
		"CallStatus": {"ringing"},
		"Direction":  {"inbound"},
		"ApiVersion": {"2010-04-01"},
	}
	if forwardedFrom != "" {
		f.Set("ForwardedFrom", forwardedFrom)
	}
	return f
}

// StatusForm is the form of Twilio's status callback.
func StatusForm(sid, callStatus string) url.Values {
	return url.Values{"CallSid": {sid}, "AccountSid": {"AC00000000000000000000000000000000"}, "CallStatus": {callStatus}}
}

// EndOfCallReport is an end-of-call report in VAPI's current shape, for the VAPI call
// vapiCallID with the given metadata.
func EndOfCallReport(vapiCallID string, metadata map[string]any) map[string]any {
	return map[string]any{
		"type":        "end-of-call-report",
		"endedReason": "customer-ended-call",
		"startedAt":   "2026-11-28T10:00:00.000Z",
		"endedAt":     "2026-11-28T10:02:05.400Z",
		"cost":        0.1234,
		"call": map[string]any{
			"id":                 vapiCallID,
			"metadata":           metadata,
			"assistantOverrides": map[string]any{"metadata": metadata},
		},
		"artifact": map[string]any{
			"transcript": "AI: Sunrise Dental, how can I help?\nUser: I need a cleaning.",
			"messages": []any{
				map[string]any{"role": "bot", "message": "Sunrise Dental, how can I help?"},
				map[string]any{"role": "user", "message": "I need a cleaning."},
			},
			"recording": map[string]any{
				"stereoUrl": "https://storage.vapi.ai/stereo.wav",
				"mono":      map[string]any{"combinedUrl": "https://storage.vapi.ai/mono.wav"},
			},
			"recordingUrl": "https://storage.vapi.ai/old-mono.wav",
		},
		"analysis": map[string]any{
			"summary":           "Patient booked a cleaning.",
			"structuredData":    map[string]any{"appointment": "2026-12-02T09:00"},
			"successEvaluation": true,
		},
	}
}

// StatusUpdate is a VAPI status-update message for the VAPI call vapiCallID.
func StatusUpdate(vapiCallID, status string, metadata map[string]any) map[string]any {
	return map[string]any{
		"type":   "status-update",
		"status": status,
		"call":   map[string]any{"id": vapiCallID, "metadata": metadata},
	}
}

// ServerMessage is the body VAPI posts for msg: {"message": msg}.
func ServerMessage(msg map[string]any) []byte {
	body, err := json.Marshal(map[string]any{"message": msg})
	if err != nil {
		panic(err) // maps of JSON values always marshal
	}
	return body
}

// DialForm is the form Twilio posts to a <Dial>'s action once the forward is over.
func DialForm(sid, dialCallStatus string) url.Values {
	return url.Values{"CallSid": {sid}, "AccountSid": {"AC00000000000000000000000000000000"},
		"CallStatus": {"in-progress"}, "DialCallStatus": {dialCallStatus}}
}

// RecordingForm is the form of a recording status callback (status "completed", …), or,
// with status "", of a <Record>'s action.
func RecordingForm(sid, recordingSid, status, seconds string) url.Values {
	f := url.Values{"CallSid": {sid}, "AccountSid": {"AC00000000000000000000000000000000"},
		"RecordingSid": {recordingSid}, "RecordingDuration": {seconds},
		"RecordingUrl": {"https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/" + recordingSid}}
	if status != "" {
		f.Set("RecordingStatus", status)
	}
	return f
}

// AssistantRequest is VAPI's assistant-request for an inbound call from customer to
// number, a number that lives in VAPI.
func AssistantRequest(vapiCallID, number, customer string) map[string]any {
	return map[string]any{
		"type":      "assistant-request",
		"timestamp": 1764669600000,
		"call": map[string]any{
			"id": vapiCallID, "orgId": "org_1", "type": "inboundPhoneCall", "status": "ringing",
			"phoneNumberId": "vapi-pn-1", "customer": map[string]any{"number": customer},
		},
		"phoneNumber": map[string]any{"id": "vapi-pn-1", "number": number, "provider": "vapi"},
		"customer":    map[string]any{"number": customer},
	}
}
