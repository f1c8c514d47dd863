package calls

// Status is where a call is in its life. The SQL side knows the same order through one
// function, call_status_rank (see the migrations); TestStatusesMatchTheDatabase keeps the
// two in step.
type Status string

// The statuses, in the order of a call's life. Ended and failed are both final.
const (
	StatusInitiated  Status = "initiated"
	StatusRinging    Status = "ringing"
	StatusInProgress Status = "in_progress"
	StatusForwarding Status = "forwarding"
	StatusEnded      Status = "ended"
	StatusFailed     Status = "failed"
)

// Statuses lists every status in the order of a call's life.
var Statuses = []Status{StatusInitiated, StatusRinging, StatusInProgress, StatusForwarding, StatusEnded, StatusFailed}

// Rank orders statuses: a call only moves to a higher rank, so a late or reordered update
// never moves it back. Both final statuses share the highest rank, so neither replaces the
// other. An unknown status ranks -1.
func (s Status) Rank() int {
	switch s {
	case StatusEnded, StatusFailed:
		return 4
	case StatusForwarding:
		return 3
	case StatusInProgress:
		return 2
	case StatusRinging:
		return 1
	case StatusInitiated:
		return 0
	}
	return -1
}

// Final reports whether a call in this status is over.
func (s Status) Final() bool { return s.Rank() == StatusEnded.Rank() }

// twilioStatuses maps Twilio's call statuses (a status callback's CallStatus) to
// Switchboard's, with the ended reason a final one records.
var twilioStatuses = map[string]struct {
	status      Status
	endedReason string
}{
	"queued":      {StatusInitiated, ""},
	"initiated":   {StatusInitiated, ""},
	"ringing":     {StatusRinging, ""},
	"in-progress": {StatusInProgress, ""},
	"completed":   {StatusEnded, "completed"},
	"busy":        {StatusFailed, "busy"},
	"failed":      {StatusFailed, "failed"},
	"no-answer":   {StatusFailed, "no-answer"},
	"canceled":    {StatusFailed, "canceled"},
}

// StatusFromTwilio returns Switchboard's status for Twilio's CallStatus and, for a final
// one, the ended reason to record; ok is false for a status Twilio does not document.
func StatusFromTwilio(callStatus string) (status Status, endedReason string, ok bool) {
	m, ok := twilioStatuses[callStatus]
	return m.status, m.endedReason, ok
}

// vapiStatuses maps VAPI's call statuses (a status-update's status) to Switchboard's.
var vapiStatuses = map[string]Status{
	"scheduled":   StatusInitiated,
	"queued":      StatusInitiated,
	"ringing":     StatusRinging,
	"in-progress": StatusInProgress,
	"forwarding":  StatusForwarding,
	"ended":       StatusEnded,
}

// StatusFromVAPI returns Switchboard's status for VAPI's; ok is false for one Switchboard
// does not track.
func StatusFromVAPI(status string) (Status, bool) {
	s, ok := vapiStatuses[status]
	return s, ok
}
