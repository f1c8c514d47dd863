package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-health/switchboard/internal/providertest"
	"github.com/switchboard-health/switchboard/internal/testkit"
)

// Numbers used across the webhook tests: valid ones, since registration refuses the
// fictional 555 range the original product's guide used.
const (
	clinicALine   = "+12127365000"
	clinicBLine   = "+16502530000"
	sharedLine    = "+16172531000" // the assistant line both clinics forward to; registered by nobody
	patientNumber = "+13127445000"
)

func (b *bundle) registerLine(token, number, assistant, vapiNumber string) phoneNumber {
	b.t.Helper()
	body := map[string]any{"phone_number": number}
	if assistant != "" {
		b.registerAssistant(token, assistant)
		body["vapi_assistant_id"] = assistant
		body["vapi_phone_number_id"] = vapiNumber
	}
	var pn phoneNumber
	expect(b.t, b.do("POST", "/api/phone-numbers", token, body), 201).json(b.t, &pn)
	return b.prove(token, pn)
}

// registerAssistant makes assistant (known to the fake VAPI) the tenant's, as an admin
// does; registering one the tenant holds already changes nothing.
func (b *bundle) registerAssistant(token, assistant string) {
	b.t.Helper()
	b.vapi.AddAssistant(assistant, "Front desk "+assistant)
	r := b.do("POST", "/api/assistants", token, map[string]any{"vapi_assistant_id": assistant})
	if r.status != 201 && r.status != 409 {
		b.t.Fatalf("registering assistant %s: %d %s", assistant, r.status, r.body)
	}
}

// prove verifies the tenant's claim of pn as a clinic does: a code sent to the line by
// SMS, read back to the API.
func (b *bundle) prove(token string, pn phoneNumber) phoneNumber {
	b.t.Helper()
	path := "/api/phone-numbers/" + pn.ID.String() + "/verification"
	expect(b.t, b.do("POST", path, token, map[string]any{"channel": "sms"}), 202)
	expect(b.t, b.do("POST", path+"/check", token, map[string]any{"code": b.verify.Code(pn.PhoneNumber)}), 200).json(b.t, &pn)
	return pn
}

func (b *bundle) callsOf(token string) []map[string]any {
	b.t.Helper()
	var page struct{ Items []map[string]any }
	expect(b.t, b.do("GET", "/api/calls", token, nil), 200).json(b.t, &page)
	return page.Items
}

func (b *bundle) count(sql string, args ...any) int {
	b.t.Helper()
	var n int
	if err := b.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		b.t.Fatal(err)
	}
	return n
}

