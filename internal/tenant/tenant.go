// Package tenant holds Switchboard's one tenant concept: who a request acts for, how that
// is read from a Clerk session token, and the transaction in which a tenant's data is read
// and written. Today a tenant is a Clerk user (the token's sub); when clinics become Clerk
// organisations, Verify is the one place that changes.
package tenant

import "context"

// ID identifies a tenant. Every tenant row stores it as user_id.
type ID string

type contextKey struct{}

// WithID returns a context that carries the tenant.
func WithID(ctx context.Context, id ID) context.Context {
	return context.WithValue(ctx, contextKey{}, id)
}

// FromContext returns the tenant the context carries, if any.
func FromContext(ctx context.Context) (ID, bool) {
	id, ok := ctx.Value(contextKey{}).(ID)
	return id, ok && id != ""
}
