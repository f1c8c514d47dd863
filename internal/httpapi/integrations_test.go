package httpapi_test

import (
	"strings"
	"testing"

	"github.com/switchboard-health/switchboard/internal/providertest"
)

// An admin registers an endpoint and manages it; the clinic's call changes become
// deliveries to it, listed with how they went; a test event and a redelivery are queued;
// members and other clinics cannot touch it.
func TestIntegratorsManageWebhookEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.orgToken("user_admin", "org_clinic", "org:admin")
	member := b.orgToken("user_m", "org_clinic", "org:member")
	other := b.token("user_other")

	var created map[string]any
	expect(t, b.do("POST", "/api/webhook-endpoints", admin, map[string]any{
		"url": "http://127.0.0.1:9/hook", "event_types": []string{"call.started", "call.routed"}, "description": "CRM"}), 201).json(t, &created)
	id := created["id"].(string)
	secret, _ := created["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") || created["enabled"] != true || len(created["event_types"].([]any)) != 2 {
		t.Fatalf("created %v", created)
	}
	for name, body := range map[string]map[string]any{
		"not http(s)":           {"url": "ftp://example.com/hook"},
		"credentials in it":     {"url": "https://user:pw@example.com/hook"},
		"an unknown event type": {"url": "https://example.com/hook", "event_types": []string{"call.exploded"}},
	} {
		r := b.do("POST", "/api/webhook-endpoints", admin, body)
		if r.status != 422 && r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	expect(t, b.do("POST", "/api/webhook-endpoints", member, map[string]any{"url": "https://example.com/hook"}), 403)
	expect(t, b.do("GET", "/api/webhook-endpoints/"+id, other, nil), 404)

	// Secrets are shown when made, never when read.
	var list struct{ Items []map[string]any }
	expect(t, b.do("GET", "/api/webhook-endpoints", admin, nil), 200).json(t, &list)
	if len(list.Items) != 1 || list.Items[0]["secret"] != nil || strings.Contains(string(b.do("GET", "/api/webhook-endpoints/"+id, admin, nil).body), secret) {
		t.Fatalf("a read shows the secret: %v", list.Items)
	}
	var rotated map[string]any
	expect(t, b.do("POST", "/api/webhook-endpoints/"+id+"/secret", admin, nil), 200).json(t, &rotated)
	if rotated["secret"] == secret || !strings.HasPrefix(rotated["secret"].(string), "whsec_") {
		t.Fatalf("rotated %v", rotated)
	}

	// A call to the clinic becomes a call.started delivery (and call.routed: voicemail).
	b.registerLine(admin, clinicALine, "", "")
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_HOOK", patientNumber, sharedLine, clinicALine)))
	var test map[string]any
	expect(t, b.do("POST", "/api/webhook-endpoints/"+id+"/test", admin, nil), 202).json(t, &test)
	if test["event_type"] != "webhook.test" || test["status"] != "pending" {
		t.Fatalf("the test delivery %v", test)
	}
	var page struct {
		Items      []map[string]any
		NextCursor *string `json:"next_cursor"`
	}
	expect(t, b.do("GET", "/api/webhook-endpoints/"+id+"/deliveries", admin, nil), 200).json(t, &page)
	var types []string
	for _, d := range page.Items {
		types = append(types, d["event_type"].(string))
	}
	if strings.Join(types, ",") != "webhook.test,call.routed,call.started" || page.NextCursor != nil {
		t.Fatalf("deliveries %v", types)
	}
	expect(t, b.do("GET", "/api/webhook-endpoints/"+id+"/deliveries?limit=2", admin, nil), 200).json(t, &page)
	expect(t, b.do("GET", "/api/webhook-endpoints/"+id+"/deliveries?limit=2&cursor="+*page.NextCursor, admin, nil), 200).json(t, &page)
	if len(page.Items) != 1 || page.Items[0]["event_type"] != "call.started" {
		t.Fatalf("the second page %v", page.Items)
	}
	var again map[string]any
	expect(t, b.do("POST", "/api/webhook-deliveries/"+page.Items[0]["id"].(string)+"/redelivery", admin, nil), 202).json(t, &again)
	if again["redelivery_of"] != page.Items[0]["id"] || again["event_type"] != "call.started" {
		t.Fatalf("the redelivery %v", again)
	}
	expect(t, b.do("POST", "/api/webhook-deliveries/"+page.Items[0]["id"].(string)+"/redelivery", other, nil), 404)

	// Disabled, it gets nothing more; deleted, it is gone.
	var patched map[string]any
	expect(t, b.do("PATCH", "/api/webhook-endpoints/"+id, admin, map[string]any{"enabled": false, "description": nil}), 200).json(t, &patched)
	if patched["enabled"] != false || patched["disabled_reason"] != "disabled by the clinic" || patched["description"] != nil {
		t.Fatalf("disabled %v", patched)
	}
	before := b.count("SELECT count(*) FROM webhook_deliveries")
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_HOOK2", patientNumber, sharedLine, clinicALine)))
	if after := b.count("SELECT count(*) FROM webhook_deliveries"); after != before {
		t.Fatalf("a disabled endpoint got %d deliveries", after-before)
	}
	expect(t, b.do("DELETE", "/api/webhook-endpoints/"+id, admin, nil), 204)
	expect(t, b.do("GET", "/api/webhook-endpoints/"+id, admin, nil), 404)
	if n := b.count("SELECT count(*) FROM webhook_deliveries"); n != 0 {
		t.Fatalf("%d deliveries outlived their endpoint", n)
	}
}