func isTwiML(t *testing.T, r response) string {
	t.Helper()
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/xml") {
		t.Fatalf("status %d, Content-Type %q, want 200 text/xml; body %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	return string(r.body)
}

// The original product's scenario: two clinics forward to one shared assistant number.
// Each call belongs to the clinic whose line forwarded it, VAPI is told so, and neither
// clinic sees the other's call.
func TestSharedAssistantNumberSeparatesClinics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, bb := b.token("user_clinic_a"), b.token("user_clinic_b")
	lineA := b.registerLine(a, "(212) 736-5000", "asst_a", "vpn_a")
	lineB := b.registerLine(bb, "(650) 253-0000", "asst_b", "vpn_b")

	twimlA := isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_A_1", patientNumber, sharedLine, clinicALine)))
	twimlB := isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_B_1", patientNumber, sharedLine, clinicBLine)))
	if !strings.Contains(twimlA, "<Connect>") || twimlA == twimlB {
		t.Fatalf("TwiML is not VAPI's, one per call: %s / %s", twimlA, twimlB)
	}

	reqs := b.vapi.Calls()
	if len(reqs) != 2 {
		t.Fatalf("VAPI received %d create-call requests, want 2", len(reqs))
	}
	for i, want := range []struct {
		user, assistant, vapiNumber, sid string
		line                             phoneNumber
	}{
		{"user_clinic_a", "asst_a", "vpn_a", "CA_A_1", lineA},
		{"user_clinic_b", "asst_b", "vpn_b", "CA_B_1", lineB},
	} {
		body := reqs[i].Body
		if reqs[i].Authorization != "Bearer vapi-test-api-key" {
			t.Errorf("VAPI request %d authorization %q", i, reqs[i].Authorization)
		}
		if body["phoneCallProviderBypassEnabled"] != true || body["assistantId"] != want.assistant ||
			body["phoneNumberId"] != want.vapiNumber || body["customer"].(map[string]any)["number"] != patientNumber {
			t.Errorf("VAPI request %d: %v", i, body)
		}
		for _, key := range []string{"metadata"} {
			m := body[key].(map[string]any)
			over := body["assistantOverrides"].(map[string]any)["metadata"].(map[string]any)
			if m["user_id"] != want.user || m["phone_number_id"] != want.line.ID.String() || m["twilio_call_sid"] != want.sid ||
				m["call_id"] == "" || fmt.Sprint(over) != fmt.Sprint(m) {
				t.Errorf("VAPI request %d metadata %v, overrides %v", i, m, over)
			}
		}
	}

	callsA, callsB := b.callsOf(a), b.callsOf(bb)
	if len(callsA) != 1 || len(callsB) != 1 {
		t.Fatalf("clinic A sees %d calls, clinic B %d; want 1 each", len(callsA), len(callsB))
	}
	ca, cb := callsA[0], callsB[0]
	if ca["twilio_call_sid"] != "CA_A_1" || ca["matched_by"] != "forwarded_from" || ca["clinic_number"] != clinicALine ||
		ca["assistant_number"] != sharedLine || ca["caller_number"] != patientNumber || ca["vapi_call_id"] != "vapi-call-1" ||
		ca["status"] != "initiated" || ca["phone_number_id"] != lineA.ID.String() {
		t.Errorf("clinic A's call %v", ca)
	}
	if cb["twilio_call_sid"] != "CA_B_1" || cb["clinic_number"] != clinicBLine {
		t.Errorf("clinic B's call %v", cb)
	}
	if reqs[0].Body["metadata"].(map[string]any)["call_id"] != ca["id"] {
		t.Errorf("VAPI was given call_id %v, the call is %v", reqs[0].Body["metadata"], ca["id"])
	}
	expect(t, b.do("GET", "/api/calls/"+ca["id"].(string), bb, nil), 404)
}

func TestOwnerResolutionRules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, bb := b.token("user_clinic_a"), b.token("user_clinic_b")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	b.registerLine(bb, clinicBLine, "asst_b", "vpn_b")

	cases := []struct {
		name, sid, from, to, forwarded string
		owner                          string
		matchedBy                      string
	}{
		// A line dedicated to one clinic: the call was made to it.
		{"dedicated To line", "CA_TO", patientNumber, clinicALine, "", a, "to"},
		// A clinic calling the shared assistant from its own line.
		{"clinic's own From line", "CA_FROM", clinicBLine, sharedLine, "", bb, "from"},
		// ForwardedFrom comes first, even when To is another clinic's line.
		{"ForwardedFrom first", "CA_FWD", patientNumber, clinicALine, clinicBLine, bb, "forwarded_from"},
		// Carriers may send numbers in national format.
		{"national formats", "CA_NAT", "(312) 744-5000", "6172531000", "(212) 736-5000", a, "forwarded_from"},
	}
	for _, c := range cases {
		isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm(c.sid, c.from, c.to, c.forwarded)))
		found := false
		for _, call := range b.callsOf(c.owner) {
			if call["twilio_call_sid"] == c.sid {
				found = true
				if call["matched_by"] != c.matchedBy {
					t.Errorf("%s: matched_by %v, want %s", c.name, call["matched_by"], c.matchedBy)
				}
			}
		}
		if !found {
			t.Errorf("%s: the owner does not see the call", c.name)
		}
	}
}

