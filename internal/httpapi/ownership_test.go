package httpapi_test

import (
	"strings"
	"testing"

	"github.com/switchboard-health/switchboard/internal/providertest"
)

// A registered number is a claim: it routes nothing until its clinic proves it answers the
// line. Another clinic may claim the same number meanwhile without being told of the first
// claim; the first proof wins, and no other claim can be proven after it.
func TestANumberRoutesOnlyOnceItsOwnerProvesIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, intruder := b.token("user_clinic_a"), b.token("user_clinic_b")
	b.registerAssistant(a, "asst_a")
	b.registerAssistant(intruder, "asst_b")

	// The intruder claims clinic A's line first, and A claims it after: both are pending,
	// and neither is told about the other.
	var theirs, mine phoneNumber
	expect(t, b.do("POST", "/api/phone-numbers", intruder, map[string]any{
		"phone_number": clinicALine, "vapi_assistant_id": "asst_b", "vapi_phone_number_id": "vpn_b"}), 201).json(t, &theirs)
	expect(t, b.do("POST", "/api/phone-numbers", a, map[string]any{
		"phone_number": clinicALine, "vapi_assistant_id": "asst_a", "vapi_phone_number_id": "vpn_a"}), 201).json(t, &mine)
	if theirs.VerificationStatus != "pending" || mine.VerificationStatus != "pending" || mine.VerifiedAt != nil {
		t.Fatalf("claims %+v and %+v, want both pending", theirs, mine)
	}

	// Pending claims route nothing: a call forwarded from the line is rejected and kept.
	twiml := isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_PENDING", patientNumber, sharedLine, clinicALine)))
	if !strings.Contains(twiml, "<Reject") || len(b.vapi.Calls()) != 0 || len(b.callsOf(intruder)) != 0 || len(b.callsOf(a)) != 0 {
		t.Fatalf("a call to a pending number was answered: %s", twiml)
	}
	// Nor does a VAPI message naming the pending number claim anything for its tenant.
	expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-forged", map[string]any{
		"user_id": "user_clinic_b", "phone_number_id": theirs.ID.String()})), 200)
	if len(b.callsOf(intruder)) != 0 {
		t.Fatal("a report naming a pending number was recorded for its claimant")
	}

	// The intruder cannot answer the line, so gets no code; clinic A can.
	path := "/api/phone-numbers/" + mine.ID.String() + "/verification"
	expect(t, b.do("POST", path, a, map[string]any{"channel": "call"}), 202)
	p := expect(t, b.do("POST", path+"/check", a, map[string]any{"code": "000000"}), 422).problem(t)
	if p["code"] != "invalid_verification_code" {
		t.Errorf("a wrong code: %v", p)
	}
	expect(t, b.do("POST", path+"/check", a, map[string]any{"code": b.verify.Code(clinicALine)}), 200).json(t, &mine)
	if mine.VerificationStatus != "verified" || mine.VerifiedAt == nil {
		t.Fatalf("after the right code %+v", mine)
	}
	p = expect(t, b.do("POST", path, a, map[string]any{"channel": "sms"}), 409).problem(t)
	if p["code"] != "already_verified" {
		t.Errorf("verifying again: %v", p)
	}

	// The verified claim wins: the intruder's claim can no longer be proven, and the
	// number routes to clinic A.
	p = expect(t, b.do("POST", "/api/phone-numbers/"+theirs.ID.String()+"/verification", intruder, map[string]any{"channel": "sms"}), 409).problem(t)
	if p["code"] != "phone_number_taken" || strings.Contains(p["detail"].(string), "user_clinic_a") {
		t.Errorf("proving a number another clinic proved: %v", p)
	}
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_PROVEN", patientNumber, sharedLine, clinicALine)))
	if calls := b.callsOf(a); len(calls) != 1 || calls[0]["twilio_call_sid"] != "CA_PROVEN" {
		t.Fatalf("clinic A's calls after proving %v", calls)
	}
	if meta := b.vapi.Calls()[0].Body; meta["assistantId"] != "asst_a" {
		t.Errorf("the call went to assistant %v", meta["assistantId"])
	}
}

// Verification refusals and outages get answers a clinic can act on.
func TestVerificationRefusalsAndOutages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	pn := b.createNumber(a, clinicALine)
	path := "/api/phone-numbers/" + pn.ID.String() + "/verification"

	// A landline cannot take an SMS: the clinic is told to use a call.
	b.verify.Refuse(clinicALine, "sms")
	p := expect(t, b.do("POST", path, a, map[string]any{"channel": "sms"}), 422).problem(t)
	if p["code"] != "verification_refused" || !strings.Contains(p["detail"].(string), "call") {
		t.Errorf("refused SMS: %v", p)
	}
	// No code was sent, so there is nothing to check.
	p = expect(t, b.do("POST", path+"/check", a, map[string]any{"code": "123456"}), 422).problem(t)
	if p["code"] != "invalid_verification_code" {
		t.Errorf("checking with no code sent: %v", p)
	}
	expect(t, b.do("POST", path, a, map[string]any{"channel": "fax"}), 400)
	expect(t, b.do("POST", path+"/check", a, map[string]any{"code": "12ab"}), 400)
	// Another clinic's number is not found.
	expect(t, b.do("POST", path, b.token("user_clinic_b"), map[string]any{"channel": "call"}), 404)

	// Twilio Verify unreachable: a retryable 503, and the number stays pending.
	b.verify.Close()
	p = expect(t, b.do("POST", path, a, map[string]any{"channel": "call"}), 503).problem(t)
	if p["code"] != "unavailable" {
		t.Errorf("Verify down: %v", p)
	}
	var got phoneNumber
	expect(t, b.do("GET", "/api/phone-numbers/"+pn.ID.String(), a, nil), 200).json(t, &got)
	if got.VerificationStatus != "pending" {
		t.Errorf("after failed attempts the number is %s", got.VerificationStatus)
	}
}
