package httpapi_test

import (
	"strings"
	"testing"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/providertest"
)

// An integrator's server reads a clinic's calls with a Clerk API key: its subject is the
// tenant, its scopes its permissions. Unknown and revoked keys are 401 (a revocation takes
// effect once the remembered verification expires); Clerk unreachable is a 503, never a
// 401 and never a pass; a verification is remembered, keyed by a digest of the secret.
func TestIntegratorsUseClerkAPIKeys(t *testing.T) {
	t.Parallel()
	clerk := providertest.NewClerk(
		providertest.ClerkAPIKey{ID: "ak_id_reader", Secret: "ak_reader_secret", Subject: "org_clinic", Scopes: []string{"calls:read", "phone_numbers:read"}},
		providertest.ClerkAPIKey{ID: "ak_id_user", Secret: "ak_user_secret", Subject: "user_solo", Scopes: []string{"calls:read"}},
	)
	t.Cleanup(clerk.Close)
	b := setup(t, setupOptions{clerk: clerk})
	b.insertCall("org_clinic", dbsqlc.InsertCallParams{})

	if calls := b.callsOf("ak_reader_secret"); len(calls) != 1 {
		t.Fatalf("the organisation's key sees %d calls, want the clinic's 1", len(calls))
	}
	if calls := b.callsOf("ak_user_secret"); len(calls) != 0 {
		t.Fatalf("a user's key sees %d of the organisation's calls", len(calls))
	}
	// Remembered: the second request did not ask Clerk again.
	if n := clerk.Verifies(); n != 2 {
		t.Errorf("Clerk verified %d times for three requests of two keys, want 2", n)
	}
	// Scopes are permissions.
	p := expect(t, b.do("GET", "/api/calls/export.csv", "ak_reader_secret", nil), 403).problem(t)
	if !strings.Contains(p["detail"].(string), "calls:export") {
		t.Errorf("a key without the export scope: %v", p)
	}
	var me struct {
		Tenant struct{ ID, Kind string }
		UserID string `json:"user_id"`
	}
	expect(t, b.do("GET", "/api/me", "ak_reader_secret", nil), 200).json(t, &me)
	if me.Tenant.ID != "org_clinic" || me.Tenant.Kind != "organization" || me.UserID != "apikey:ak_id_reader" {
		t.Errorf("/api/me for a key: %+v", me)
	}

	if p := expect(t, b.do("GET", "/api/calls", "ak_unknown_secret", nil), 401).problem(t); p["code"] != "unauthorized" {
		t.Errorf("an unknown key: %v", p)
	}
	clerk.Down(true)
	if p := expect(t, b.do("GET", "/api/calls", "ak_never_seen", nil), 503).problem(t); p["code"] != "unavailable" {
		t.Errorf("Clerk down: %v", p)
	}
	clerk.Down(false)
}