func TestUnknownNumbersAreRejectedAndKept(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	pn := b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	// An inactive line owns nothing.
	expect(t, b.do("PATCH", "/api/phone-numbers/"+pn.ID.String(), a, map[string]any{"is_active": false}), 200)

	twiml := isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_UNKNOWN", patientNumber, sharedLine, clinicALine)))
	if !strings.Contains(twiml, "<Reject/>") {
		t.Fatalf("TwiML %s, want a Reject", twiml)
	}
	if n := len(b.vapi.Calls()); n != 0 {
		t.Errorf("VAPI was asked %d times for an unowned call", n)
	}
	if n := b.count("SELECT count(*) FROM calls"); n != 0 {
		t.Errorf("%d call rows for an unowned call", n)
	}
	if n := b.count("SELECT count(*) FROM webhook_events WHERE provider = 'twilio' AND status = 'unattributed' AND user_id IS NULL"); n != 1 {
		t.Errorf("%d unattributed events kept, want 1", n)
	}
}

func TestForgedTwilioRequestsAreRefusedBeforeAnything(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.registerLine(b.token("user_clinic_a"), clinicALine, "asst_a", "vpn_a")
	form := providertest.InboundForm("CA_FORGED", patientNumber, sharedLine, clinicALine)

	forgeries := map[string]string{
		"missing":          "",
		"wrong token":      providertest.SignTwilio("not-the-token", publicBaseURL+"/api/webhooks/twilio", form),
		"URL as seen here": providertest.SignTwilio(twilioToken, "http://10.0.0.7:8080/api/webhooks/twilio", form),
		"other parameters": providertest.SignTwilio(twilioToken, publicBaseURL+"/api/webhooks/twilio", providertest.InboundForm("CA_FORGED", patientNumber, sharedLine, clinicBLine)),
	}
	for name, sig := range forgeries {
		p := expect(t, b.twilioSigned("/api/webhooks/twilio", form, sig), 403).problem(t)
		if p["code"] != "invalid_signature" {
			t.Errorf("%s: code %v", name, p["code"])
		}
		expect(t, b.twilioSigned("/api/webhooks/twilio/status", url.Values{"CallSid": {"CA_FORGED"}, "CallStatus": {"completed"}}, sig), 403)
	}
	if n := len(b.vapi.Calls()); n != 0 {
		t.Errorf("VAPI was asked %d times", n)
	}
	if n := b.count("SELECT count(*) FROM webhook_events") + b.count("SELECT count(*) FROM calls"); n != 0 {
		t.Errorf("forged requests stored %d rows", n)
	}
}

// A call the assistant cannot take (none set, VAPI fails, VAPI is slow) is never dropped:
// with no fallback number set the caller gets voicemail, and the call says why.
func TestNoAssistantOrVAPIFailureGoesToVoicemail(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{vapiTimeout: 300 * time.Millisecond})
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "", "") // no assistant configured
	b.registerLine(a, clinicBLine, "asst_b", "vpn_b")

	voicemail := isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_NOASST", patientNumber, sharedLine, clinicALine)))
	if got := verbs(t, voicemail); strings.Join(got, " ") != "Say Record Say Hangup" {
		t.Fatalf("TwiML %s, want a greeting and a recording", voicemail)
	}
	if n := len(b.vapi.Calls()); n != 0 {
		t.Fatalf("VAPI asked without an assistant")
	}

	b.vapi.FailWith(500)
	if twiml := isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_VAPI500", patientNumber, sharedLine, clinicBLine))); !sameTwiML(t, twiml, voicemail) {
		t.Errorf("a VAPI failure answered %s", twiml)
	}

	b.vapi.FailWith(0)
	b.vapi.Delay(time.Second) // beyond the client's timeout
	start := time.Now()
	if twiml := isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_VAPISLOW", patientNumber, sharedLine, clinicBLine))); !sameTwiML(t, twiml, voicemail) {
		t.Errorf("a VAPI timeout answered %s", twiml)
	}
	if time.Since(start) > 900*time.Millisecond {
		t.Errorf("the answer waited for VAPI beyond the client's timeout")
	}

	want := map[string]string{"CA_NOASST": "no_assistant_configured", "CA_VAPI500": "vapi_unavailable", "CA_VAPISLOW": "vapi_unavailable"}
	for _, c := range b.callsOf(a) {
		if c["handling"] != "voicemail" || c["handling_reason"] != want[c["twilio_call_sid"].(string)] || c["status"] == "failed" {
			t.Errorf("call %v: handling %v (%v), status %v", c["twilio_call_sid"], c["handling"], c["handling_reason"], c["status"])
		}
	}
}

