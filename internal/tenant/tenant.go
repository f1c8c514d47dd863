// Package tenant holds Switchboard's one tenant concept: who a request acts for (the
// active Clerk organisation, or the user in a personal workspace) and who acts, read from
// a Clerk session token in one place (Verifier), carried as one Principal, and the
// transaction in which a tenant's data is read and written (DB).
package tenant

// ID identifies a tenant: a Clerk organisation id (org_…) or, for a personal workspace, a
// user id (user_…). Every tenant row stores it in its user_id column, a name older than
// organisations.
type ID string
