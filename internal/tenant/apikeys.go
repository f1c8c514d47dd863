package tenant

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/apikey"

	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/pgtext"
)

// apiKeyPrefix starts the secret of a Clerk API key: what an integrator's server sends
// instead of a session token.
const apiKeyPrefix = "ak_"

// APIKeyCacheTTL is how long a verified API key is trusted without asking Clerk again:
// a key revoked in Clerk is refused at the latest this long after.
const APIKeyCacheTTL = time.Minute

// apiKeys verifies Clerk API keys with Clerk (POST /api_keys/verify, through
// clerk-sdk-go's apikey client) and remembers the answers briefly, keyed by a digest of
// the secret, never the secret itself.
type apiKeys struct {
	client *apikey.Client
	now    func() time.Time

	mu       sync.Mutex
	verified map[[sha256.Size]byte]verifiedKey
}

type verifiedKey struct {
	principal Principal
	until     time.Time
}

func newAPIKeys(secretKey, apiURL string, now func() time.Time) *apiKeys {
	client := apikey.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
		Key: clerk.String(secretKey), URL: clerk.String(apiURL),
	}})
	return &apiKeys{client: client, now: now, verified: map[[sha256.Size]byte]verifiedKey{}}
}

// verifyAPIKey returns the principal of a Clerk API key: its subject (an organisation or
// a user) is the tenant, the key itself is the actor, and its scopes are its permissions.
// A key Clerk does not know, revoked or expired, is a 401; Clerk unreachable is a 503,
// never a 401 and never a pass.
func (v *Verifier) verifyAPIKey(ctx context.Context, secret string) (Principal, error) {
	if v.apiKeys == nil {
		return Principal{}, unauthorized("API keys are not accepted here: the server has no CLERK_SECRET_KEY.", nil)
	}
	return v.apiKeys.verify(ctx, secret)
}

func (a *apiKeys) verify(ctx context.Context, secret string) (Principal, error) {
	digest := sha256.Sum256([]byte(secret))
	now := a.now()
	a.mu.Lock()
	known, ok := a.verified[digest]
	a.mu.Unlock()
	if ok && now.Before(known.until) {
		return known.principal, nil
	}
	key, err := a.client.Verify(ctx, &apikey.VerifyParams{Secret: secret})
	var apiErr *clerk.APIErrorResponse
	switch {
	case errors.As(err, &apiErr) && apiErr.HTTPStatusCode >= 400 && apiErr.HTTPStatusCode < 500 && apiErr.HTTPStatusCode != http.StatusTooManyRequests:
		return Principal{}, unauthorized("The API key is not valid.", err)
	case err != nil:
		return Principal{}, errs.NewCause(errs.CodeUnavailable, "API keys cannot be verified right now; try again shortly.", err)
	case key.Revoked || key.Expired:
		return Principal{}, unauthorized("The API key is not valid.", errors.New("revoked or expired"))
	}
	p, err := keyPrincipal(key)
	if err != nil {
		return Principal{}, unauthorized("The API key is not valid.", err)
	}
	a.mu.Lock()
	if len(a.verified) >= maxVerified {
		clear(a.verified)
	}
	a.verified[digest] = verifiedKey{principal: p, until: now.Add(APIKeyCacheTTL)}
	a.mu.Unlock()
	return p, nil
}

// keyPrincipal reads the principal of a verified key.
func keyPrincipal(key *clerk.APIKey) (Principal, error) {
	p := Principal{Tenant: ID(key.Subject), Actor: "apikey:" + key.ID}
	switch {
	case !pgtext.Storable(key.Subject) || !pgtext.Storable(key.ID) || len(key.Subject) > 255:
		return p, errors.New("api key subject or id is not storable")
	case strings.HasPrefix(key.Subject, "org_"):
		p.Kind = KindOrganization
	case strings.HasPrefix(key.Subject, "user_"):
		p.Kind = KindUser
	default:
		return p, errors.New("api key subject is neither an organisation nor a user")
	}
	for _, scope := range key.Scopes {
		if perm := Permission(scope); slices.Contains(Permissions, perm) && !slices.Contains(p.Permissions, perm) {
			p.Permissions = append(p.Permissions, perm)
		}
	}
	slices.Sort(p.Permissions)
	return p, nil
}