// The caller is connected as soon as VAPI has taken the call: Twilio gets its whole
// answer while the hand-off is still being recorded, and the record follows.
func TestTwilioIsAnsweredBeforeTheHandoffIsRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	ctx := context.Background()
	// Recording the hand-off (the update that stores the TwiML) waits for a lock this
	// test holds.
	for _, sql := range []string{
		`CREATE FUNCTION hold_handoff() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NEW; END $$`,
		`CREATE TRIGGER hold_handoff BEFORE UPDATE ON calls FOR EACH ROW
		 WHEN (NEW.twiml IS DISTINCT FROM OLD.twiml) EXECUTE FUNCTION hold_handoff()`,
	} {
		if _, err := b.pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	holder, err := b.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release()
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock(4242)"); err != nil {
		t.Fatal(err)
	}

	b.vapi.Delay(300 * time.Millisecond)
	srv := httptest.NewServer(b.handler)
	defer srv.Close()
	// Whatever happens below, the lock goes before the server waits for its requests.
	unlock := sync.OnceFunc(func() {
		if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock(4242)"); err != nil {
			t.Error(err)
		}
	})
	defer unlock()
	form := providertest.InboundForm("CA_FIRST", patientNumber, sharedLine, clinicALine)
	req, _ := http.NewRequest("POST", srv.URL+"/api/webhooks/twilio", strings.NewReader(form.Encode()))
	req.Host = "10.0.0.7:8080"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", providertest.SignTwilio(twilioToken, publicBaseURL+"/api/webhooks/twilio", form))
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("no answer while the hand-off's record waits: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), "<Connect>") {
		t.Fatalf("answer %d %q (%v), want VAPI's TwiML", resp.StatusCode, body, err)
	}
	if n := b.count("SELECT count(*) FROM calls WHERE twiml IS NOT NULL"); n != 0 {
		t.Fatalf("the hand-off was recorded while its lock was held")
	}
	// Server-Timing tells VAPI's share of the answer's time (the fake takes 300 ms).
	var vapiMS float64
	if _, err := fmt.Sscanf(resp.Header.Get("Server-Timing"), "vapi;dur=%g", &vapiMS); err != nil || vapiMS < 300 || vapiMS > 5000 {
		t.Errorf("Server-Timing %q, want vapi;dur= at least 300 ms", resp.Header.Get("Server-Timing"))
	}

	unlock()
	testkit.Eventually(t, 10*time.Second, "the hand-off is recorded", func() bool {
		return b.count("SELECT count(*) FROM calls WHERE twiml = $1 AND vapi_call_id = 'vapi-call-1'", string(body)) == 1
	})
}

