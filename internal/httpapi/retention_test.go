package httpapi_test

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/internal/lifecycle"
	"github.com/switchboard-health/switchboard/internal/providertest"
)

// purgeAt runs the purge job as it would run at now+ahead.
func (b *bundle) purgeAt(ahead time.Duration) lifecycle.Counts {
	b.t.Helper()
	p := lifecycle.NewPurger(b.db, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return time.Now().Add(ahead) }, 31*24*time.Hour)
	n, err := p.Run(b.t.Context())
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

// A clinic's retention windows purge its transcripts, recordings and, last, its call
// records, from the API, search, the export and every table, and record what each run
// removed where the clinic reads it; another clinic's defaults keep its data longer; a
// late report cannot bring purged data back.
func TestRetentionWindowsPurgeExpiredData(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.orgToken("user_admin", "org_clinic", "org:admin")
	other := b.token("user_other")
	b.registerLine(admin, clinicALine, "asst_a", "vpn_a")
	b.registerLine(other, clinicBLine, "asst_b", "vpn_b")
	var reports []map[string]any
	for i, line := range []string{clinicALine, clinicALine, clinicBLine} {
		isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm(fmt.Sprintf("CA_KEEP_%d", i), patientNumber, sharedLine, line)))
		report := providertest.EndOfCallReport(fmt.Sprintf("vapi-call-%d", i+1), b.lastHandoff()["metadata"].(map[string]any))
		expect(t, b.vapiMessage(report), 200)
		reports = append(reports, report)
	}
	b.jobs.IndexSearch(t.Context(), 100)

	var settings map[string]any
	expect(t, b.do("PUT", "/api/clinic-settings", admin, map[string]any{"hipaa_mode": false, "retention": map[string]any{"calls_days": 29}}), 400)
	expect(t, b.do("PUT", "/api/clinic-settings", b.orgToken("user_m", "org_clinic", "org:member"), map[string]any{"hipaa_mode": false}), 403)
	expect(t, b.do("PUT", "/api/clinic-settings", admin, map[string]any{"hipaa_mode": false,
		"retention": map[string]any{"transcripts_days": 30, "recordings_days": 10, "calls_days": 400}}), 200).json(t, &settings)
	if fmt.Sprint(settings["effective_retention"]) != "map[calls_days:400 recordings_days:10 transcripts_days:30]" {
		t.Fatalf("the settings: %v", settings)
	}

	if n := b.purgeAt(9 * 24 * time.Hour); n.Transcripts+n.Recordings+n.Calls != 0 {
		t.Fatalf("nothing has expired yet, but %+v was purged", n)
	}
	if n := b.purgeAt(31 * 24 * time.Hour); n.Transcripts != 2 || n.Recordings != 2 || n.Calls != 0 {
		t.Fatalf("after 31 days: %+v", n)
	}
	c := b.callBySid(admin, "CA_KEEP_0")
	id := c["id"].(string)
	var full map[string]any
	expect(t, b.do("GET", "/api/calls/"+id, admin, nil), 200).json(t, &full)
	if full["transcript"] != nil || fmt.Sprint(full["messages"]) != "[]" || full["transcript_purged_at"] == nil ||
		full["recording_url"] != nil || full["stereo_recording_url"] != nil || full["recording_purged_at"] == nil || full["summary"] == nil {
		t.Fatalf("a purged call reads %v", full)
	}
	if p := expect(t, b.do("GET", "/api/calls/"+id+"/recording", admin, nil), 404).problem(t); p["code"] != "recording_purged" {
		t.Fatalf("the recording endpoint: %v", p)
	}
	if n := len(b.listIDs(admin, "q=sunrise")); n != 0 {
		t.Fatalf("search still finds %d calls by their purged transcripts", n)
	}
	if n := len(b.listIDs(admin, "q=cleaning")); n != 2 {
		t.Fatalf("search by the kept summary finds %d calls", n)
	}
	if csv := string(expect(t, b.do("GET", "/api/calls/export.csv", admin, nil), 200).body); strings.Contains(csv, "storage.vapi.ai") {
		t.Fatal("the export still holds a purged recording's URL")
	}
	// The other clinic's defaults (365 and 90 days) keep its call whole.
	kept := b.callBySid(other, "CA_KEEP_2")
	if kept["recording_url"] == nil || len(b.listIDs(other, "q=sunrise")) != 1 {
		t.Fatalf("the other clinic's call: %v", kept)
	}
	for sql, want := range map[string]int{
		"SELECT count(*) FROM call_details WHERE user_id = 'org_clinic' AND (transcript IS NOT NULL OR messages::text <> '[]')":                                 0,
		"SELECT count(*) FROM calls WHERE user_id = 'org_clinic' AND recording_url IS NOT NULL":                                                                 0,
		"SELECT count(*) FROM webhook_events WHERE user_id = 'org_clinic' AND payload IS NOT NULL AND position('Sunrise' in convert_from(payload, 'UTF8')) > 0": 0,
	} {
		if got := b.count(sql); got != want {
			t.Errorf("%s: %d, want %d", sql, got, want)
		}
	}

	// A report arriving late (a different delivery, so not a duplicate) fills nothing back in (its own
	// payload stays in the inbox for INBOX_PAYLOAD_RETENTION, as every event's does).
	late := reports[0]
	late["analysis"].(map[string]any)["summary"] = "A later summary."
	expect(t, b.vapiMessage(late), 200)
	expect(t, b.do("GET", "/api/calls/"+id, admin, nil), 200).json(t, &full)
	if full["transcript"] != nil || full["recording_url"] != nil || full["summary"] != "A later summary." {
		t.Fatalf("after a late report: %v", full)
	}
	// Past the call window, the call records go, with all about them.
	if n := b.purgeAt(401 * 24 * time.Hour); n.Calls != 2 {
		t.Fatalf("after 401 days: %+v", n)
	}
	if n := len(b.callsOf(admin)); n != 0 {
		t.Fatalf("%d calls remain", n)
	}
	for _, table := range []string{"call_details", "callbacks", "call_events", "webhook_deliveries"} {
		if n := b.count("SELECT count(*) FROM " + table + " WHERE user_id = 'org_clinic'"); n != 0 {
			t.Errorf("%s still holds %d rows of the purged calls", table, n)
		}
	}
	var purges struct {
		Items      []map[string]any
		NextCursor *string `json:"next_cursor"`
	}
	expect(t, b.do("GET", "/api/retention-purges?limit=1", admin, nil), 200).json(t, &purges)
	if len(purges.Items) != 1 || purges.Items[0]["calls"] != float64(2) || purges.NextCursor == nil {
		t.Fatalf("the newest purge record: %+v", purges)
	}
	expect(t, b.do("GET", "/api/retention-purges?cursor="+*purges.NextCursor, admin, nil), 200).json(t, &purges)
	if len(purges.Items) != 1 || purges.Items[0]["transcripts"] != float64(2) || purges.Items[0]["recordings"] != float64(2) {
		t.Fatalf("the first purge record: %+v", purges)
	}
	expect(t, b.do("GET", "/api/retention-purges", other, nil), 200).json(t, &purges)
	if len(purges.Items) != 1 || purges.Items[0]["recordings"] != float64(1) {
		t.Fatalf("the other clinic's records: %+v", purges.Items)
	}
	expect(t, b.do("GET", "/api/clinic-settings", admin, nil), 200).json(t, &settings)
	if settings["last_purge_run_at"] == nil {
		t.Fatalf("the settings do not say when the job last ran: %v", settings)
	}
}

