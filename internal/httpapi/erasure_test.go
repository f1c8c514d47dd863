package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-health/switchboard/internal/providertest"
)

// Erasing a caller removes everything the clinic holds about them, from every table and
// from search, in one request with a receipt; another caller's data and another clinic's
// are untouched; a repeat of an erased call's webhook does not bring it back.
func TestErasingACallerRemovesTheirData(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.orgToken("user_admin", "org_clinic", "org:admin")
	b.registerLine(admin, clinicALine, "asst_a", "vpn_a")
	expect(t, b.do("POST", "/api/webhook-endpoints", admin, map[string]any{"url": "http://127.0.0.1:9/hook"}), 201)
	const other = "+13127445099"
	var reports [][]byte
	for i, caller := range []string{patientNumber, patientNumber, other} {
		isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm(fmt.Sprintf("CA_ERASE_%d", i), caller, sharedLine, clinicALine)))
		report := providertest.ServerMessage(providertest.EndOfCallReport(fmt.Sprintf("vapi-call-%d", i+1), b.lastHandoff()["metadata"].(map[string]any)))
		expect(t, b.vapiPost(report, "X-Vapi-Secret", vapiSecret), 200)
		reports = append(reports, report)
	}
	b.jobs.IndexSearch(t.Context(), 100)
	expect(t, b.do("POST", "/api/blocked-callers", admin, map[string]any{"phone_number": patientNumber}), 201)
	first := b.callBySid(admin, "CA_ERASE_0")["id"].(string)
	expect(t, b.do("POST", "/api/calls/"+first+"/callbacks", admin, nil), 201)
	if n := len(b.listIDs(admin, "q=cleaning")); n != 3 {
		t.Fatalf("before: search finds %d calls", n)
	}

	// Another clinic erasing the number touches nothing of this one's.
	var receipt map[string]any
	expect(t, b.do("POST", "/api/erasures", b.token("user_other"), map[string]any{"phone_number": patientNumber}), 200).json(t, &receipt)
	if receipt["calls"] != float64(0) {
		t.Fatalf("another clinic's erasure: %v", receipt)
	}
	expect(t, b.do("POST", "/api/erasures", b.orgToken("user_m", "org_clinic", "org:member"), map[string]any{"phone_number": patientNumber}), 403)

	expect(t, b.do("POST", "/api/erasures", admin, map[string]any{"phone_number": "(312) 744-5000"}), 200).json(t, &receipt)
	for key, want := range map[string]float64{"calls": 2, "transcripts": 2, "recordings": 2, "blocked_callers": 1, "inbox_payloads": 4} {
		if receipt[key] != want {
			t.Errorf("receipt %s = %v, want %v (%v)", key, receipt[key], want, receipt)
		}
	}
	if receipt["webhook_deliveries"].(float64) < 2 || receipt["live_events"].(float64) < 2 {
		t.Errorf("receipt %v", receipt)
	}
	// Gone from the list, search, the export and every table; the other caller's call stays.
	calls := b.callsOf(admin)
	if len(calls) != 1 || calls[0]["caller_number"] != other {
		t.Fatalf("after: %v", calls)
	}
	if n := len(b.listIDs(admin, "q=cleaning")); n != 1 {
		t.Fatalf("after: search finds %d calls", n)
	}
	if csv := string(expect(t, b.do("GET", "/api/calls/export.csv", admin, nil), 200).body); strings.Contains(csv, patientNumber) {
		t.Fatal("the export still holds the erased caller")
	}
	for sql, want := range map[string]int{
		"SELECT count(*) FROM calls WHERE caller_number = '" + patientNumber + "'":                                             0,
		"SELECT count(*) FROM call_details WHERE call_id NOT IN (SELECT id FROM calls)":                                        0,
		"SELECT count(*) FROM callbacks":                                                                                       0,
		"SELECT count(*) FROM blocked_callers":                                                                                 0,
		"SELECT count(*) FROM call_events WHERE call_id NOT IN (SELECT id FROM calls)":                                         0,
		"SELECT count(*) FROM webhook_deliveries WHERE call_id NOT IN (SELECT id FROM calls)":                                  0,
		"SELECT count(*) FROM webhook_events WHERE position('" + patientNumber[1:] + "' in convert_from(payload, 'UTF8')) > 0": 0,
		"SELECT count(*) FROM webhook_events WHERE payload IS NOT NULL AND call_id IS NOT NULL":                                2,
	} {
		if got := b.count(sql); got != want {
			t.Errorf("%s: %d, want %d", sql, got, want)
		}
	}
	// A repeat of an erased call's report is a duplicate, not a new call.
	expect(t, b.vapiPost(reports[0], "X-Vapi-Secret", vapiSecret), 200)
	if n := len(b.callsOf(admin)); n != 1 {
		t.Fatalf("a repeated report brought an erased call back: %d calls", n)
	}
	var log struct{ Items []map[string]any }
	expect(t, b.do("GET", "/api/audit-events?action=caller.erase", admin, nil), 200).json(t, &log)
	if len(log.Items) != 1 || !strings.HasPrefix(log.Items[0]["target_id"].(string), "sha256:") || strings.Contains(fmt.Sprint(log.Items), "7445000") {
		t.Fatalf("the audit entry %v", log.Items)
	}
}