// Twilio retries a webhook it timed out on, and a request may arrive many times at once:
// one VAPI call, one row, the same TwiML for every delivery.
func TestDuplicateDeliveriesMakeOneVAPICall(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	b.vapi.Delay(300 * time.Millisecond) // the duplicates arrive while VAPI thinks

	form := providertest.InboundForm("CA_DUP", patientNumber, sharedLine, clinicALine)
	const n = 20
	answers, timed := make([]string, n), make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := b.twilio("/api/webhooks/twilio", form)
			if r.status == 200 {
				answers[i], timed[i] = string(r.body), r.header.Get("Server-Timing") != ""
			}
		}()
	}
	wg.Wait()
	logged := len(b.logs.String())
	retry := b.twilio("/api/webhooks/twilio", form)
	// A retry is routine: it must not page the operator with a warning.
	if l := b.logs.String()[logged:]; strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
		t.Errorf("the retry logged:\n%s", l)
	}
	if got := slices.Index(timed, true); got < 0 || slices.Contains(timed[got+1:], true) || retry.header.Get("Server-Timing") != "" {
		t.Errorf("Server-Timing on deliveries %v and the retry %q: want it only on the one that asked VAPI", timed, retry.header.Get("Server-Timing"))
	}

	if got := len(b.vapi.Calls()); got != 1 {
		t.Fatalf("%d VAPI calls for one CallSid, want 1", got)
	}
	if !strings.Contains(isTwiML(t, retry), "<Connect>") {
		t.Fatalf("retry answered %s", retry.body)
	}
	for i, ans := range answers {
		if ans != string(retry.body) {
			t.Errorf("delivery %d answered %q, want %q", i, ans, retry.body)
		}
	}
	if got := b.count("SELECT count(*) FROM calls WHERE twilio_call_sid = 'CA_DUP'"); got != 1 {
		t.Errorf("%d call rows", got)
	}
	if got := b.count("SELECT count(*) FROM webhook_events WHERE event_key LIKE 'voice:CA_DUP#%' AND status = 'processed'"); got != 1 {
		t.Errorf("%d processed inbox events for the CallSid, want 1", got)
	}
}

func TestTwilioStatusCallbacksOnlyMoveForward(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_STATUS", patientNumber, sharedLine, clinicALine)))

	status := func(s string, extra ...string) {
		t.Helper()
		f := url.Values{"CallSid": {"CA_STATUS"}, "CallStatus": {s}}
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		expect(t, b.twilio("/api/webhooks/twilio/status", f), 204)
	}
	call := func() map[string]any { return b.callsOf(a)[0] }

	status("ringing")
	if c := call(); c["status"] != "ringing" {
		t.Fatalf("status %v after ringing", c["status"])
	}
	status("in-progress")
	status("completed", "CallDuration", "42")
	// Reordered and repeated callbacks arrive after the end.
	status("ringing")
	status("in-progress")
	status("completed", "CallDuration", "42")
	c := call()
	if c["status"] != "ended" || c["duration_seconds"] != float64(42) || c["ended_reason"] != "completed" || c["ended_at"] == nil {
		t.Fatalf("call after completion %v", c)
	}

	// A status for a call nobody recorded is acknowledged and kept unattributed.
	expect(t, b.twilio("/api/webhooks/twilio/status", url.Values{"CallSid": {"CA_NOBODY"}, "CallStatus": {"completed"}}), 204)
	if n := b.count("SELECT count(*) FROM webhook_events WHERE event_key LIKE 'status:CA_NOBODY:completed#%' AND status = 'unattributed'"); n != 1 {
		t.Errorf("status for an unknown call kept %d times as unattributed", n)
	}
	expect(t, b.twilio("/api/webhooks/twilio/status", url.Values{"CallSid": {"CA_STATUS"}, "CallStatus": {"teleported"}}), 400).problem(t)
}

func TestTwilioSignatureUsesPublicURLWithQuery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.registerLine(b.token("user_clinic_a"), clinicALine, "asst_a", "vpn_a")
	form := providertest.InboundForm("CA_QUERY", patientNumber, sharedLine, clinicALine)
	path := "/api/webhooks/twilio?clinic=north&v=2"
	isTwiML(t, b.twilioSigned(path, form, providertest.SignTwilio(twilioToken, publicBaseURL+path, form)))
	// The same signature does not hold once the query is changed.
	expect(t, b.twilioSigned("/api/webhooks/twilio?clinic=south&v=2", form, providertest.SignTwilio(twilioToken, publicBaseURL+path, form)), 403)
}

// callOf returns clinic A's call with full details.
func (b *bundle) call(token, id string) map[string]any {
	b.t.Helper()
	var c map[string]any
	expect(b.t, b.do("GET", "/api/calls/"+id, token, nil), 200).json(b.t, &c)
	return c
}

