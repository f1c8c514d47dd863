package tenant

import (
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
}

// Verifier turns a Clerk session token into the tenant it speaks for.
type Verifier struct {
	jwk     *clerk.JSONWebKey
	keys    *keySet
	parties map[string]bool
	clock   clerk.Clock

	// verified remembers tokens already verified until they expire: a dashboard sends the
	// same session token with every request of its minute-long life, and an RSA signature
	// check is the largest cost of a small request.
	mu       sync.Mutex
	verified map[string]verifiedToken
}

type verifiedToken struct {
	id                ID
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
		v.keys = &keySet{client: client, byID: map[string]*clerk.JSONWebKey{}}
	default:
		return nil, errors.New("CLERK_JWT_KEY or CLERK_SECRET_KEY is required to verify session tokens")
	}
	return v, nil
}

// Verify checks the token's signature, lifetime, issuer and authorised party, and returns
// the tenant it speaks for. Every failure is an errs.Unauthorized whose message does not
// say which check failed; the cause is kept for the logs.
func (v *Verifier) Verify(ctx context.Context, token string) (ID, error) {
	if token == "" {
		return "", unauthorized("Missing bearer token.", nil)
	}
	now := v.now()
	v.mu.Lock()
	known, ok := v.verified[token]
	v.mu.Unlock()
	if ok && now.After(known.notBefore.Add(-leeway)) && now.Before(known.expiry.Add(leeway)) {
		return known.id, nil
	}
	params := &jwt.VerifyParams{Token: token, JWK: v.jwk, Clock: v.clock, Leeway: leeway}
	if v.jwk == nil {
		decoded, err := jwt.Decode(ctx, &jwt.DecodeParams{Token: token})
		if err != nil {
			return "", unauthorized("Malformed bearer token.", err)
		}
		jwk, err := v.keys.get(ctx, decoded.KeyID)
		if errs.Is(err, errs.Unavailable) {
			return "", err
		}
		if err != nil {
			return "", unauthorized("The bearer token is not valid.", err)
		}
		params.JWK = jwk
	}
	if len(v.parties) > 0 {
		// Clerk's own rule: a token without azp (issued by a backend) passes; a token from a
		// browser must come from one of the configured origins.
		params.AuthorizedPartyHandler = func(azp string) bool { return azp == "" || v.parties[azp] }
	}
	claims, err := jwt.Verify(ctx, params)
	if err != nil {
		return "", unauthorized("The bearer token is not valid.", err)
	}
	// go-jose accepts a token without exp; Clerk always sets it, so its absence is forgery.
	if claims.Expiry == nil {
		return "", unauthorized("The bearer token is not valid.", errors.New("token has no exp claim"))
	}
	if claims.Subject == "" || !pgtext.Storable(claims.Subject) || len(claims.Subject) > 255 {
		// A tenant id is stored with every row; one PostgreSQL could not store is no
		// Clerk id, whoever signed it.
		return "", unauthorized("The bearer token is not valid.", errors.New("token has no usable sub claim"))
	}
	id := ID(claims.Subject)
	entry := verifiedToken{id: id, expiry: time.Unix(*claims.Expiry, 0)}
	if claims.NotBefore != nil {
		entry.notBefore = time.Unix(*claims.NotBefore, 0)
	}
	v.mu.Lock()
	if len(v.verified) >= maxVerified {
		clear(v.verified) // crude, but bounded; the next requests verify again
	}
	v.verified[token] = entry
	v.mu.Unlock()
	return id, nil
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

// keySet caches Clerk's JWKS by key id. An unknown key id refreshes the set, at most once
// per refreshInterval, so a flood of forged kids cannot turn into a flood of Clerk calls.
type keySet struct {
	client *jwks.Client

	mu          sync.Mutex
	byID        map[string]*clerk.JSONWebKey
	lastRefresh time.Time
}

const refreshInterval = 30 * time.Second

func (s *keySet) get(ctx context.Context, kid string) (*clerk.JSONWebKey, error) {
	if kid == "" {
		return nil, errors.New("token has no kid header")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.byID[kid]; ok {
		return k, nil
	}
	if time.Since(s.lastRefresh) < refreshInterval {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	s.lastRefresh = time.Now()
	set, err := s.client.Get(ctx, &jwks.GetParams{})
	if err != nil {
		// Clerk being unreachable says nothing about the token: the client may retry.
		return nil, errs.NewCause(errs.CodeUnavailable, "Session tokens cannot be verified right now; try again shortly.", err)
	}
	byID := make(map[string]*clerk.JSONWebKey, len(set.Keys))
	for _, k := range set.Keys {
		if k != nil && k.KeyID != "" {
			byID[k.KeyID] = k
		}
	}
	s.byID = byID
	if k, ok := byID[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown key id %q", kid)
}
