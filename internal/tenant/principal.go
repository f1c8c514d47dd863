package tenant

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Principal is who a request acts for and who acts: the tenant (the session's active Clerk
// organisation, or the user when none is active: a personal workspace), the person acting
// (the token's sub, for the audit trail and for who did what), and what they may do.
type Principal struct {
	Tenant      ID
	Kind        Kind
	Actor       string       // the Clerk user id of the person acting
	Role        string       // org:admin, org:member or a custom role; "" in a personal workspace
	Permissions []Permission // effective, sorted
	// IssuedAt is when Clerk issued the session token (zero for an API key): a session
	// issued before its person was removed from the organisation is refused.
	IssuedAt time.Time
}

// Kind says what a tenant is.
type Kind string

// The kinds of tenant.
const (
	KindOrganization Kind = "organization"
	KindUser         Kind = "user"
)

// Permission is a thing a principal may do. The list is closed; each operation of the
// API names the one it needs (x-permission in openapi.yaml).
type Permission string

// The permissions.
const (
	PhoneNumbersRead  Permission = "phone_numbers:read"
	PhoneNumbersWrite Permission = "phone_numbers:write"
	CallsRead         Permission = "calls:read"
	CallsWrite        Permission = "calls:write"
	CallsExport       Permission = "calls:export"
	AuditRead         Permission = "audit:read"
	WebhooksManage    Permission = "webhooks:manage"
	DataErase         Permission = "data:erase"
)

// Permissions lists every permission.
var Permissions = []Permission{PhoneNumbersRead, PhoneNumbersWrite, CallsRead, CallsWrite, CallsExport, AuditRead, WebhooksManage, DataErase}

// rolePermissions is what Clerk's system roles may do. Admins run the clinic's setup;
// members read the numbers and the calls (transcripts and recordings included) and do the
// follow-up work on them (calls:write: dispositions, notes, tags). Exporting every call is an admin's, or a member's with the custom
// permission org:calls:export. Any other role has what its custom permissions give.
var rolePermissions = map[string][]Permission{
	"org:admin":  Permissions,
	"org:member": {PhoneNumbersRead, CallsRead, CallsWrite},
}

// principal builds the principal of a verified session: in a personal workspace the user
// may do everything; in an organisation, what the role and Clerk's custom permissions
// ("org:<feature>:<action>", e.g. org:calls:export) give.
func principal(user, orgID, role string, custom []string) Principal {
	if orgID == "" {
		perms := slices.Clone(Permissions)
		slices.Sort(perms)
		return Principal{Tenant: ID(user), Kind: KindUser, Actor: user, Permissions: perms}
	}
	perms := slices.Clone(rolePermissions[role])
	for _, c := range custom {
		if p := Permission(strings.TrimPrefix(c, "org:")); slices.Contains(Permissions, p) && !slices.Contains(perms, p) {
			perms = append(perms, p)
		}
	}
	slices.Sort(perms)
	return Principal{Tenant: ID(orgID), Kind: KindOrganization, Actor: user, Role: role, Permissions: perms}
}

// Can reports whether the principal may do what p allows.
func (p Principal) Can(perm Permission) bool { return slices.Contains(p.Permissions, perm) }

type principalKey struct{}

// WithPrincipal returns a context that carries the principal.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal the context carries, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok && p.Tenant != ""
}