func TestEndOfCallReportLandsOnTheOwnersCallOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, bb := b.token("user_clinic_a"), b.token("user_clinic_b")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	b.registerLine(bb, clinicBLine, "asst_b", "vpn_b")
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_R", patientNumber, sharedLine, clinicALine)))
	meta := b.vapi.Calls()[0].Body["metadata"].(map[string]any)

	// The payload claims clinic B; the record says clinic A, and the record wins.
	forged := map[string]any{}
	for k, v := range meta {
		forged[k] = v
	}
	forged["user_id"] = "user_clinic_b"
	expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-call-1", forged)), 200)

	if calls := b.callsOf(bb); len(calls) != 0 {
		t.Fatalf("clinic B sees %d calls after a report claiming it", len(calls))
	}
	c := b.call(a, meta["call_id"].(string))
	checks := map[string]any{
		"status":               "ended",
		"ended_reason":         "customer-ended-call",
		"duration_seconds":     float64(125),
		"cost":                 0.1234,
		"recording_url":        "https://storage.vapi.ai/mono.wav",
		"stereo_recording_url": "https://storage.vapi.ai/stereo.wav",
		"summary":              "Patient booked a cleaning.",
		"success_evaluation":   "true",
		"transcript":           "AI: Sunrise Dental, how can I help?\nUser: I need a cleaning.",
		"ended_at":             "2026-11-28T10:02:05.4Z",
	}
	for k, want := range checks {
		if c[k] != want {
			t.Errorf("%s = %v, want %v", k, c[k], want)
		}
	}
	if sd, _ := json.Marshal(c["structured_data"]); string(sd) != `{"appointment":"2026-12-02T09:00"}` {
		t.Errorf("structured_data %s", sd)
	}
	if msgs, _ := c["messages"].([]any); len(msgs) != 2 {
		t.Errorf("messages %v", c["messages"])
	}

	// The same report again changes nothing (nor is it stored twice); a late status update
	// does not reopen the call.
	before := c["updated_at"]
	expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-call-1", forged)), 200)
	expect(t, b.vapiMessage(map[string]any{"type": "status-update", "status": "in-progress", "call": map[string]any{"id": "vapi-call-1"}}), 200)
	expect(t, b.twilio("/api/webhooks/twilio/status", url.Values{"CallSid": {"CA_R"}, "CallStatus": {"ringing"}}), 204)
	after := b.call(a, meta["call_id"].(string))
	if after["updated_at"] != before || after["status"] != "ended" {
		t.Errorf("a duplicate report or late status changed the call: %v → %v, status %v", before, after["updated_at"], after["status"])
	}
	if n := b.count("SELECT count(*) FROM webhook_events WHERE provider = 'vapi' AND event_type = 'end-of-call-report'"); n != 1 {
		t.Errorf("%d report events stored, want 1", n)
	}
}

// A delivery is kept and applied in one transaction (one commit): the inbox row, with its
// outcome, and the call it changed carry the same transaction id.
func TestEventAndItsEffectCommitTogether(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_ONE", patientNumber, sharedLine, clinicALine)))
	meta := b.vapi.Calls()[0].Body["metadata"].(map[string]any)
	expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-call-1", meta)), 200)

	var status, user string
	var sameTx, processedAt bool
	err := b.pool.QueryRow(context.Background(), `
		SELECT e.status, e.user_id, e.processed_at IS NOT NULL, e.xmin = c.xmin AND e.xmin = d.xmin
		FROM webhook_events e
		JOIN calls c ON c.id = e.call_id
		JOIN call_details d ON d.call_id = c.id
		WHERE e.event_type = 'end-of-call-report'`).Scan(&status, &user, &processedAt, &sameTx)
	if err != nil {
		t.Fatal(err)
	}
	if status != "processed" || user != "user_clinic_a" || !processedAt {
		t.Errorf("the report's event is %s for %q (processed_at set: %v), want processed for user_clinic_a", status, user, processedAt)
	}
	if !sameTx {
		t.Error("the report's event, its call and its transcript were written by different transactions")
	}
}

