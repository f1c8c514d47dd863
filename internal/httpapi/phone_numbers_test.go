package httpapi_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
)

func TestPhoneNumberLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_a")
	b.registerAssistant(a, "asst_1")

	var created phoneNumber
	expect(t, b.do("POST", "/api/phone-numbers", a, map[string]any{
		"phone_number":         "(415) 867-5309",
		"label":                "Front desk",
		"vapi_assistant_id":    "asst_1",
		"vapi_phone_number_id": "pn_1",
	}), 201).json(t, &created)
	if created.PhoneNumber != "+14158675309" || created.Label == nil || *created.Label != "Front desk" ||
		created.VapiAssistantID == nil || *created.VapiAssistantID != "asst_1" || !created.IsActive {
		t.Fatalf("created %+v", created)
	}
	second := b.createNumber(a, "+1 212-736-5000")

	var list struct{ Items []phoneNumber }
	expect(t, b.do("GET", "/api/phone-numbers", a, nil), 200).json(t, &list)
	if len(list.Items) != 2 || list.Items[0].ID != second.ID || list.Items[1].ID != created.ID {
		t.Fatalf("list %+v, want the two numbers newest first", list.Items)
	}

	var got phoneNumber
	expect(t, b.do("GET", "/api/phone-numbers/"+created.ID.String(), a, nil), 200).json(t, &got)
	if !reflect.DeepEqual(got, created) {
		t.Fatalf("get %+v, want %+v", got, created)
	}

	// PATCH: a field set changes, null clears, a field left out keeps its value.
	var patched phoneNumber
	expect(t, b.do("PATCH", "/api/phone-numbers/"+created.ID.String(), a, map[string]any{
		"label":             "Reception",
		"vapi_assistant_id": nil,
		"is_active":         false,
	}), 200).json(t, &patched)
	if patched.Label == nil || *patched.Label != "Reception" || patched.VapiAssistantID != nil ||
		patched.VapiPhoneNumberID == nil || *patched.VapiPhoneNumberID != "pn_1" || patched.IsActive ||
		patched.PhoneNumber != created.PhoneNumber || !patched.UpdatedAt.After(created.UpdatedAt) {
		t.Fatalf("patched %+v", patched)
	}

	expect(t, b.do("DELETE", "/api/phone-numbers/"+created.ID.String(), a, nil), 204)
	p := expect(t, b.do("GET", "/api/phone-numbers/"+created.ID.String(), a, nil), 404).problem(t)
	if p["code"] != "not_found" {
		t.Errorf("code %v, want not_found", p["code"])
	}
	expect(t, b.do("DELETE", "/api/phone-numbers/"+created.ID.String(), a, nil), 404)
}

func TestCreatePhoneNumberNormalisesToE164(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i, raw := range []string{"(415) 867-5309", "+1 212-736-5000", "650.253.0000", "+44 20 7946 0018"} {
		want := []string{"+14158675309", "+12127365000", "+16502530000", "+442079460018"}[i]
		if got := b.createNumber(b.token("user_a"), raw).PhoneNumber; got != want {
			t.Errorf("%q stored as %q, want %q", raw, got, want)
		}
	}
}

func TestCreatePhoneNumberRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, bb := b.token("user_a"), b.token("user_b")
	b.prove(a, b.createNumber(a, "(415) 867-5309"))

	// The same line written another way, by another tenant, once its owner proved it:
	// taken, without saying by whom.
	p := expect(t, b.do("POST", "/api/phone-numbers", bb, map[string]any{"phone_number": "+1 415 867 5309"}), 409).problem(t)
	if p["code"] != "phone_number_taken" || strings.Contains(p["detail"].(string), "user_a") {
		t.Errorf("problem %v", p)
	}
	// And by the same tenant.
	expect(t, b.do("POST", "/api/phone-numbers", a, map[string]any{"phone_number": "4158675309"}), 409)

	for _, raw := range []string{"(415) 555-0100", "12345", "not a number"} {
		p := expect(t, b.do("POST", "/api/phone-numbers", a, map[string]any{"phone_number": raw}), 422).problem(t)
		if p["code"] != "invalid_phone_number" {
			t.Errorf("%q: code %v, want invalid_phone_number", raw, p["code"])
		}
	}

	bad := map[string]any{
		"missing number": map[string]any{"label": "x"},
		"unknown field":  map[string]any{"phone_number": "4158675309", "owner": "user_b"},
		"wrong type":     map[string]any{"phone_number": 4158675309},
		"not json":       "{",
	}
	for name, body := range bad {
		p := expect(t, b.do("POST", "/api/phone-numbers", a, body), 400).problem(t)
		if p["code"] != "validation_failed" {
			t.Errorf("%s: code %v, want validation_failed", name, p["code"])
		}
	}
	expect(t, b.do("PATCH", "/api/phone-numbers/"+b.createNumber(a, "2127365000").ID.String(), a, map[string]any{}), 400)
	expect(t, b.do("GET", "/api/phone-numbers/not-a-uuid", a, nil), 400)
}

