package calls_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
)

// A report that never arrived is fetched from VAPI; calls VAPI does not know, or that
// never reached it, end failed with the reason; a call routed to voicemail, which took
// place but whose final status Twilio never sent, ends; live and recent calls are left
// alone.
func TestReconcileFinishesCallsLeftOpen(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, "")
	old := time.Now().Add(-2 * time.Hour)
	vid := func(s string) *string { return &s }
	lost := b.insertCall(dbsqlc.InsertCallParams{Status: "in_progress", StartedAt: old, VapiCallID: vid("vc_lost_report")})
	unknown := b.insertCall(dbsqlc.InsertCallParams{Status: "ringing", StartedAt: old, VapiCallID: vid("vc_unknown")})
	stranded := b.insertCall(dbsqlc.InsertCallParams{Status: "initiated", StartedAt: old})
	voicemail := b.insertCall(dbsqlc.InsertCallParams{Status: "initiated", StartedAt: old})
	if _, err := b.pool.Exec(context.Background(), "UPDATE calls SET handling = 'voicemail' WHERE id = $1", voicemail.ID); err != nil {
		t.Fatal(err)
	}
	live := b.insertCall(dbsqlc.InsertCallParams{Status: "in_progress", StartedAt: old, VapiCallID: vid("vc_still_live")})
	recent := b.insertCall(dbsqlc.InsertCallParams{Status: "in_progress", StartedAt: time.Now(), VapiCallID: vid("vc_recent")})
	b.vapi.SetCallObjects(map[string]string{
		"vc_lost_report": `{"id":"vc_lost_report","status":"ended","endedReason":"customer-ended-call",
			"startedAt":"2026-11-28T10:00:00Z","endedAt":"2026-11-28T10:03:00Z","cost":0.2,
			"metadata":{"user_id":"user_clinic_a"},
			"artifact":{"transcript":"AI: Hello.","messages":[{"role":"bot","message":"Hello."}],"recording":{"mono":{"combinedUrl":"https://storage.vapi.ai/r.wav"}}},
			"analysis":{"summary":"Short call.","successEvaluation":"true"}}`,
		"vc_still_live": `{"id":"vc_still_live","status":"in-progress"}`,
		"vc_recent":     `{"id":"vc_recent","status":"ended"}`,
	})

	n, err := b.jobs.Reconcile(context.Background(), 30*time.Minute)
	if err != nil || n != 5 {
		t.Fatalf("Reconcile = %d, %v; want the 5 old open calls", n, err)
	}
	c := b.call(lost.ID.String())
	if c.CallSummary.Status != "ended" || *c.Transcript != "AI: Hello." || *c.CallSummary.Summary != "Short call." || *c.CallSummary.DurationSeconds != 180 ||
		*c.CallSummary.RecordingUrl != "https://storage.vapi.ai/r.wav" || *c.CallSummary.EndedReason != "customer-ended-call" {
		t.Errorf("reconciled call %+v", c.CallSummary)
	}
	for id, reason := range map[string]string{unknown.ID.String(): "vapi_call_not_found", stranded.ID.String(): "handoff_incomplete"} {
		if c := b.call(id); c.CallSummary.Status != "failed" || *c.CallSummary.EndedReason != reason {
			t.Errorf("call %s: %v / %v, want failed / %s", id, c.CallSummary.Status, c.CallSummary.EndedReason, reason)
		}
	}
	if c := b.call(voicemail.ID.String()); c.CallSummary.Status != "ended" || *c.CallSummary.EndedReason != "final_status_not_received" {
		t.Errorf("a voicemail call left open: %v / %v, want ended", c.CallSummary.Status, c.CallSummary.EndedReason)
	}
	if c := b.call(live.ID.String()); c.CallSummary.Status != "in_progress" {
		t.Errorf("a call still live on VAPI became %v", c.CallSummary.Status)
	}
	if c := b.call(recent.ID.String()); c.CallSummary.Status != "in_progress" {
		t.Errorf("a recent call was reconciled: %v", c.CallSummary.Status)
	}
	// Settled calls are not asked about again.
	before := b.vapi.Gets()
	if n, _ := b.jobs.Reconcile(context.Background(), 30*time.Minute); n != 1 {
		t.Errorf("second Reconcile looked at %d calls, want only the live one", n)
	}
	if b.vapi.Gets()-before != 1 {
		t.Errorf("second Reconcile asked VAPI %d times", b.vapi.Gets()-before)
	}
}

// insertCall records one of the clinic's calls as it stands, in its tenant transaction.
func (b *bundle) insertCall(p dbsqlc.InsertCallParams) dbsqlc.Call {
	b.t.Helper()
	p.UserID, p.Direction = string(clinic), "inbound"
	var c dbsqlc.Call
	err := b.db.Tx(context.Background(), clinic, func(q *dbsqlc.Queries) (err error) {
		c, err = q.InsertCall(context.Background(), p)
		return err
	})
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}
