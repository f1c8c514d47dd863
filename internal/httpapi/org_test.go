package httpapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	switchboard "github.com/switchboard-health/switchboard"
	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/devtoken"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// orgToken is a session token of user acting in organisation org with role and custom
// permissions.
func (b *bundle) orgToken(user, org, role string, permissions ...string) string {
	b.t.Helper()
	tok, err := b.signer.Token(devtoken.Claims{Subject: user, OrgID: org, OrgRole: role, OrgPermissions: permissions})
	if err != nil {
		b.t.Fatal(err)
	}
	return tok
}

// A clinic is a team: the members of its organisation share its numbers and calls; a
// user's personal workspace is apart from it; another organisation sees none of it; and
// switching the active organisation switches the tenant.
func TestAClinicIsATeam(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.orgToken("user_ann", "org_clinic", "org:admin")
	member := b.orgToken("user_bob", "org_clinic", "org:member")
	memberElsewhere := b.orgToken("user_bob", "org_other", "org:admin")
	personal := b.token("user_bob")
	stranger := b.orgToken("user_cat", "org_other", "org:admin")

	pn := b.createNumber(admin, "(212) 736-5000")
	b.insertCall("org_clinic", dbsqlc.InsertCallParams{})
	for name, tok := range map[string]string{"admin": admin, "member": member} {
		var numbers struct{ Items []phoneNumber }
		expect(t, b.do("GET", "/api/phone-numbers", tok, nil), 200).json(t, &numbers)
		if len(numbers.Items) != 1 || numbers.Items[0].ID != pn.ID || len(b.callsOf(tok)) != 1 {
			t.Errorf("%s sees %d numbers and %d calls of the clinic, want 1 and 1", name, len(numbers.Items), len(b.callsOf(tok)))
		}
	}
	for name, tok := range map[string]string{"personal workspace": personal, "other organisation": stranger, "switched organisation": memberElsewhere} {
		var numbers struct{ Items []phoneNumber }
		expect(t, b.do("GET", "/api/phone-numbers", tok, nil), 200).json(t, &numbers)
		if len(numbers.Items) != 0 || len(b.callsOf(tok)) != 0 {
			t.Errorf("%s sees the clinic's numbers or calls", name)
		}
		expect(t, b.do("GET", "/api/phone-numbers/"+pn.ID.String(), tok, nil), 404)
	}
}

// Members read; admins change the clinic's numbers and export; a custom permission
// grants what the role does not; a refusal names the permission missing.
func TestRolesDecideWhatAMemberMayDo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.orgToken("user_ann", "org_clinic", "org:admin")
	member := b.orgToken("user_bob", "org_clinic", "org:member")
	exporter := b.orgToken("user_eve", "org_clinic", "org:member", "org:calls:export")

	p := expect(t, b.do("POST", "/api/phone-numbers", member, map[string]any{"phone_number": "(212) 736-5000"}), 403).problem(t)
	if p["code"] != "forbidden" || !strings.Contains(p["detail"].(string), "phone_numbers:write") {
		t.Errorf("a member registering a number: %v", p)
	}
	pn := b.createNumber(admin, "(212) 736-5000")
	expect(t, b.do("DELETE", "/api/phone-numbers/"+pn.ID.String(), member, nil), 403)
	expect(t, b.do("GET", "/api/phone-numbers/"+pn.ID.String(), member, nil), 200)
	expect(t, b.do("GET", "/api/calls", member, nil), 200)

	p = expect(t, b.do("GET", "/api/calls/export.csv", member, nil), 403).problem(t)
	if !strings.Contains(p["detail"].(string), "calls:export") {
		t.Errorf("a member exporting: %v", p)
	}
	expect(t, b.do("GET", "/api/calls/export.csv", exporter, nil), 200)
	expect(t, b.do("GET", "/api/calls/export.csv", admin, nil), 200)

	var me struct {
		Tenant      struct{ ID, Kind string }
		UserID      string   `json:"user_id"`
		Role        *string  `json:"role"`
		Permissions []string `json:"permissions"`
	}
	expect(t, b.do("GET", "/api/me", exporter, nil), 200).json(t, &me)
	if me.Tenant.ID != "org_clinic" || me.Tenant.Kind != "organization" || me.UserID != "user_eve" || me.Role == nil || *me.Role != "org:member" ||
		!slices.Equal(me.Permissions, []string{"calls:export", "calls:read", "calls:write", "phone_numbers:read"}) {
		t.Errorf("/api/me for a member who may export: %+v", me)
	}
	expect(t, b.do("GET", "/api/me", b.token("user_solo"), nil), 200).json(t, &me)
	if me.Tenant.ID != "user_solo" || me.Tenant.Kind != "user" || me.Role != nil || len(me.Permissions) != len(tenant.Permissions) {
		t.Errorf("/api/me in a personal workspace: %+v", me)
	}
}

// Every operation that takes a session token names the permission it needs, one of the
// closed list.
func TestEveryOperationNamesItsPermission(t *testing.T) {
	t.Parallel()
	spec, err := openapi3.NewLoader().LoadFromData(switchboard.OpenAPIYAML)
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			security := spec.Security
			if op.Security != nil {
				security = *op.Security
			}
			bearer := false
			for _, req := range security {
				_, ok := req["bearerAuth"]
				bearer = bearer || ok
			}
			if !bearer {
				continue
			}
			need, _ := op.Extensions["x-permission"].(string)
			if need != "any" && !slices.Contains(tenant.Permissions, tenant.Permission(need)) {
				t.Errorf("%s %s names permission %q", method, path, need)
			}
		}
	}
}
