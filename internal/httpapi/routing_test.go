package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/internal/providertest"
	"github.com/switchboard-health/switchboard/internal/testkit"
)

// parseTwiML, verbs and sameTwiML read TwiML as Twilio does (providertest's reader).
var (
	parseTwiML = providertest.ParseTwiML
	verbs      = providertest.VerbNames
	sameTwiML  = providertest.SameTwiML
)

// Wednesday 2 December 2026 in New York: open at 10:00, closed at 21:00.
var (
	nyOpen   = time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	nyClosed = time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
)

// weekdayHours is a clinic open 08:00–17:00 on weekdays, in New York.
func weekdayHours(extra map[string]any) map[string]any {
	var hours []any
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		hours = append(hours, map[string]any{"day": d, "open": "08:00", "close": "17:00"})
	}
	body := map[string]any{"clinic_name": "Elm Street Dental", "time_zone": "America/New_York", "weekly_hours": hours}
	for k, v := range extra {
		body[k] = v
	}
	return body
}

// lastHandoff is the last create-call request VAPI received.
func (b *bundle) lastHandoff() map[string]any {
	b.t.Helper()
	calls := b.vapi.Calls()
	if len(calls) == 0 {
		b.t.Fatal("VAPI was never asked")
	}
	return calls[len(calls)-1].Body
}

func (b *bundle) callBySid(token, sid string) map[string]any {
	b.t.Helper()
	for _, c := range b.callsOf(token) {
		if c["twilio_call_sid"] == sid {
			return c
		}
	}
	b.t.Fatalf("no call %s", sid)
	return nil
}

func TestRoutingSettingsAreValidated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")

	var got map[string]any
	expect(t, b.do("GET", "/api/routing", a, nil), 200).json(t, &got)
	if got["scope"] != "clinic" || got["open_now"] != true || got["closed_action"] != "voicemail" || got["spam_policy"] != "allow" || got["updated_at"] != nil {
		t.Fatalf("the defaults: %v", got)
	}
	for name, body := range map[string]map[string]any{
		"an unknown zone":                   {"time_zone": "Mars/Olympus_Mons"},
		"hours without a zone":              {"weekly_hours": []any{map[string]any{"day": "mon", "open": "08:00", "close": "17:00"}}},
		"a window that opens and closes":    weekdayHours(map[string]any{"weekly_hours": []any{map[string]any{"day": "mon", "open": "08:00", "close": "08:00"}}}),
		"a time that is no time":            weekdayHours(map[string]any{"weekly_hours": []any{map[string]any{"day": "mon", "open": "25:00", "close": "26:00"}}}),
		"a closure ending before it starts": weekdayHours(map[string]any{"closures": []any{map[string]any{"from": "2026-12-26", "to": "2026-12-24"}}}),
		"forward without a number":          {"closed_action": "forward"},
		"an after-hours assistant unnamed":  {"closed_action": "after_hours_assistant"},
	} {
		p := expect(t, b.do("PUT", "/api/routing", a, body), 422).problem(t)
		if p["code"] != "invalid_routing" {
			t.Errorf("%s: %v", name, p)
		}
	}
	p := expect(t, b.do("PUT", "/api/routing", a, map[string]any{"fallback_number": "555-0100"}), 422).problem(t)
	if p["code"] != "invalid_phone_number" || !strings.HasPrefix(p["detail"].(string), "fallback_number") {
		t.Errorf("a fallback that cannot be called: %v", p)
	}
	// Another clinic's assistant is not this clinic's to route to.
	b.registerAssistant(b.token("user_clinic_b"), "asst_theirs")
	p = expect(t, b.do("PUT", "/api/routing", a, map[string]any{"closed_action": "after_hours_assistant", "after_hours_assistant_id": "asst_theirs"}), 422).problem(t)
	if p["code"] != "unknown_assistant" {
		t.Errorf("another clinic's after-hours assistant: %v", p)
	}

	// A valid policy is stored as given, numbers in E.164, and says where the clinic stands.
	b.clock.Set(nyClosed)
	expect(t, b.do("PUT", "/api/routing", a, weekdayHours(map[string]any{
		"closed_action": "forward", "on_call_number": "(212) 736-5001", "fallback_number": "+1 650 253 0001",
		"closures": []any{map[string]any{"from": "2026-12-24", "to": "2026-12-26", "note": "Holidays"}},
	})), 200).json(t, &got)
	if got["on_call_number"] != "+12127365001" || got["fallback_number"] != "+16502530001" || got["open_now"] != false ||
		got["next_open_at"] != "2026-12-03T13:00:00Z" || got["updated_at"] == nil || len(got["closures"].([]any)) != 1 {
		t.Fatalf("stored %v", got)
	}
	var again map[string]any
	expect(t, b.do("GET", "/api/routing", a, nil), 200).json(t, &again)
	if again["on_call_number"] != "+12127365001" || len(again["weekly_hours"].([]any)) != 5 {
		t.Fatalf("read back %v", again)
	}

	// Members read the routing; only admins change it.
	member := b.orgToken("user_m", "org_x", "org:member")
	expect(t, b.do("GET", "/api/routing", member, nil), 200)
	expect(t, b.do("PUT", "/api/routing", member, map[string]any{}), 403)
}