// HIPAA mode applies the strictest windows whatever the clinic set.
func TestHIPAAModeAppliesTheStrictestRetention(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.token("user_strict")
	b.registerLine(admin, clinicALine, "asst_a", "vpn_a")
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_STRICT", patientNumber, sharedLine, clinicALine)))
	expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-call-1", b.lastHandoff()["metadata"].(map[string]any))), 200)
	var settings map[string]any
	expect(t, b.do("PUT", "/api/clinic-settings", admin, map[string]any{"hipaa_mode": true,
		"retention": map[string]any{"transcripts_days": 3650, "recordings_days": 3650, "calls_days": 3650}}), 200).json(t, &settings)
	if fmt.Sprint(settings["effective_retention"]) != "map[calls_days:30 recordings_days:0 transcripts_days:7]" {
		t.Fatalf("HIPAA mode's windows: %v", settings)
	}
	// The recording kept before the switch goes at the next run; the transcript after 7 days.
	if n := b.purgeAt(0); n.Recordings != 1 || n.Transcripts != 0 {
		t.Fatalf("at once: %+v", n)
	}
	if n := b.purgeAt(8 * 24 * time.Hour); n.Transcripts != 1 || n.Calls != 0 {
		t.Fatalf("after 8 days: %+v", n)
	}
	if n := b.purgeAt(31 * 24 * time.Hour); n.Calls != 1 {
		t.Fatalf("after 31 days: %+v", n)
	}
}
