package httpapi_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// patch sends a follow-up change made against ifMatch ("" sends no If-Match).
func (b *bundle) patchFollowUp(token, callID, ifMatch string, body map[string]any) response {
	b.t.Helper()
	buf, err := json.Marshal(body)
	if err != nil {
		b.t.Fatal(err)
	}
	req := httptest.NewRequest("PATCH", "/api/calls/"+callID+"/follow-up", strings.NewReader(string(buf)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// Two staff follow up on one call: each change names the version it was made against, so
// the second of two concurrent edits is refused instead of silently overwriting the first;
// changes show in the call, its list filters, its export, the stats, the audit log and the
// live stream.
func TestStaffFollowUpOnACallWithoutOverwritingEachOther(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.orgToken("user_admin", "org_clinic", "org:admin")
	alice := b.orgToken("user_alice", "org_clinic", "org:member")
	bob := b.orgToken("user_bob", "org_clinic", "org:member")
	b.registerLine(admin, clinicALine, "asst_a", "vpn_a")
	id := b.newCall(admin, "CA_FOLLOW", clinicALine)
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)
	live := b.stream(srv, alice, "")

	var fresh map[string]any
	r := expect(t, b.do("GET", "/api/calls/"+id+"/follow-up", alice, nil), 200)
	r.json(t, &fresh)
	etag := r.header.Get("ETag")
	if etag != `"0"` || fresh["disposition"] != nil || len(fresh["tags"].([]any)) != 0 {
		t.Fatalf("a fresh follow-up: %v, ETag %q", fresh, etag)
	}

	// Both read version 0; Alice writes first, so Bob's write is stale.
	r = expect(t, b.patchFollowUp(alice, id, etag, map[string]any{
		"disposition": "needs_callback", "notes": "Wants a Tuesday slot.", "tags": []string{" Cleaning ", "new-patient", "cleaning"}}), 200)
	var mine map[string]any
	r.json(t, &mine)
	if r.header.Get("ETag") != `"1"` || mine["updated_by"] != "user_alice" || mine["version"] != float64(1) ||
		strings.Join(toStrings(mine["tags"]), ",") != "cleaning,new-patient" {
		t.Fatalf("Alice's change: %v, ETag %q", mine, r.header.Get("ETag"))
	}
	if p := expect(t, b.patchFollowUp(bob, id, etag, map[string]any{"disposition": "resolved"}), 412).problem(t); p["code"] != "stale_version" {
		t.Fatalf("Bob's stale change: %v", p)
	}
	if p := expect(t, b.patchFollowUp(bob, id, "", map[string]any{"disposition": "resolved"}), 428).problem(t); p["code"] != "version_required" {
		t.Fatalf("a change without If-Match: %v", p)
	}
	// Bob rereads and clears the notes, keeping the rest.
	r = expect(t, b.patchFollowUp(bob, id, `"1"`, map[string]any{"notes": nil}), 200)
	var after map[string]any
	r.json(t, &after)
	if after["notes"] != nil || after["disposition"] != "needs_callback" || after["updated_by"] != "user_bob" || r.header.Get("ETag") != `"2"` {
		t.Fatalf("Bob's change: %v", after)
	}
	expect(t, b.patchFollowUp(bob, id, "*", map[string]any{"notes": "Called back, no answer."}), 200)
	for name, body := range map[string]map[string]any{
		"an unknown disposition": {"disposition": "maybe"},
		"a tag that is not one":  {"tags": []string{"two words"}},
		"nothing to change":      {},
	} {
		if p := expect(t, b.patchFollowUp(bob, id, "*", body), 400).problem(t); p["code"] != "validation_failed" {
			t.Errorf("%s: %v", name, p)
		}
	}

	// Another clinic can neither read nor change it; a role without calls:write cannot change it.
	other := b.token("user_other")
	expect(t, b.do("GET", "/api/calls/"+id+"/follow-up", other, nil), 404)
	expect(t, b.patchFollowUp(other, id, "*", map[string]any{"disposition": "spam"}), 404)
	viewer := b.orgToken("user_viewer", "org_clinic", "org:viewer", "org:calls:read")
	expect(t, b.patchFollowUp(viewer, id, "*", map[string]any{"disposition": "spam"}), 403)

	// The call shows it; the list filters by it; the export and the stats carry it.
	c := b.call(admin, id)
	if c["disposition"] != "needs_callback" || c["notes"] != "Called back, no answer." || strings.Join(toStrings(c["tags"]), ",") != "cleaning,new-patient" {
		t.Fatalf("the call: %v", c)
	}
	for _, q := range []string{"?disposition=needs_callback", "?tag=cleaning", "?tag=new-patient&disposition=needs_callback"} {
		var page struct{ Items []map[string]any }
		expect(t, b.do("GET", "/api/calls"+q, admin, nil), 200).json(t, &page)
		if len(page.Items) != 1 {
			t.Errorf("%s: %d calls", q, len(page.Items))
		}
	}
	var none struct{ Items []map[string]any }
	expect(t, b.do("GET", "/api/calls?tag=urgent", admin, nil), 200).json(t, &none)
	if len(none.Items) != 0 {
		t.Errorf("a tag no call has matched %d calls", len(none.Items))
	}
	csv := string(expect(t, b.do("GET", "/api/calls/export.csv?tag=cleaning", admin, nil), 200).body)
	if !strings.Contains(csv, "needs_callback,cleaning;new-patient") {
		t.Errorf("the export: %s", csv)
	}
	var stats struct {
		ByDisposition []struct {
			Disposition string
			Calls       int
		} `json:"by_disposition"`
		ByTag []struct {
			Tag   string
			Calls int
		} `json:"by_tag"`
	}
	expect(t, b.do("GET", "/api/calls/stats", admin, nil), 200).json(t, &stats)
	counts := map[string]int{}
	for _, d := range stats.ByDisposition {
		counts[d.Disposition] = d.Calls
	}
	if len(stats.ByDisposition) != 6 || counts["needs_callback"] != 1 || counts["booked"] != 0 {
		t.Errorf("stats by disposition: %v", stats.ByDisposition)
	}
	if len(stats.ByTag) != 2 || stats.ByTag[0].Tag != "cleaning" || stats.ByTag[0].Calls != 1 || stats.ByTag[1].Tag != "new-patient" {
		t.Errorf("stats by tag: %v", stats.ByTag)
	}

	// Audited with who and which fields, never the notes themselves.
	var log struct{ Items []map[string]any }
	expect(t, b.do("GET", "/api/audit-events?action=call.follow_up", admin, nil), 200).json(t, &log)
	if len(log.Items) != 3 || log.Items[2]["actor"] != "user_alice" || strings.Contains(string(mustJSON(t, log.Items)), "Tuesday") {
		t.Errorf("the audit log: %v", log.Items)
	}
	// Streamed live: the creation came before the stream; now three follow-up changes.
	for range 3 {
		if ev := live.nextStaffChange(); ev.event != "follow_up_changed" || ev.data["call_id"] != id {
			t.Fatalf("streamed %+v", ev)
		}
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