// A number may have routing of its own (another site's hours), which replaces the
// clinic's for its calls; deleting it returns the number to the clinic's.
func TestANumberMayHaveItsOwnRouting(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	main := b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	site := b.registerLine(a, clinicBLine, "asst_a", "vpn_a")
	b.clock.Set(nyClosed)
	expect(t, b.do("PUT", "/api/routing", a, weekdayHours(nil)), 200)
	// The second site answers around the clock, with its own name.
	var own map[string]any
	expect(t, b.do("PUT", "/api/phone-numbers/"+site.ID.String()+"/routing", a, map[string]any{"clinic_name": "Night Clinic"}), 200).json(t, &own)
	if own["scope"] != "phone_number" || own["open_now"] != true {
		t.Fatalf("the site's routing %v", own)
	}
	var inherited map[string]any
	expect(t, b.do("GET", "/api/phone-numbers/"+main.ID.String()+"/routing", a, nil), 200).json(t, &inherited)
	if inherited["scope"] != "clinic" || inherited["open_now"] != false {
		t.Fatalf("the main line's routing %v", inherited)
	}

	closedTwiML := isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_MAIN", patientNumber, sharedLine, clinicALine)))
	if v := verbs(t, closedTwiML); v[0] != "Say" || v[1] != "Record" {
		t.Fatalf("the closed main line answered %s", closedTwiML)
	}
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_SITE", patientNumber, sharedLine, clinicBLine)))
	vars := b.lastHandoff()["assistantOverrides"].(map[string]any)["variableValues"].(map[string]any)
	if vars["clinic_name"] != "Night Clinic" || vars["clinic_open"] != "true" {
		t.Fatalf("the site's call told the assistant %v", vars)
	}
	if c := b.callBySid(a, "CA_SITE"); c["handling"] != "assistant" || c["handling_reason"] != "open" {
		t.Fatalf("the site's call %v", c)
	}

	expect(t, b.do("DELETE", "/api/phone-numbers/"+site.ID.String()+"/routing", a, nil), 204)
	expect(t, b.do("DELETE", "/api/phone-numbers/"+site.ID.String()+"/routing", a, nil), 404)
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_SITE2", patientNumber, sharedLine, clinicBLine)))
	if c := b.callBySid(a, "CA_SITE2"); c["handling"] != "voicemail" || c["handling_reason"] != "closed" {
		t.Fatalf("the site back on the clinic's routing: %v", c)
	}
	// Another clinic cannot read or set a number that is not its own.
	other := b.token("user_clinic_b")
	expect(t, b.do("GET", "/api/phone-numbers/"+site.ID.String()+"/routing", other, nil), 404)
	expect(t, b.do("PUT", "/api/phone-numbers/"+site.ID.String()+"/routing", other, map[string]any{}), 404)
}

