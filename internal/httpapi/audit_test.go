package httpapi_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
)

// Every change of a clinic's numbers is in its audit log, with who made it and from
// which request; admins read the log, page by page; members do not.
func TestNumberChangesAreAudited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.orgToken("user_ann", "org_clinic", "org:admin")
	member := b.orgToken("user_bob", "org_clinic", "org:member")

	req := httptest.NewRequest("POST", "/api/phone-numbers", strings.NewReader(`{"phone_number":"(212) 736-5000"}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", "req-audit-1")
	req.Header.Set("User-Agent", "front-desk/1.0")
	req.RemoteAddr = "198.51.100.7:5000"
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	if rec.Code != 201 {
		t.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	var pn phoneNumber
	response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}.json(t, &pn)
	pn = b.prove(admin, pn)
	expect(t, b.do("PATCH", "/api/phone-numbers/"+pn.ID.String(), admin, map[string]any{"label": "Front desk"}), 200)
	expect(t, b.do("DELETE", "/api/phone-numbers/"+pn.ID.String(), admin, nil), 204)

	type entry struct {
		Actor, Action, TargetType string
		TargetID                  *string        `json:"target_id"`
		RequestID                 *string        `json:"request_id"`
		ClientAddress             *string        `json:"client_address"`
		UserAgent                 *string        `json:"user_agent"`
		Detail                    map[string]any `json:"detail"`
	}
	var page struct {
		Items      []entry
		NextCursor *string `json:"next_cursor"`
	}
	expect(t, b.do("GET", "/api/audit-events?limit=2", admin, nil), 200).json(t, &page)
	if len(page.Items) != 2 || page.NextCursor == nil || page.Items[0].Action != "phone_number.delete" || page.Items[1].Action != "phone_number.update" {
		t.Fatalf("first page %+v", page)
	}
	if f, _ := page.Items[1].Detail["fields"].([]any); len(f) != 1 || f[0] != "label" {
		t.Errorf("the update's detail %v", page.Items[1].Detail)
	}
	var rest struct{ Items []entry }
	expect(t, b.do("GET", "/api/audit-events?limit=2&cursor="+*page.NextCursor, admin, nil), 200).json(t, &rest)
	if len(rest.Items) != 2 || rest.Items[0].Action != "phone_number.verify" || rest.Items[1].Action != "phone_number.create" {
		t.Fatalf("second page %+v", rest)
	}
	created := rest.Items[1]
	if created.Actor != "user_ann" || *created.TargetID != pn.ID.String() || *created.RequestID != "req-audit-1" ||
		*created.ClientAddress != "198.51.100.7" || *created.UserAgent != "front-desk/1.0" {
		t.Errorf("the creation's entry %+v", created)
	}
	var filtered struct{ Items []entry }
	expect(t, b.do("GET", "/api/audit-events?action=phone_number.verify", admin, nil), 200).json(t, &filtered)
	if len(filtered.Items) != 1 || filtered.Items[0].Detail["by"] != "code" {
		t.Errorf("filtered by action: %+v", filtered)
	}
	if p := expect(t, b.do("GET", "/api/audit-events", member, nil), 403).problem(t); !strings.Contains(p["detail"].(string), "audit:read") {
		t.Errorf("a member reading the audit log: %v", p)
	}
	// Another clinic's log is empty.
	var other struct{ Items []entry }
	expect(t, b.do("GET", "/api/audit-events", b.orgToken("user_cat", "org_other", "org:admin"), nil), 200).json(t, &other)
	if len(other.Items) != 0 {
		t.Errorf("another clinic sees %d entries", len(other.Items))
	}
}

// Every read of patient data is audited, in the read's own round trip: a call's detail
// (transcript and messages), its recording, and an export with how many calls it held. A
// read of a call that is not the clinic's records nothing.
func TestReadsOfPatientDataAreAudited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.orgToken("user_ann", "org_clinic", "org:admin")
	recorded := "https://storage.vapi.ai/r.wav"
	c := b.insertCall("org_clinic", dbsqlc.InsertCallParams{})
	other := b.insertCall("org_other", dbsqlc.InsertCallParams{})
	if _, err := b.pool.Exec(context.Background(), "UPDATE calls SET recording_url = $1 WHERE id = $2", recorded, c.ID); err != nil {
		t.Fatal(err)
	}
	expect(t, b.do("GET", "/api/calls/"+c.ID.String(), admin, nil), 200)
	expect(t, b.do("GET", "/api/calls/"+other.ID.String(), admin, nil), 404)
	expect(t, b.do("GET", "/api/calls/"+c.ID.String()+"/recording", admin, nil), 302)
	expect(t, b.do("GET", "/api/calls/export.csv", admin, nil), 200)

	var page struct {
		Items []struct {
			Action   string
			TargetID *string        `json:"target_id"`
			Detail   map[string]any `json:"detail"`
		}
	}
	expect(t, b.do("GET", "/api/audit-events", admin, nil), 200).json(t, &page)
	var got []string
	for _, e := range page.Items {
		target := ""
		if e.TargetID != nil {
			target = *e.TargetID
		}
		got = append(got, e.Action+" "+target)
	}
	want := []string{"calls.export ", "call.recording " + c.ID.String(), "call.read " + c.ID.String()}
	if !slices.Equal(got, want) {
		t.Fatalf("audited %q, want %q", got, want)
	}
	if page.Items[0].Detail["calls"] != float64(1) || page.Items[0].Detail["complete"] != true {
		t.Errorf("the export's entry %v", page.Items[0].Detail)
	}
}
