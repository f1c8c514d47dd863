package httpapi_test

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/switchboard-health/switchboard/internal/providertest"
)

// callbacksOf lists a clinic's callbacks with query.
func (b *bundle) callbacksOf(token, query string) []map[string]any {
	b.t.Helper()
	var page struct{ Items []map[string]any }
	expect(b.t, b.do("GET", "/api/callbacks"+query, token, nil), 200).json(b.t, &page)
	return page.Items
}

// The clinic's rules put calls in the callback queue by themselves, once per call and
// never for declined calls: a caller who asked for one (in VAPI's analysis or its
// structured outputs), a failed call, a voicemail, a call after hours, a very short call.
func TestRulesOpenCallbacksByThemselves(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	line := b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	reasonOf := func(callID string) any {
		for _, c := range b.callbacksOf(a, "") {
			if c["call_id"] == callID {
				return c["reason"]
			}
		}
		return nil
	}
	// The report of the last call handed to VAPI, under the id VAPI gave it.
	reportOfLast := func() map[string]any {
		return providertest.EndOfCallReport(fmt.Sprintf("vapi-call-%d", len(b.vapi.Calls())), b.lastHandoff()["metadata"].(map[string]any))
	}

	// A caller who asked, in the analysis's structured data: caller_asked.
	asked := b.newCall(a, "CA_ASKED", clinicALine)
	report := reportOfLast()
	report["analysis"].(map[string]any)["structuredData"] = map[string]any{"callbackRequested": true}
	expect(t, b.vapiMessage(report), 200)
	// Or in a structured output of that name.
	outputs := b.newCall(a, "CA_OUTPUTS", clinicALine)
	report = reportOfLast()
	report["artifact"].(map[string]any)["structuredOutputs"] = map[string]any{
		"5f0c": map[string]any{"name": "callbackRequested", "result": true}}
	expect(t, b.vapiMessage(report), 200)
	// A very short call.
	short := b.newCall(a, "CA_SHORT", clinicALine)
	report = reportOfLast()
	report["endedAt"] = "2026-11-28T10:00:07.000Z"
	expect(t, b.vapiMessage(report), 200)
	// A call that failed.
	failed := b.newCall(a, "CA_FAILED", clinicALine)
	expect(t, b.twilio("/api/webhooks/twilio/status", providertest.StatusForm("CA_FAILED", "failed")), 204)
	// A long, ordinary call: none.
	fine := b.newCall(a, "CA_FINE", clinicALine)
	expect(t, b.vapiMessage(reportOfLast()), 200)
	// After hours, to the after-hours assistant.
	b.clock.Set(nyClosed)
	b.registerAssistant(a, "asst_night")
	expect(t, b.do("PUT", "/api/routing", a, weekdayHours(map[string]any{"closed_action": "after_hours_assistant", "after_hours_assistant_id": "asst_night"})), 200)
	night := b.newCall(a, "CA_NIGHT", clinicALine)
	// Voicemail (the number loses its assistant), and a blocked caller: declined, none.
	expect(t, b.do("PUT", "/api/routing", a, map[string]any{}), 200)
	expect(t, b.do("PATCH", "/api/phone-numbers/"+line.ID.String(), a, map[string]any{"vapi_assistant_id": nil}), 200)
	voicemail := b.newCall(a, "CA_VM", clinicALine)
	expect(t, b.do("POST", "/api/blocked-callers", a, map[string]any{"phone_number": patientNumber}), 201)
	blocked := b.newCall(a, "CA_BLOCKED", clinicALine)

	for id, want := range map[string]any{asked: "caller_asked", outputs: "caller_asked", short: "short_call", failed: "call_failed",
		fine: nil, night: "after_hours", voicemail: "voicemail", blocked: nil} {
		if got := reasonOf(id); got != want {
			t.Errorf("call %s: callback %v, want %v", id, got, want)
		}
	}

	// Once per call: completed, a later change of the call opens no second one.
	cb := b.callbacksOf(a, "")[0]
	expect(t, b.do("POST", "/api/callbacks/"+cb["id"].(string)+"/completion", a, map[string]any{"outcome": "reached"}), 200)
	expect(t, b.twilio("/api/webhooks/twilio/status", providertest.StatusForm("CA_VM", "completed")), 204)
	if n := b.count("SELECT count(*) FROM callbacks WHERE call_id = $1", cb["call_id"]); n != 1 {
		t.Errorf("%d callbacks for one call", n)
	}

	// A clinic turns its rules off.
	var rules map[string]any
	expect(t, b.do("GET", "/api/callback-rules", a, nil), 200).json(t, &rules)
	if rules["on_voicemail"] != true || rules["short_call_seconds"] != float64(20) || rules["requested_field"] != "callbackRequested" {
		t.Fatalf("the default rules: %v", rules)
	}
	expect(t, b.do("PUT", "/api/callback-rules", a, map[string]any{"on_failed": false, "short_call_seconds": nil,
		"on_voicemail": false, "on_after_hours": false, "requested_field": nil}), 200)
	quiet := b.newCall(a, "CA_QUIET", clinicALine)
	if reasonOf(quiet) != nil {
		t.Errorf("a voicemail opened a callback with the rules off")
	}
	// Another clinic's rules and queue are its own.
	other := b.token("user_clinic_b")
	if len(b.callbacksOf(other, "")) != 0 {
		t.Fatal("another clinic sees the queue")
	}
	expect(t, b.do("GET", "/api/callback-rules", other, nil), 200).json(t, &rules)
	if rules["on_voicemail"] != true {
		t.Fatalf("another clinic's rules: %v", rules)
	}
}

