// Package devtoken mints session tokens shaped like Clerk's (RS256, kid, iss, sub, azp,
// exp, nbf, iat) with a key of its own. `switchboard dev` prints such tokens for its demo
// tenants, and tests use them to exercise the real verification path. Production never
// mints tokens: Clerk does.
package devtoken

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// Issuer is a Clerk-shaped issuer: Clerk's verifier accepts issuers of this form.
const Issuer = "https://clerk.switchboard.localhost"

// Signer signs tokens with one RSA key.
type Signer struct {
	key   *rsa.PrivateKey
	KeyID string
}

// NewSigner makes a signer with a fresh 2048-bit key.
func NewSigner() (*Signer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &Signer{key: key, KeyID: "ins_dev"}, nil
}

// LoadSigner reads a signer from a PEM-encoded PKCS#8 private key.
func LoadSigner(privatePEM []byte) (*Signer, error) {
	block, _ := pem.Decode(privatePEM)
	if block == nil {
		return nil, errors.New("devtoken: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("devtoken: %w", err)
	}
	rsaKey, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("devtoken: not an RSA key")
	}
	return &Signer{key: rsaKey, KeyID: "ins_dev"}, nil
}

// PrivatePEM is the signer's private key, PEM-encoded PKCS#8.
func (s *Signer) PrivatePEM() []byte {
	der, _ := x509.MarshalPKCS8PrivateKey(s.key)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// PublicPEM is what CLERK_JWT_KEY holds for this signer.
func (s *Signer) PublicPEM() string {
	der, _ := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// JWKS is the signer's key as Clerk's /jwks endpoint serves it.
func (s *Signer) JWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &s.key.PublicKey, KeyID: s.KeyID, Algorithm: "RS256", Use: "sig",
	}}}
}

// Claims are a session token's claims. Zero times get defaults: issued now, valid for Lifetime.
type Claims struct {
	Subject         string
	Issuer          string // default Issuer
	AuthorizedParty string
	IssuedAt        time.Time
	NotBefore       time.Time
	Expiry          time.Time
	NoExpiry        bool // leave exp out altogether

	// The active organisation, when the session has one: its id, the member's role
	// ("org:admin", "org:member") and custom permissions ("org:calls:export").
	OrgID          string
	OrgRole        string
	OrgPermissions []string
	// Version2 writes the organisation as session tokens of version 2 do (the "o" claim,
	// with permissions as feature bit masks); otherwise as version 1 (org_id, org_role,
	// org_permissions).
	Version2 bool
}

// Token signs claims.
func (s *Signer) Token(c Claims) (string, error) {
	now := time.Now()
	if c.Issuer == "" {
		c.Issuer = Issuer
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = now
	}
	if c.NotBefore.IsZero() {
		c.NotBefore = c.IssuedAt.Add(-5 * time.Second)
	}
	if c.Expiry.IsZero() {
		c.Expiry = c.IssuedAt.Add(time.Hour)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", s.KeyID)
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s.key}, opts)
	if err != nil {
		return "", err
	}
	claims := map[string]any{
		"iss": c.Issuer,
		"sub": c.Subject,
		"iat": c.IssuedAt.Unix(),
		"nbf": c.NotBefore.Unix(),
		"sid": "sess_dev",
	}
	if !c.NoExpiry {
		claims["exp"] = c.Expiry.Unix()
	}
	if c.AuthorizedParty != "" {
		claims["azp"] = c.AuthorizedParty
	}
	if c.OrgID != "" {
		organization(claims, c)
	}
	return jwt.Signed(sig).Claims(claims).CompactSerialize()
}

// organization writes the active organisation's claims in the token version c asks for.
func organization(claims map[string]any, c Claims) {
	if !c.Version2 {
		claims["org_id"], claims["org_role"] = c.OrgID, c.OrgRole
		claims["org_permissions"] = append([]string{}, c.OrgPermissions...)
		return
	}
	// Version 2: "fea" lists features ("o:calls"), "per" the permission names, and "fpm"
	// for each feature a bit mask over "per"; the role loses its "org:" prefix.
	var features, names, masks []string
	for _, p := range c.OrgPermissions {
		parts := strings.SplitN(strings.TrimPrefix(p, "org:"), ":", 2)
		if len(parts) != 2 {
			continue
		}
		features = append(features, "o:"+parts[0])
		names = append(names, parts[1])
		masks = append(masks, strconv.Itoa(1<<(len(names)-1)))
	}
	claims["v"] = 2
	claims["fea"] = strings.Join(features, ",")
	claims["o"] = map[string]string{
		"id": c.OrgID, "rol": strings.TrimPrefix(c.OrgRole, "org:"),
		"per": strings.Join(names, ","), "fpm": strings.Join(masks, ","),
	}
}
