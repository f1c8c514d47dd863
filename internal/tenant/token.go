package tenant

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwks"
	"github.com/clerk/clerk-sdk-go/v2/jwt"

	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/pgtext"
)

// VerifierConfig says how session tokens are verified.
type VerifierConfig struct {
	// JWTKey is Clerk's PEM public key. When set, verification needs no network.
	JWTKey string
	// SecretKey and APIURL let the verifier fetch Clerk's JWKS when JWTKey is empty.
	SecretKey string
	APIURL    string
	// AuthorizedParties, when not empty, are the only accepted azp claims.
	AuthorizedParties []string
	// Clock replaces the system clock in tests.
	Clock clerk.Clock
	// KeysMaxAge is how long a fetched JWKS is trusted before it is fetched again
	// (default 5 minutes): a key Clerk removed stops being trusted within it.
	KeysMaxAge time.Duration
}

// Verifier turns a Clerk session token into the tenant it speaks for.
type Verifier struct {
	jwk     *clerk.JSONWebKey
	keys    *keySet
	apiKeys *apiKeys // nil without CLERK_SECRET_KEY
	parties map[string]bool
	clock   clerk.Clock

	// verified remembers tokens already verified until they expire: a dashboard sends the
	// same session token with every request of its minute-long life, and an RSA signature
	// check is the largest cost of a small request.
	mu       sync.Mutex
	verified map[string]verifiedToken
}

type verifiedToken struct {
	principal         Principal
	kid               string // the key that signed it, in JWKS mode
	notBefore, expiry time.Time
}

// maxVerified bounds the memory the remembered tokens take (a few MB at most).
const maxVerified = 10000

// leeway absorbs clock skew between Clerk and this server.
const leeway = 5 * time.Second

// NewVerifier checks the configuration now, so that a bad key is a start-up error rather
// than a 401 on every request.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	v := &Verifier{clock: cfg.Clock, parties: map[string]bool{}, verified: map[string]verifiedToken{}}
	for _, p := range cfg.AuthorizedParties {
		v.parties[p] = true
	}
	switch {
	case cfg.JWTKey != "":
		// Keys pasted into environment variables often lose their newlines.
		pem := strings.ReplaceAll(cfg.JWTKey, `\n`, "\n")
		jwk, err := clerk.JSONWebKeyFromPEM(pem)
		if err != nil {
			return nil, fmt.Errorf("CLERK_JWT_KEY is not a PEM-encoded RSA public key (Clerk dashboard → API keys → JWT public key): %w", err)
		}
		v.jwk = jwk
	case cfg.SecretKey != "":
		client := jwks.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
			Key: clerk.String(cfg.SecretKey),
			URL: clerk.String(cfg.APIURL),
		}})
		v.keys = &keySet{client: client, now: v.now, maxAge: cmp.Or(cfg.KeysMaxAge, keysMaxAge), minGap: keysMinGap,
			byID: map[string]*clerk.JSONWebKey{}, absent: map[string]time.Time{}}
	default:
		return nil, errors.New("CLERK_JWT_KEY or CLERK_SECRET_KEY is required to verify session tokens")
	}
	if cfg.SecretKey != "" {
		v.apiKeys = newAPIKeys(cfg.SecretKey, cfg.APIURL, v.now)
	}
	return v, nil
}

// Verify checks the token's signature, lifetime, issuer and authorised party, and returns
// the principal it speaks for: the tenant (the active organisation, or the user), the
// user acting, and what they may do. Every failure is an errs.Unauthorized whose message
// does not say which check failed; the cause is kept for the logs.
func (v *Verifier) Verify(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, unauthorized("Missing bearer token.", nil)
	}
	if strings.HasPrefix(token, apiKeyPrefix) {
		return v.verifyAPIKey(ctx, token)
	}
	now := v.now()
	v.mu.Lock()
	known, ok := v.verified[token]
	v.mu.Unlock()
	if ok && now.After(known.notBefore.Add(-leeway)) && now.Before(known.expiry.Add(leeway)) &&
		(v.keys == nil || v.keys.trusts(known.kid)) {
		return known.principal, nil
	}
	params := &jwt.VerifyParams{Token: token, JWK: v.jwk, Clock: v.clock, Leeway: leeway}
	var kid string
	if v.jwk == nil {
		var err error
		if params.JWK, kid, err = v.keyOf(ctx, token); err != nil {
			return Principal{}, err
		}
	}
	if len(v.parties) > 0 {
		// Clerk's own rule: a token without azp (issued by a backend) passes; a token from a
		// browser must come from one of the configured origins.
		params.AuthorizedPartyHandler = func(azp string) bool { return azp == "" || v.parties[azp] }
	}
	claims, err := jwt.Verify(ctx, params)
	if err != nil {
		return Principal{}, unauthorized("The bearer token is not valid.", err)
	}
	// go-jose accepts a token without exp; Clerk always sets it, so its absence is forgery.
	if claims.Expiry == nil {
		return Principal{}, unauthorized("The bearer token is not valid.", errors.New("token has no exp claim"))
	}
	if claims.Subject == "" || !pgtext.Storable(claims.Subject) || len(claims.Subject) > 255 {
		// A tenant id is stored with every row; one PostgreSQL could not store is no
		// Clerk id, whoever signed it.
		return Principal{}, unauthorized("The bearer token is not valid.", errors.New("token has no usable sub claim"))
	}
	if claims.ActiveOrganizationID != "" && !pgtext.Storable(claims.ActiveOrganizationID) {
		return Principal{}, unauthorized("The bearer token is not valid.", errors.New("token has an unusable org_id"))
	}
	p := principal(claims.Subject, claims.ActiveOrganizationID, claims.ActiveOrganizationRole, claims.ActiveOrganizationPermissions)
	if claims.IssuedAt != nil {
		p.IssuedAt = time.Unix(*claims.IssuedAt, 0)
	}
	entry := verifiedToken{principal: p, kid: kid, expiry: time.Unix(*claims.Expiry, 0)}
	if claims.NotBefore != nil {
		entry.notBefore = time.Unix(*claims.NotBefore, 0)
	}
	v.mu.Lock()
	if len(v.verified) >= maxVerified {
		clear(v.verified) // crude, but bounded; the next requests verify again
	}
	v.verified[token] = entry
	v.mu.Unlock()
	return p, nil
}

