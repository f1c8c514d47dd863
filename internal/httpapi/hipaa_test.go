package httpapi_test

import (
	"testing"

	"github.com/switchboard-health/switchboard/internal/providertest"
)

// In HIPAA mode VAPI is asked to keep nothing of the clinic's calls, in the hand-off and
// in assistant-request answers, and Switchboard keeps no recording URL from the reports;
// off, neither happens.
func TestHIPAAModeKeepsNoRecordings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.orgToken("user_admin", "org_clinic", "org:admin")
	b.registerLine(admin, clinicALine, "asst_a", "vpn_a")
	var settings map[string]any
	expect(t, b.do("GET", "/api/clinic-settings", admin, nil), 200).json(t, &settings)
	if settings["hipaa_mode"] != false {
		t.Fatalf("the default: %v", settings)
	}
	call := func(sid, vapiID string) map[string]any {
		isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm(sid, patientNumber, sharedLine, clinicALine)))
		handoff := b.lastHandoff()
		expect(t, b.vapiMessage(providertest.EndOfCallReport(vapiID, handoff["metadata"].(map[string]any))), 200)
		return handoff
	}
	plain := call("CA_PLAIN", "vapi-call-1")
	if _, ok := plain["assistantOverrides"].(map[string]any)["compliancePlan"]; ok || b.callBySid(admin, "CA_PLAIN")["recording_url"] == nil {
		t.Fatalf("HIPAA mode off: %v, %v", plain["assistantOverrides"], b.callBySid(admin, "CA_PLAIN"))
	}

	expect(t, b.do("PUT", "/api/clinic-settings", b.orgToken("user_m", "org_clinic", "org:member"), map[string]any{"hipaa_mode": true}), 403)
	expect(t, b.do("PUT", "/api/clinic-settings", admin, map[string]any{"hipaa_mode": true}), 200)
	strict := call("CA_STRICT", "vapi-call-2")
	plan, _ := strict["assistantOverrides"].(map[string]any)["compliancePlan"].(map[string]any)
	if plan["hipaaEnabled"] != true {
		t.Fatalf("HIPAA mode on, the hand-off's overrides: %v", strict["assistantOverrides"])
	}
	c := b.callBySid(admin, "CA_STRICT")
	if c["recording_url"] != nil || c["stereo_recording_url"] != nil || c["summary"] == nil {
		t.Fatalf("HIPAA mode on, the call keeps %v", c)
	}
	p := expect(t, b.do("GET", "/api/calls/"+c["id"].(string)+"/recording", admin, nil), 404).problem(t)
	if p["code"] != "no_recording" {
		t.Fatalf("the recording endpoint: %v", p)
	}
	var answer map[string]any
	expect(t, b.vapiMessage(providertest.AssistantRequest("vapi-ar-hipaa", clinicALine, "+13127445001")), 200).json(t, &answer)
	if plan, _ := answer["assistantOverrides"].(map[string]any)["compliancePlan"].(map[string]any); plan["hipaaEnabled"] != true {
		t.Fatalf("an assistant-request answer in HIPAA mode: %v", answer)
	}
	// Another clinic's setting is its own.
	expect(t, b.do("GET", "/api/clinic-settings", b.token("user_other"), nil), 200).json(t, &settings)
	if settings["hipaa_mode"] != false {
		t.Fatalf("another clinic: %v", settings)
	}
}