func TestVapiStatusUpdates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_SU", patientNumber, sharedLine, clinicALine)))
	id := b.callsOf(a)[0]["id"].(string)
	su := func(status string, extra map[string]any) {
		m := map[string]any{"type": "status-update", "status": status, "call": map[string]any{"id": "vapi-call-1"}}
		for k, v := range extra {
			m[k] = v
		}
		expect(t, b.vapiMessage(m), 200)
	}
	su("ringing", nil)
	su("in-progress", nil)
	if c := b.call(a, id); c["status"] != "in_progress" {
		t.Fatalf("status %v", c["status"])
	}
	su("forwarding", nil)
	su("ended", map[string]any{"endedReason": "assistant-forwarded-call"})
	su("in-progress", nil)
	if c := b.call(a, id); c["status"] != "ended" || c["ended_reason"] != "assistant-forwarded-call" {
		t.Fatalf("after ended and a late in-progress: %v, %v", c["status"], c["ended_reason"])
	}
	// Other message types are acknowledged and ignored.
	expect(t, b.vapiMessage(map[string]any{"type": "speech-update", "status": "started", "call": map[string]any{"id": "vapi-call-1"}}), 200)
	if n := b.count("SELECT count(*) FROM webhook_events WHERE event_type = 'speech-update' AND status = 'ignored'"); n != 1 {
		t.Errorf("ignored message kept %d times", n)
	}
}

// A call first heard of through a status update is recorded once; its report then lands on
// it.
func TestStatusUpdateThenReportForACallNeverSeen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	lineA := b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	meta := map[string]any{"user_id": "user_clinic_a", "phone_number_id": lineA.ID.String()}
	expect(t, b.vapiMessage(map[string]any{"type": "status-update", "status": "in-progress",
		"call": map[string]any{"id": "vapi-outside-9", "metadata": meta}}), 200)
	calls := b.callsOf(a)
	if len(calls) != 1 || calls[0]["status"] != "in_progress" || calls[0]["vapi_call_id"] != "vapi-outside-9" {
		t.Fatalf("after the status update: %v", calls)
	}
	expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-outside-9", meta)), 200)
	after := b.callsOf(a)
	if len(after) != 1 || after[0]["id"] != calls[0]["id"] || after[0]["status"] != "ended" || after[0]["summary"] == nil {
		t.Fatalf("after the report: %v", after)
	}
}

func TestReportForACallNeverSeen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, bb := b.token("user_clinic_a"), b.token("user_clinic_b")
	lineA := b.registerLine(a, clinicALine, "asst_a", "vpn_a")

	// Its number is registered to the tenant it names: attributed, as a new call.
	honest := map[string]any{"user_id": "user_clinic_a", "phone_number_id": lineA.ID.String()}
	expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-outside-1", honest)), 200)
	calls := b.callsOf(a)
	if len(calls) != 1 || calls[0]["vapi_call_id"] != "vapi-outside-1" || calls[0]["status"] != "ended" ||
		calls[0]["started_at"] != "2026-11-28T10:00:00Z" || calls[0]["phone_number_id"] != lineA.ID.String() {
		t.Fatalf("attributed report: %v", calls)
	}

	// A tenant claiming another's number gets nothing, and neither does the number's owner.
	forged := map[string]any{"user_id": "user_clinic_b", "phone_number_id": lineA.ID.String()}
	expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-outside-2", forged)), 200)
	// No metadata at all.
	expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-outside-3", nil)), 200)
	if len(b.callsOf(bb)) != 0 || len(b.callsOf(a)) != 1 {
		t.Fatal("an unverifiable report reached a tenant")
	}
	if n := b.count("SELECT count(*) FROM webhook_events WHERE status = 'unattributed' AND provider = 'vapi'"); n != 2 {
		t.Errorf("%d unattributed VAPI events kept, want 2", n)
	}
}

