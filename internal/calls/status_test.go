package calls_test

import (
	"context"
	"testing"

	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

// The database ranks statuses exactly as calls.Status does, and the status column takes
// exactly the statuses calls.Statuses lists.
func TestStatusesMatchTheDatabase(t *testing.T) {
	t.Parallel()
	pool := testpg.New(t)
	ctx := context.Background()
	for _, s := range append(calls.Statuses, "teleported") {
		var rank *int
		var final *bool
		if err := pool.QueryRow(ctx, "SELECT call_status_rank($1), call_status_final($1)", string(s)).Scan(&rank, &final); err != nil {
			t.Fatal(err)
		}
		want := s.Rank()
		switch {
		case want < 0 && rank != nil:
			t.Errorf("the database ranks %q, which calls.Status does not know", s)
		case want >= 0 && (rank == nil || *rank != want || final == nil || *final != s.Final()):
			t.Errorf("%q: the database ranks it %v (final %v), calls.Status %d (final %v)", s, rank, final, want, s.Final())
		}
		_, err := pool.Exec(ctx, "INSERT INTO calls (user_id, status) VALUES ('user_a', $1)", string(s))
		if (err == nil) != (want >= 0) {
			t.Errorf("inserting a call with status %q: %v", s, err)
		}
	}
}

// Both providers' statuses map onto the state machine; final ones say why the call ended.
func TestProviderStatuses(t *testing.T) {
	t.Parallel()
	for twilio, want := range map[string]struct {
		status calls.Status
		reason string
	}{
		"queued": {calls.StatusInitiated, ""}, "initiated": {calls.StatusInitiated, ""}, "ringing": {calls.StatusRinging, ""},
		"in-progress": {calls.StatusInProgress, ""}, "completed": {calls.StatusEnded, "completed"},
		"busy": {calls.StatusFailed, "busy"}, "no-answer": {calls.StatusFailed, "no-answer"},
		"canceled": {calls.StatusFailed, "canceled"}, "failed": {calls.StatusFailed, "failed"},
	} {
		status, reason, ok := calls.StatusFromTwilio(twilio)
		if !ok || status != want.status || reason != want.reason || (reason != "") != status.Final() {
			t.Errorf("Twilio %s → %s/%s (ok %v), want %s/%s", twilio, status, reason, ok, want.status, want.reason)
		}
	}
	if _, _, ok := calls.StatusFromTwilio("on-hold"); ok {
		t.Error("an undocumented Twilio status mapped")
	}
	for vapi, want := range map[string]calls.Status{
		"scheduled": calls.StatusInitiated, "queued": calls.StatusInitiated, "ringing": calls.StatusRinging,
		"in-progress": calls.StatusInProgress, "forwarding": calls.StatusForwarding, "ended": calls.StatusEnded,
	} {
		if status, ok := calls.StatusFromVAPI(vapi); !ok || status != want {
			t.Errorf("VAPI %s → %s (ok %v), want %s", vapi, status, ok, want)
		}
	}
	if _, ok := calls.StatusFromVAPI("paused"); ok {
		t.Error("an unknown VAPI status mapped")
	}
	if calls.StatusEnded.Rank() != calls.StatusFailed.Rank() || calls.StatusForwarding.Rank() >= calls.StatusEnded.Rank() {
		t.Error("the final statuses do not share the highest rank")
	}
}