// keyOf finds, in Clerk's JWKS, the key that signed token, and its id.
func (v *Verifier) keyOf(ctx context.Context, token string) (*clerk.JSONWebKey, string, error) {
	decoded, err := jwt.Decode(ctx, &jwt.DecodeParams{Token: token})
	if err != nil {
		return nil, "", unauthorized("Malformed bearer token.", err)
	}
	jwk, err := v.keys.get(ctx, decoded.KeyID)
	if errs.Is(err, errs.Unavailable) {
		return nil, "", err
	}
	if err != nil {
		return nil, "", unauthorized("The bearer token is not valid.", err)
	}
	return jwk, decoded.KeyID, nil
}

func (v *Verifier) now() time.Time {
	if v.clock != nil {
		return v.clock.Now()
	}
	return time.Now()
}

func unauthorized(message string, cause error) error {
	return errs.NewCause(errs.CodeUnauthorized, message, cause)
}

// keySet caches Clerk's JWKS by key id. No lock is held while it fetches: a request whose
// key is known never waits for one that is not. It fetches the set again
//   - when a token names an unknown key id (a key Clerk rotated in works at once), at most
//     once per minGap, so a flood of forged key ids cannot become a flood of Clerk calls;
//   - when the set is older than maxAge, in the background: a key Clerk removed stops being
//     trusted within maxAge, tokens already verified with it included.
type keySet struct {
	client *jwks.Client
	now    func() time.Time
	maxAge time.Duration
	minGap time.Duration

	mu       sync.Mutex // never held during a fetch
	byID     map[string]*clerk.JSONWebKey
	absent   map[string]time.Time // key ids a fetch did not find, with that fetch's time
	fetched  time.Time            // when byID was read from Clerk
	lastTry  time.Time            // when the last fetch started
	inflight chan struct{}        // closed when the fetch under way ends; nil when none
	lastErr  error                // how the last fetch ended
}

// The key set's timing: how old a set may be, and how often an unknown key id may fetch.
const (
	keysMaxAge = 5 * time.Minute
	keysMinGap = time.Second
)

// get returns the key with id kid, fetching the set first when kid is unknown.
func (s *keySet) get(ctx context.Context, kid string) (*clerk.JSONWebKey, error) {
	if kid == "" {
		return nil, errors.New("token has no kid header")
	}
	s.mu.Lock()
	k, ok := s.byID[kid]
	s.refreshIfStale()
	if ok {
		s.mu.Unlock()
		return k, nil
	}
	if at, seen := s.absent[kid]; seen && at.Equal(s.fetched) {
		// The newest set was fetched after this key id was asked for: no new fetch would
		// tell more.
		s.mu.Unlock()
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	done := s.fetch()
	s.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, errs.NewCause(errs.CodeUnavailable, "Session tokens cannot be verified right now; try again shortly.", ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.byID[kid]; ok {
		return k, nil
	}
	if s.lastErr != nil {
		// Clerk being unreachable says nothing about the token: the client may retry.
		return nil, errs.NewCause(errs.CodeUnavailable, "Session tokens cannot be verified right now; try again shortly.", s.lastErr)
	}
	if len(s.absent) >= maxAbsent {
		clear(s.absent)
	}
	s.absent[kid] = s.fetched
	return nil, fmt.Errorf("unknown key id %q", kid)
}

// maxAbsent bounds the memory the unknown key ids take.
const maxAbsent = 1000

// trusts reports whether kid is still in the set, for tokens verified before: they stop
// being trusted once a fetch no longer finds their key.
func (s *keySet) trusts(kid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.byID[kid]
	s.refreshIfStale()
	return ok
}

// refreshIfStale starts a background fetch when the set is older than maxAge. s.mu is held.
func (s *keySet) refreshIfStale() {
	if !s.fetched.IsZero() && s.now().Sub(s.fetched) > s.maxAge {
		s.fetch()
	}
}

// fetch starts a fetch of the set, unless one is under way, no sooner than minGap after
// the last one started, and returns a channel closed when it has ended. s.mu is held.
func (s *keySet) fetch() <-chan struct{} {
	if s.inflight != nil {
		return s.inflight
	}
	done := make(chan struct{})
	s.inflight = done
	wait := s.lastTry.Add(s.minGap).Sub(s.now())
	s.lastTry = s.now().Add(max(wait, 0))
	go func() {
		defer close(done)
		if wait > 0 {
			time.Sleep(wait) // the rate limit's own pause, off every request's path
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		set, err := s.client.Get(ctx, &jwks.GetParams{})
		s.mu.Lock()
		defer s.mu.Unlock()
		s.inflight, s.lastErr = nil, err
		if err != nil {
			return
		}
		byID := make(map[string]*clerk.JSONWebKey, len(set.Keys))
		for _, k := range set.Keys {
			if k != nil && k.KeyID != "" {
				byID[k.KeyID] = k
			}
		}
		s.byID, s.fetched = byID, s.now()
	}()
	return done
}