// VAPI may report before the Twilio side finished recording its answer: the report lands
// on the call found through metadata.call_id, and the hand-off then completes the row.
func TestReportBeforeTheHandoffIsRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	release := b.vapi.Hold()

	done := make(chan response, 1)
	go func() {
		done <- b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_EARLY", patientNumber, sharedLine, clinicALine))
	}()
	testkit.Eventually(t, 5*time.Second, "VAPI is asked", func() bool { return len(b.vapi.Calls()) == 1 })
	meta := b.vapi.Calls()[0].Body["metadata"].(map[string]any)
	expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-call-1", meta)), 200)
	release()
	isTwiML(t, <-done)

	calls := b.callsOf(a)
	if len(calls) != 1 {
		t.Fatalf("%d calls, want 1", len(calls))
	}
	c := b.call(a, calls[0]["id"].(string))
	if c["vapi_call_id"] != "vapi-call-1" || c["status"] != "ended" || c["transcript"] == nil || c["twilio_call_sid"] != "CA_EARLY" {
		t.Fatalf("call %v", c)
	}
}

func TestVapiAuthenticityAndLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := []byte(`{"message":{"type":"status-update","status":"ringing","call":{"id":"x"}}}`)
	for name, h := range map[string][2]string{
		"missing":             {"", ""},
		"wrong secret":        {"X-Vapi-Secret", "guess"},
		"wrong bearer":        {"Authorization", "Bearer guess"},
		"secret prefix":       {"X-Vapi-Secret", vapiSecret[:5]},
		"secret, wrong place": {"X-Api-Key", vapiSecret},
	} {
		p := expect(t, b.vapiPost(body, h[0], h[1]), 401).problem(t)
		if p["code"] != "unauthorized" {
			t.Errorf("%s: code %v", name, p["code"])
		}
	}
	if n := b.count("SELECT count(*) FROM webhook_events"); n != 0 {
		t.Fatalf("unauthenticated messages stored %d events", n)
	}
	expect(t, b.vapiPost(body, "X-Vapi-Secret", vapiSecret), 200)
	expect(t, b.vapiPost([]byte(`{"message":{"type":"status-update","status":"ended","call":{"id":"x"}}}`), "Authorization", "Bearer "+vapiSecret), 200)

	p := expect(t, b.vapiPost([]byte(`{"message": {"type": "end-of-call-rep`), "X-Vapi-Secret", vapiSecret), 400).problem(t)
	if p["code"] != "validation_failed" {
		t.Errorf("malformed JSON: code %v", p["code"])
	}
	big := []byte(`{"message":{"type":"end-of-call-report","transcript":"` + strings.Repeat("a", 10<<20) + `"}}`)
	expect(t, b.vapiPost(big, "X-Vapi-Secret", vapiSecret), 413).problem(t)
	// A large report within the limit is fine.
	large := []byte(`{"message":{"type":"end-of-call-report","call":{"id":"y"},"transcript":"` + strings.Repeat("a", 2<<20) + `"}}`)
	expect(t, b.vapiPost(large, "X-Vapi-Secret", vapiSecret), 200)
}

// The tenant role cannot read the inbox: raw payloads hold every tenant's data.
func TestTenantsCannotReadTheInbox(t *testing.T) {
	t.Parallel()
	b := setup(t)
	expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-x", nil)), 200)
	_, err := b.pool.Exec(context.Background(), `BEGIN; SET LOCAL ROLE switchboard_tenant;
		SELECT set_config('app.user_id', 'user_clinic_a', true); SELECT count(*) FROM webhook_events; COMMIT`)
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("a tenant transaction read the inbox: %v", err)
	}
	_, _ = b.pool.Exec(context.Background(), "ROLLBACK")
}

func TestIDsAreUUIDs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_ID", patientNumber, sharedLine, clinicALine)))
	id, err := uuid.Parse(b.callsOf(a)[0]["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	// Time-ordered (version 7), made within the last minute.
	sec, nsec := id.Time().UnixTime()
	if id.Version() != 7 || id.Variant() != uuid.RFC4122 || time.Since(time.Unix(sec, nsec)).Abs() > time.Minute {
		t.Fatalf("call id %s: version %d, variant %v, time %v", id, id.Version(), id.Variant(), time.Unix(sec, nsec))
	}
}