// Calls recorded for a number outlive it: the call keeps its numbers as text, and only
// the reference is cleared.
func TestDeletingANumberKeepsItsCalls(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_a")
	pn := b.createNumber(a, "(415) 867-5309")
	clinic := "+14158675309"
	call := b.insertCall("user_a", dbsqlc.InsertCallParams{PhoneNumberID: &pn.ID, ClinicNumber: &clinic})

	expect(t, b.do("DELETE", "/api/phone-numbers/"+pn.ID.String(), a, nil), 204)

	var got map[string]any
	expect(t, b.do("GET", "/api/calls/"+call.ID.String(), a, nil), 200).json(t, &got)
	if got["phone_number_id"] != nil || got["clinic_number"] != clinic {
		t.Fatalf("after delete the call has phone_number_id %v and clinic_number %v", got["phone_number_id"], got["clinic_number"])
	}
	var owner string
	if err := b.pool.QueryRow(context.Background(), "SELECT user_id FROM calls WHERE id = $1", call.ID).Scan(&owner); err != nil || owner != "user_a" {
		t.Fatalf("call owner %q, %v", owner, err)
	}
}

// Another tenant's id answers exactly like a missing one, on every endpoint that takes an id.
func TestCrossTenantIDsAre404(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, bb := b.token("user_a"), b.token("user_b")
	pn := b.createNumber(a, "(415) 867-5309")
	call := b.insertCall("user_a", dbsqlc.InsertCallParams{PhoneNumberID: &pn.ID})

	const missingID = "00000000-0000-4000-8000-000000000000"
	requests := []struct {
		method, path, id string
		body             any
	}{
		{"GET", "/api/phone-numbers/", pn.ID.String(), nil},
		{"PATCH", "/api/phone-numbers/", pn.ID.String(), map[string]any{"label": "mine now"}},
		{"DELETE", "/api/phone-numbers/", pn.ID.String(), nil},
		{"GET", "/api/calls/", call.ID.String(), nil},
	}
	for _, r := range requests {
		other := expect(t, b.do(r.method, r.path+r.id, bb, r.body), 404).problem(t)
		missing := expect(t, b.do(r.method, r.path+missingID, bb, r.body), 404).problem(t)
		if other["code"] != missing["code"] || other["detail"] != missing["detail"] || other["title"] != missing["title"] {
			t.Errorf("%s %s: another tenant's id answers %v, a missing id %v", r.method, r.path, other, missing)
		}
	}

	// Lists never show another tenant's rows, even when asked by their number's id.
	var numbers struct{ Items []phoneNumber }
	expect(t, b.do("GET", "/api/phone-numbers", bb, nil), 200).json(t, &numbers)
	var page struct{ Items []map[string]any }
	expect(t, b.do("GET", "/api/calls?phone_number_id="+pn.ID.String(), bb, nil), 200).json(t, &page)
	if len(numbers.Items) != 0 || len(page.Items) != 0 {
		t.Fatalf("user_b sees %d numbers and %d calls of user_a", len(numbers.Items), len(page.Items))
	}

	// And user_a's number and call are untouched by user_b's attempts.
	var still phoneNumber
	expect(t, b.do("GET", "/api/phone-numbers/"+pn.ID.String(), a, nil), 200).json(t, &still)
	if still.Label != nil {
		t.Fatalf("user_b's PATCH changed user_a's number: %+v", still)
	}
	expect(t, b.do("GET", "/api/calls/"+call.ID.String(), a, nil), 200)
}
