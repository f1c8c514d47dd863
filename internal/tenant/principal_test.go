package tenant

import (
	"context"
	"slices"
	"testing"

	"github.com/switchboard-health/switchboard/internal/devtoken"
)

// The tenant is the active organisation, or the user; the user acting is carried beside
// it; the role and Clerk's custom permissions give the permissions. Both versions of
// Clerk's session token say the same.
func TestPrincipalOfASession(t *testing.T) {
	t.Parallel()
	s, err := devtoken.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(VerifierConfig{JWTKey: s.PublicPEM()})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		claims devtoken.Claims
		want   Principal
	}{
		{"personal workspace", devtoken.Claims{Subject: "user_a"},
			Principal{Tenant: "user_a", Kind: KindUser, Actor: "user_a", Permissions: Permissions}},
		{"admin", devtoken.Claims{Subject: "user_a", OrgID: "org_1", OrgRole: "org:admin"},
			Principal{Tenant: "org_1", Kind: KindOrganization, Actor: "user_a", Role: "org:admin", Permissions: Permissions}},
		{"member", devtoken.Claims{Subject: "user_b", OrgID: "org_1", OrgRole: "org:member"},
			Principal{Tenant: "org_1", Kind: KindOrganization, Actor: "user_b", Role: "org:member", Permissions: []Permission{CallsRead, CallsWrite, PhoneNumbersRead}}},
		{"member with a custom permission", devtoken.Claims{Subject: "user_b", OrgID: "org_1", OrgRole: "org:member", OrgPermissions: []string{"org:calls:export", "org:billing:manage"}},
			Principal{Tenant: "org_1", Kind: KindOrganization, Actor: "user_b", Role: "org:member", Permissions: []Permission{CallsExport, CallsRead, CallsWrite, PhoneNumbersRead}}},
		{"custom role", devtoken.Claims{Subject: "user_c", OrgID: "org_1", OrgRole: "org:front_desk", OrgPermissions: []string{"org:calls:read"}},
			Principal{Tenant: "org_1", Kind: KindOrganization, Actor: "user_c", Role: "org:front_desk", Permissions: []Permission{CallsRead}}},
	}
	for _, c := range cases {
		for _, version2 := range []bool{false, true} {
			claims := c.claims
			claims.Version2 = version2
			tok, err := s.Token(claims)
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("%s (v2 %v): %v", c.name, version2, err)
			}
			if got.Tenant != c.want.Tenant || got.Kind != c.want.Kind || got.Actor != c.want.Actor || got.Role != c.want.Role ||
				!slices.Equal(sorted(got.Permissions), sorted(c.want.Permissions)) {
				t.Errorf("%s (v2 %v): %+v, want %+v", c.name, version2, got, c.want)
			}
		}
	}
}

func sorted(p []Permission) []Permission { p = slices.Clone(p); slices.Sort(p); return p }