// Blocked callers and callers whose caller id failed STIR/SHAKEN are declined before any
// assistant is asked; their calls are recorded, cost nothing, and can be listed.
func TestBlockedCallersAndSpamAreDeclinedAndRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")

	var blocked map[string]any
	expect(t, b.do("POST", "/api/blocked-callers", a, map[string]any{"phone_number": "(312) 744-5000", "reason": "abusive"}), 201).json(t, &blocked)
	if blocked["phone_number"] != patientNumber {
		t.Fatalf("blocked %v", blocked)
	}
	if p := expect(t, b.do("POST", "/api/blocked-callers", a, map[string]any{"phone_number": patientNumber}), 409).problem(t); p["code"] != "already_blocked" {
		t.Errorf("blocking twice: %v", p)
	}
	if p := expect(t, b.do("POST", "/api/blocked-callers", a, map[string]any{"phone_number": "12"}), 422).problem(t); p["code"] != "invalid_phone_number" {
		t.Errorf("blocking a non-number: %v", p)
	}
	// Another clinic's block is not this clinic's.
	var theirs struct{ Items []map[string]any }
	expect(t, b.do("GET", "/api/blocked-callers", b.token("user_clinic_b"), nil), 200).json(t, &theirs)
	if len(theirs.Items) != 0 {
		t.Fatalf("another clinic sees blocks %v", theirs.Items)
	}
	expect(t, b.do("DELETE", "/api/blocked-callers/"+blocked["id"].(string), b.token("user_clinic_b"), nil), 404)

	twiml := isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_BLOCKED", patientNumber, sharedLine, clinicALine)))
	if v := verbs(t, twiml); len(v) != 1 || v[0] != "Reject" {
		t.Fatalf("a blocked caller was answered %s", twiml)
	}

	// Spam: reject calls whose caller id failed verification; let verified ones through.
	expect(t, b.do("PUT", "/api/routing", a, map[string]any{"spam_policy": "reject"}), 200)
	spam := providertest.InboundForm("CA_SPAM", "+13125550111", sharedLine, clinicALine)
	spam.Set("StirVerstat", "TN-Validation-Failed-B")
	if v := verbs(t, isTwiML(t, b.twilio("/api/webhooks/twilio", spam))); v[0] != "Reject" {
		t.Fatalf("a call failing STIR/SHAKEN was answered %v", v)
	}
	passed := providertest.InboundForm("CA_PASSED", "+13125550112", sharedLine, clinicALine)
	passed.Set("StirVerstat", "TN-Validation-Passed-A")
	isTwiML(t, b.twilio("/api/webhooks/twilio", passed))
	expect(t, b.do("PUT", "/api/routing", a, map[string]any{"spam_policy": "voicemail"}), 200)
	unsigned := providertest.InboundForm("CA_UNSIGNED", "+13125550113", sharedLine, clinicALine)
	unsigned.Set("StirVerstat", "No-TN-Validation")
	if v := verbs(t, isTwiML(t, b.twilio("/api/webhooks/twilio", unsigned))); v[1] != "Record" {
		t.Fatalf("a call without caller-id validation went %v, want voicemail", v)
	}
	if n := len(b.vapi.Calls()); n != 1 {
		t.Fatalf("VAPI was asked %d times, want once (the verified caller)", n)
	}

	for sid, want := range map[string][3]string{
		"CA_BLOCKED":  {"blocked", "blocked_caller", "ended"},
		"CA_SPAM":     {"spam_rejected", "caller_id_not_verified", "ended"},
		"CA_PASSED":   {"assistant", "open", "initiated"},
		"CA_UNSIGNED": {"voicemail", "caller_id_not_verified", "initiated"},
	} {
		c := b.callBySid(a, sid)
		if c["handling"] != want[0] || c["handling_reason"] != want[1] || c["status"] != want[2] {
			t.Errorf("%s: handling %v (%v), status %v; want %v", sid, c["handling"], c["handling_reason"], c["status"], want)
		}
	}
	var page struct{ Items []map[string]any }
	expect(t, b.do("GET", "/api/calls?handling=blocked", a, nil), 200).json(t, &page)
	if len(page.Items) != 1 || page.Items[0]["twilio_call_sid"] != "CA_BLOCKED" {
		t.Fatalf("the blocked calls: %v", page.Items)
	}
	var stats struct {
		ByHandling []struct {
			Handling string
			Calls    int
		} `json:"by_handling"`
	}
	expect(t, b.do("GET", "/api/calls/stats", a, nil), 200).json(t, &stats)
	counts := map[string]int{}
	for _, h := range stats.ByHandling {
		counts[h.Handling] = h.Calls
	}
	if len(stats.ByHandling) != 8 || counts["blocked"] != 1 || counts["spam_rejected"] != 1 || counts["voicemail"] != 1 || counts["assistant"] != 1 || counts["forwarded"] != 0 {
		t.Fatalf("calls by handling %v", stats.ByHandling)
	}

	// Unblocked, the caller reaches the assistant again.
	expect(t, b.do("DELETE", "/api/blocked-callers/"+blocked["id"].(string), a, nil), 204)
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_UNBLOCKED", patientNumber, sharedLine, clinicALine)))
	if c := b.callBySid(a, "CA_UNBLOCKED"); c["handling"] != "assistant" {
		t.Fatalf("an unblocked caller: %v", c)
	}
}

