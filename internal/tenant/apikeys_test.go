package tenant

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/providertest"
)

// A key revoked in Clerk is refused once its remembered verification expires
// (APIKeyCacheTTL), and not before: the delay the README documents.
func TestARevokedAPIKeyIsRefusedAfterTheCacheTTL(t *testing.T) {
	t.Parallel()
	clerk := providertest.NewClerk(providertest.ClerkAPIKey{ID: "ak_id_1", Secret: "ak_secret_1", Subject: "org_1", Scopes: []string{"calls:read", "unknown:scope"}})
	t.Cleanup(clerk.Close)
	clock := &movableClock{t: time.Now()}
	v, err := NewVerifier(VerifierConfig{SecretKey: providertest.ClerkSecretKey, APIURL: clerk.URL(), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := v.Verify(ctx, "ak_secret_1")
	if err != nil || p.Tenant != "org_1" || p.Kind != KindOrganization || p.Actor != "apikey:ak_id_1" || len(p.Permissions) != 1 || !p.Can(CallsRead) {
		t.Fatalf("the key's principal: %+v, %v", p, err)
	}
	clerk.Revoke("ak_secret_1")
	clock.t = clock.t.Add(APIKeyCacheTTL - time.Second)
	if _, err := v.Verify(ctx, "ak_secret_1"); err != nil {
		t.Fatalf("within the cache's life: %v", err)
	}
	clock.t = clock.t.Add(2 * time.Second)
	if _, err := v.Verify(ctx, "ak_secret_1"); !errs.Is(err, errs.Unauthorized) {
		t.Fatalf("a revoked key after the cache's life: %v", err)
	}
}

// Without CLERK_SECRET_KEY nothing can verify an API key: it is a 401, not a pass.
func TestAPIKeysNeedTheSecretKey(t *testing.T) {
	t.Parallel()
	s := signer(t, "ins_1")
	v, err := NewVerifier(VerifierConfig{JWTKey: s.PublicPEM()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), "ak_anything"); !errs.Is(err, errs.Unauthorized) {
		t.Fatalf("an API key without a secret key configured: %v", err)
	}
}
