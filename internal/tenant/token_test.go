package tenant

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/internal/devtoken"
	"github.com/switchboard-health/switchboard/internal/errs"
)

// A bad key must stop the service at start, not turn every request into a 401.
func TestNewVerifierRefusesBadKeys(t *testing.T) {
	t.Parallel()
	for name, key := range map[string]string{
		"not PEM":     "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
		"private key": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
		"bad body":    "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n",
	} {
		_, err := NewVerifier(VerifierConfig{JWTKey: key})
		if err == nil || !strings.Contains(err.Error(), "CLERK_JWT_KEY") {
			t.Errorf("%s: got %v, want an error naming CLERK_JWT_KEY", name, err)
		}
	}
	if _, err := NewVerifier(VerifierConfig{}); err == nil {
		t.Error("a verifier without any key was accepted")
	}
}

// Keys pasted into an environment variable on one line keep working.
func TestVerifierAcceptsEscapedNewlines(t *testing.T) {
	t.Parallel()
	s, err := devtoken.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(VerifierConfig{JWTKey: strings.ReplaceAll(s.PublicPEM(), "\n", `\n`)})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := s.Token(devtoken.Claims{Subject: "user_2abc"})
	id, err := v.Verify(context.Background(), tok)
	if err != nil || id.Tenant != "user_2abc" || id.Kind != KindUser || id.Actor != "user_2abc" {
		t.Fatalf("Verify = %q, %v; want user_2abc", id, err)
	}
	if _, err := v.Verify(context.Background(), ""); !errs.Is(err, errs.Unauthorized) {
		t.Fatalf("empty token: %v", err)
	}
}

type movableClock struct{ t time.Time }

func (c *movableClock) Now() time.Time { return c.t }

// A remembered token is still refused once it has expired.
func TestRememberedTokensExpire(t *testing.T) {
	t.Parallel()
	s, err := devtoken.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	clock := &movableClock{t: time.Now()}
	v, err := NewVerifier(VerifierConfig{JWTKey: s.PublicPEM(), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := s.Token(devtoken.Claims{Subject: "user_a", IssuedAt: clock.t, Expiry: clock.t.Add(time.Minute)})
	for range 2 { // verified, then remembered
		if id, err := v.Verify(context.Background(), tok); err != nil || id.Tenant != "user_a" {
			t.Fatalf("Verify = %q, %v", id, err)
		}
	}
	clock.t = clock.t.Add(2 * time.Minute)
	if _, err := v.Verify(context.Background(), tok); !errs.Is(err, errs.Unauthorized) {
		t.Fatalf("an expired, remembered token: %v", err)
	}
}