// While the clinic is closed its closed action decides: the after-hours assistant (told
// that the clinic is closed and when it opens), a forward to the on-call number with the
// caller's own number shown, voicemail, or a rejection. Open, the number's assistant.
func TestClosedActions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_day", "vpn_a")
	b.registerAssistant(a, "asst_night")
	call := func(sid string) string {
		return isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm(sid, patientNumber, sharedLine, clinicALine)))
	}

	b.clock.Set(nyOpen)
	expect(t, b.do("PUT", "/api/routing", a, weekdayHours(map[string]any{"closed_action": "after_hours_assistant", "after_hours_assistant_id": "asst_night"})), 200)
	call("CA_OPEN")
	h := b.lastHandoff()
	vars := h["assistantOverrides"].(map[string]any)["variableValues"].(map[string]any)
	if h["assistantId"] != "asst_day" || vars["clinic_open"] != "true" || vars["clinic_name"] != "Elm Street Dental" {
		t.Fatalf("open: asked %v with %v", h["assistantId"], vars)
	}

	b.clock.Set(nyClosed)
	call("CA_NIGHT")
	h = b.lastHandoff()
	vars = h["assistantOverrides"].(map[string]any)["variableValues"].(map[string]any)
	if h["assistantId"] != "asst_night" || vars["clinic_open"] != "false" || vars["next_open"] != "Thursday 3 December at 08:00" {
		t.Fatalf("closed: asked %v with %v", h["assistantId"], vars)
	}
	if md := h["metadata"].(map[string]any); md["user_id"] != "user_clinic_a" {
		t.Fatalf("the hand-off's metadata %v", md)
	}

	expect(t, b.do("PUT", "/api/routing", a, weekdayHours(map[string]any{"closed_action": "forward", "on_call_number": "+12127365001"})), 200)
	dial := parseTwiML(t, call("CA_ONCALL"))
	if len(dial) != 1 || dial[0].XMLName.Local != "Dial" || dial[0].Attr("callerId") != patientNumber ||
		dial[0].Attr("action") != "/api/webhooks/twilio/dial" || strings.TrimSpace(dial[0].Inner[0].Text) != "+12127365001" {
		t.Fatalf("closed with a forward: %+v", dial)
	}

	expect(t, b.do("PUT", "/api/routing", a, weekdayHours(map[string]any{"closed_action": "voicemail", "voicemail_greeting": "Elm Street is closed; leave a message."})), 200)
	vm := parseTwiML(t, call("CA_VM"))
	if vm[0].Text != "Elm Street is closed; leave a message." || vm[1].XMLName.Local != "Record" ||
		vm[1].Attr("recordingStatusCallback") != "/api/webhooks/twilio/recording" {
		t.Fatalf("closed with voicemail: %+v", vm)
	}

	expect(t, b.do("PUT", "/api/routing", a, weekdayHours(map[string]any{"closed_action": "reject"})), 200)
	if v := verbs(t, call("CA_REJECT")); v[0] != "Reject" {
		t.Fatalf("closed with a rejection: %v", v)
	}
	// Christmas morning, a Friday, within the weekly hours but on a closure day.
	expect(t, b.do("PUT", "/api/routing", a, weekdayHours(map[string]any{
		"closures": []any{map[string]any{"from": "2026-12-24", "to": "2026-12-26", "note": "Holidays"}}})), 200)
	b.clock.Set(time.Date(2026, 12, 25, 15, 0, 0, 0, time.UTC))
	if v := verbs(t, call("CA_HOLIDAY")); v[1] != "Record" {
		t.Fatalf("on a closure day: %v", v)
	}
	if n := len(b.vapi.Calls()); n != 2 {
		t.Fatalf("VAPI was asked %d times, want 2", n)
	}
	for sid, want := range map[string][2]string{
		"CA_OPEN": {"assistant", "open"}, "CA_NIGHT": {"after_hours_assistant", "closed"},
		"CA_ONCALL": {"forwarded", "closed"}, "CA_VM": {"voicemail", "closed"}, "CA_REJECT": {"closed_rejected", "closed"},
		"CA_HOLIDAY": {"voicemail", "closure"},
	} {
		if c := b.callBySid(a, sid); c["handling"] != want[0] || c["handling_reason"] != want[1] {
			t.Errorf("%s: %v (%v), want %v", sid, c["handling"], c["handling_reason"], want)
		}
	}
	if c := b.callBySid(a, "CA_ONCALL"); c["forwarded_to"] != "+12127365001" {
		t.Errorf("the forwarded call says it went to %v", c["forwarded_to"])
	}
}