// Staff work the queue: open a callback, assign it, complete it; each step is recorded
// with who and when, audited, and streamed.
func TestStaffWorkTheCallbackQueue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.orgToken("user_admin", "org_clinic", "org:admin")
	alice := b.orgToken("user_alice", "org_clinic", "org:member")
	b.registerLine(admin, clinicALine, "asst_a", "vpn_a")
	first := b.newCall(admin, "CA_ONE", clinicALine)
	second := b.newCall(admin, "CA_TWO", clinicALine)
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)
	live := b.stream(srv, alice, "")

	var one, two map[string]any
	expect(t, b.do("POST", "/api/calls/"+first+"/callbacks", alice, nil), 201).json(t, &one)
	if one["reason"] != "requested_by_staff" || one["created_by"] != "user_alice" || one["status"] != "open" || one["assignee"] != nil {
		t.Fatalf("opened %v", one)
	}
	if p := expect(t, b.do("POST", "/api/calls/"+first+"/callbacks", alice, nil), 409).problem(t); p["code"] != "callback_open" {
		t.Fatalf("a second open callback: %v", p)
	}
	expect(t, b.do("POST", "/api/calls/"+second+"/callbacks", alice, map[string]any{"assignee": "user_alice"}), 201).json(t, &two)
	expect(t, b.do("POST", "/api/calls/"+second+"/callbacks", alice, map[string]any{"assignee": "not a user"}), 400)
	expect(t, b.do("POST", "/api/calls/"+second+"/callbacks", b.token("user_other"), nil), 404)

	// The queue, oldest first; by assignee.
	if q := b.callbacksOf(alice, ""); len(q) != 2 || q[0]["id"] != one["id"] || q[0]["call"].(map[string]any)["caller_number"] != patientNumber {
		t.Fatalf("the queue: %v", q)
	}
	if q := b.callbacksOf(alice, "?assignee=me"); len(q) != 1 || q[0]["id"] != two["id"] {
		t.Fatalf("Alice's callbacks: %v", q)
	}
	if q := b.callbacksOf(alice, "?unassigned=true"); len(q) != 1 || q[0]["id"] != one["id"] {
		t.Fatalf("unassigned: %v", q)
	}
	if q := b.callbacksOf(alice, "?limit=1"); len(q) != 1 {
		t.Fatalf("a page of one: %v", q)
	}
	var page struct {
		Items      []map[string]any
		NextCursor *string `json:"next_cursor"`
	}
	expect(t, b.do("GET", "/api/callbacks?limit=1", alice, nil), 200).json(t, &page)
	expect(t, b.do("GET", "/api/callbacks?limit=1&cursor="+*page.NextCursor, alice, nil), 200).json(t, &page)
	if len(page.Items) != 1 || page.Items[0]["id"] != two["id"] || page.NextCursor != nil {
		t.Fatalf("the second page: %+v", page)
	}

	var assigned, done map[string]any
	expect(t, b.do("PATCH", "/api/callbacks/"+one["id"].(string), admin, map[string]any{"assignee": "user_alice"}), 200).json(t, &assigned)
	if assigned["assignee"] != "user_alice" || assigned["assigned_by"] != "user_admin" || assigned["assigned_at"] == nil {
		t.Fatalf("assigned %v", assigned)
	}
	expect(t, b.do("POST", "/api/callbacks/"+one["id"].(string)+"/completion", alice, map[string]any{"outcome": "left_message", "notes": "Voicemail left at 3pm."}), 200).json(t, &done)
	if done["status"] != "completed" || done["outcome"] != "left_message" || done["completed_by"] != "user_alice" || done["completed_at"] == nil {
		t.Fatalf("completed %v", done)
	}
	if p := expect(t, b.do("POST", "/api/callbacks/"+one["id"].(string)+"/completion", alice, map[string]any{"outcome": "reached"}), 409).problem(t); p["code"] != "callback_completed" {
		t.Fatalf("completing twice: %v", p)
	}
	expect(t, b.do("PATCH", "/api/callbacks/"+one["id"].(string), alice, map[string]any{"assignee": nil}), 409)
	if q := b.callbacksOf(alice, "?status=completed"); len(q) != 1 || q[0]["id"] != one["id"] {
		t.Fatalf("completed callbacks: %v", q)
	}
	// A member without calls:write reads the queue but cannot work it.
	viewer := b.orgToken("user_viewer", "org_clinic", "org:viewer", "org:calls:read")
	b.callbacksOf(viewer, "")
	expect(t, b.do("POST", "/api/callbacks/"+two["id"].(string)+"/completion", viewer, map[string]any{"outcome": "reached"}), 403)

	var log struct{ Items []map[string]any }
	expect(t, b.do("GET", "/api/audit-events?target_id="+one["id"].(string), admin, nil), 200).json(t, &log)
	if len(log.Items) != 3 || log.Items[0]["action"] != "callback.complete" || log.Items[2]["action"] != "callback.open" {
		t.Fatalf("the audit log: %v", log.Items)
	}
	for _, want := range []string{"callback_opened", "callback_opened", "callback_assigned", "callback_completed"} {
		if ev := live.nextStaffChange(); ev.event != want {
			t.Fatalf("streamed %+v, want %s", ev, want)
		}
	}
}