// When VAPI cannot take the call, the caller goes to the human fallback with their own
// number shown; a forward nobody answers goes to voicemail, whose recording the clinic
// plays through the ownership-checked recording endpoint, streamed from Twilio.
func TestAFallbackNobodyAnswersEndsInAVoicemailTheClinicCanPlay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	expect(t, b.do("PUT", "/api/routing", a, map[string]any{"fallback_number": "+16502530001", "voicemail_greeting": "Please leave a message."}), 200)

	b.vapi.FailWith(503)
	dial := parseTwiML(t, isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_FB", patientNumber, sharedLine, clinicALine))))
	if dial[0].XMLName.Local != "Dial" || dial[0].Attr("callerId") != patientNumber || strings.TrimSpace(dial[0].Inner[0].Text) != "+16502530001" {
		t.Fatalf("VAPI down: %+v", dial)
	}
	testkit.Eventually(t, 5*time.Second, "the fallback is recorded", func() bool {
		c := b.callBySid(a, "CA_FB")
		return c["handling"] == "forwarded" && c["handling_reason"] == "vapi_unavailable" && c["forwarded_to"] == "+16502530001"
	})

	// Nobody picks up: voicemail with the clinic's greeting, for every delivery.
	for range 2 {
		vm := parseTwiML(t, isTwiML(t, b.twilio("/api/webhooks/twilio/dial", providertest.DialForm("CA_FB", "no-answer"))))
		if vm[0].Text != "Please leave a message." || vm[1].XMLName.Local != "Record" {
			t.Fatalf("an unanswered forward: %+v", vm)
		}
	}
	if c := b.callBySid(a, "CA_FB"); c["handling"] != "voicemail" || c["handling_reason"] != "forward_unanswered" {
		t.Fatalf("after the unanswered forward: %v", c)
	}
	// The caller leaves a message: thanked, and the recording is kept.
	if v := verbs(t, isTwiML(t, b.twilio("/api/webhooks/twilio/voicemail", providertest.RecordingForm("CA_FB", "RE_1", "", "14")))); v[len(v)-1] != "Hangup" {
		t.Fatalf("after the message: %v", v)
	}
	expect(t, b.twilio("/api/webhooks/twilio/recording", providertest.RecordingForm("CA_FB", "RE_1", "completed", "14")), 204)
	c := b.callBySid(a, "CA_FB")
	if c["voicemail_duration_seconds"] != float64(14) {
		t.Fatalf("the voicemail on the call: %v", c)
	}
	b.media.Add("RE_1", []byte("ID3-the-voicemail"))
	id := c["id"].(string)
	r := expect(t, b.do("GET", "/api/calls/"+id+"/recording", a, nil), 200)
	if string(r.body) != "ID3-the-voicemail" || r.header.Get("Content-Type") != "audio/mpeg" || r.header.Get("Location") != "" {
		t.Fatalf("playing the voicemail: %q %v", r.body, r.header)
	}
	if strings.Contains(string(r.body)+fmt.Sprint(r.header), twilioToken) {
		t.Fatal("the answer carries the Twilio credentials")
	}
	expect(t, b.do("GET", "/api/calls/"+id+"/recording?variant=voicemail", a, nil), 200)
	expect(t, b.do("GET", "/api/calls/"+id+"/recording?variant=voicemail", b.token("user_clinic_b"), nil), 404)

	// A forward someone answers ends the call when they hang up.
	b.vapi.FailWith(503)
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_FB2", patientNumber, sharedLine, clinicALine)))
	if v := verbs(t, isTwiML(t, b.twilio("/api/webhooks/twilio/dial", providertest.DialForm("CA_FB2", "completed")))); len(v) != 1 || v[0] != "Hangup" {
		t.Fatalf("an answered forward: %v", v)
	}
	// The follow-ups are signed like every Twilio webhook.
	for _, path := range []string{"/api/webhooks/twilio/dial", "/api/webhooks/twilio/voicemail", "/api/webhooks/twilio/recording"} {
		expect(t, b.twilioSigned(path, providertest.DialForm("CA_FB", "no-answer"), "forged"), 403)
	}
}

// VAPI's assistant-request, for a number that lives in VAPI, is answered from the same
// routing decision, records the call once per VAPI call id against the clinic that
// verified the number, and the later report attaches to that call.
func TestVAPIAssistantRequestsAreRoutedLikeTwilioCalls(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	line := b.registerLine(a, clinicALine, "asst_day", "")
	b.clock.Set(nyOpen)
	expect(t, b.do("PUT", "/api/routing", a, weekdayHours(map[string]any{"closed_action": "forward", "on_call_number": "+12127365001"})), 200)

	var answer map[string]any
	for range 2 {
		answer = nil // a fresh answer: json merges into a map
		expect(t, b.vapiMessage(providertest.AssistantRequest("vapi-ar-1", clinicALine, patientNumber)), 200).json(t, &answer)
		if answer["assistantId"] != "asst_day" {
			t.Fatalf("open: %v", answer)
		}
	}
	overrides := answer["assistantOverrides"].(map[string]any)
	md, vars := overrides["metadata"].(map[string]any), overrides["variableValues"].(map[string]any)
	if md["user_id"] != "user_clinic_a" || md["phone_number_id"] != line.ID.String() || vars["clinic_open"] != "true" {
		t.Fatalf("the overrides %v", overrides)
	}
	calls := b.callsOf(a)
	if len(calls) != 1 || calls[0]["vapi_call_id"] != "vapi-ar-1" || calls[0]["handling"] != "assistant" || md["call_id"] != calls[0]["id"] {
		t.Fatalf("recorded %v", calls)
	}
	expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-ar-1", nil)), 200)
	if calls = b.callsOf(a); len(calls) != 1 || calls[0]["summary"] == nil {
		t.Fatalf("the report did not attach to the recorded call: %v", calls)
	}

	b.clock.Set(nyClosed)
	answer = nil // a fresh answer: json merges into a map
	expect(t, b.vapiMessage(providertest.AssistantRequest("vapi-ar-2", clinicALine, patientNumber)), 200).json(t, &answer)
	if dest, _ := answer["destination"].(map[string]any); dest["type"] != "number" || dest["number"] != "+12127365001" {
		t.Fatalf("closed with a forward: %v", answer)
	}
	expect(t, b.do("PUT", "/api/routing", a, weekdayHours(nil)), 200)
	answer = nil // a fresh answer: json merges into a map
	expect(t, b.vapiMessage(providertest.AssistantRequest("vapi-ar-3", clinicALine, patientNumber)), 200).json(t, &answer)
	if msg, _ := answer["error"].(string); !strings.Contains(msg, "closed") || !strings.Contains(msg, "Thursday 3 December at 08:00") {
		t.Fatalf("closed without a forward: %v", answer)
	}
	expect(t, b.do("POST", "/api/blocked-callers", a, map[string]any{"phone_number": "+13127445001"}), 201)
	answer = nil // a fresh answer: json merges into a map
	expect(t, b.vapiMessage(providertest.AssistantRequest("vapi-ar-4", clinicALine, "+13127445001")), 200).json(t, &answer)
	if answer["error"] == nil || answer["assistantId"] != nil {
		t.Fatalf("a blocked caller: %v", answer)
	}
	// A number no clinic has proven is not in service, and nothing is recorded for it.
	answer = nil // a fresh answer: json merges into a map
	expect(t, b.vapiMessage(providertest.AssistantRequest("vapi-ar-5", clinicBLine, patientNumber)), 200).json(t, &answer)
	if answer["error"] == nil {
		t.Fatalf("an unknown number: %v", answer)
	}
	for sid, want := range map[string]string{"vapi-ar-2": "forwarded", "vapi-ar-3": "announced", "vapi-ar-4": "blocked"} {
		if n := b.count("SELECT count(*) FROM calls WHERE vapi_call_id = $1 AND handling = $2 AND user_id = 'user_clinic_a'", sid, want); n != 1 {
			t.Errorf("%s: %d calls handled %s", sid, n, want)
		}
	}
	if n := b.count("SELECT count(*) FROM calls WHERE vapi_call_id = 'vapi-ar-5'"); n != 0 {
		t.Errorf("a request for an unknown number recorded %d calls", n)
	}
	// Unauthenticated, nothing is answered.
	expect(t, b.vapiPost(providertest.ServerMessage(providertest.AssistantRequest("vapi-ar-6", clinicALine, patientNumber)), "X-Vapi-Secret", "wrong"), 401)
}

// Assistants are the clinic's: registered once VAPI says they exist, by one clinic only,
// and a number can name only its own clinic's. Removing one sends its numbers' calls to
// the fallback.
func TestAssistantsBelongToOneClinic(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, other := b.token("user_clinic_a"), b.token("user_clinic_b")
	if p := expect(t, b.do("POST", "/api/assistants", a, map[string]any{"vapi_assistant_id": "asst_nowhere"}), 422).problem(t); p["code"] != "unknown_assistant" {
		t.Fatalf("an assistant VAPI does not know: %v", p)
	}
	b.vapi.AddAssistant("asst_a", "Front desk")
	var created map[string]any
	expect(t, b.do("POST", "/api/assistants", a, map[string]any{"vapi_assistant_id": "asst_a"}), 201).json(t, &created)
	if created["name"] != "Front desk" {
		t.Fatalf("registered %v", created)
	}
	for _, tok := range []string{a, other} {
		if p := expect(t, b.do("POST", "/api/assistants", tok, map[string]any{"vapi_assistant_id": "asst_a"}), 409).problem(t); p["code"] != "assistant_taken" {
			t.Fatalf("registering it again: %v", p)
		}
	}
	if p := expect(t, b.do("POST", "/api/phone-numbers", other, map[string]any{"phone_number": clinicBLine, "vapi_assistant_id": "asst_a"}), 422).problem(t); p["code"] != "unknown_assistant" {
		t.Fatalf("another clinic's number naming it: %v", p)
	}
	var list struct{ Items []map[string]any }
	expect(t, b.do("GET", "/api/assistants", other, nil), 200).json(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("another clinic lists %v", list.Items)
	}
	expect(t, b.do("DELETE", "/api/assistants/asst_a", other, nil), 404)

	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	expect(t, b.do("DELETE", "/api/assistants/asst_a", a, nil), 204)
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_NOASST", patientNumber, sharedLine, clinicALine)))
	if c := b.callBySid(a, "CA_NOASST"); c["handling"] != "voicemail" || c["handling_reason"] != "no_assistant_configured" || len(b.vapi.Calls()) != 0 {
		t.Fatalf("a call after its assistant was removed: %v", c)
	}
}
