package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/internal/devtoken"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

func TestEveryAuthFailureIs401Problem(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{verifier: tenant.VerifierConfig{AuthorizedParties: []string{"https://app.example.com"}}})
	other, err := devtoken.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	sign := func(s *devtoken.Signer, c devtoken.Claims) string {
		tok, err := s.Token(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	cases := map[string]string{
		"malformed":       "not.a.jwt",
		"garbage":         "abc",
		"expired":         sign(b.signer, devtoken.Claims{Subject: "user_a", IssuedAt: now.Add(-2 * time.Hour), Expiry: now.Add(-time.Minute)}),
		"not yet valid":   sign(b.signer, devtoken.Claims{Subject: "user_a", NotBefore: now.Add(time.Minute), Expiry: now.Add(time.Hour)}),
		"wrong key":       sign(other, devtoken.Claims{Subject: "user_a"}),
		"wrong issuer":    sign(b.signer, devtoken.Claims{Subject: "user_a", Issuer: "https://evil.example.com"}),
		"wrong azp":       sign(b.signer, devtoken.Claims{Subject: "user_a", AuthorizedParty: "https://evil.example.com"}),
		"no exp":          sign(b.signer, devtoken.Claims{Subject: "user_a", NoExpiry: true}),
		"no sub":          sign(b.signer, devtoken.Claims{}),
		"NUL in sub":      sign(b.signer, devtoken.Claims{Subject: "user_\x00a"}),
		"tampered claims": tamper(t, sign(b.signer, devtoken.Claims{Subject: "user_a"})),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			p := expect(t, b.do("GET", "/api/phone-numbers", tok, nil), 401).problem(t)
			if p["code"] != "unauthorized" {
				t.Errorf("code %v, want unauthorized", p["code"])
			}
		})
	}
	t.Run("missing header", func(t *testing.T) {
		expect(t, b.do("GET", "/api/calls", "", nil), 401).problem(t)
	})
	t.Run("wrong scheme", func(t *testing.T) {
		req := httptest.NewRequest("GET", "/api/phone-numbers", nil)
		req.Header.Set("Authorization", "Basic "+b.token("user_a"))
		rec := httptest.NewRecorder()
		b.handler.ServeHTTP(rec, req)
		if rec.Code != 401 {
			t.Fatalf("status %d, want 401", rec.Code)
		}
	})
	t.Run("valid tokens pass", func(t *testing.T) {
		expect(t, b.do("GET", "/api/phone-numbers", b.token("user_a"), nil), 200)
		expect(t, b.do("GET", "/api/phone-numbers", sign(b.signer, devtoken.Claims{Subject: "user_a", AuthorizedParty: "https://app.example.com"}), nil), 200)
	})
}

// tamper swaps the token's subject for another tenant's without re-signing.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"user_a"`, `"user_b"`, 1)))
	return strings.Join(parts, ".")
}

func TestJWKSVerificationWithSecretKey(t *testing.T) {
	t.Parallel()
	signer, err := devtoken.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	var fetches atomic.Int32
	clerk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sk_test_secret" || r.URL.Path != "/jwks" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(signer.JWKS())
	}))
	defer clerk.Close()

	b := setup(t, setupOptions{verifier: tenant.VerifierConfig{SecretKey: "sk_test_secret", APIURL: clerk.URL}})
	b.signer = signer
	expect(t, b.do("GET", "/api/phone-numbers", b.token("user_a"), nil), 200)
	expect(t, b.do("GET", "/api/phone-numbers", b.token("user_a"), nil), 200)
	if n := fetches.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times for two requests, want 1 (cached)", n)
	}

	// A token signed by a key Clerk does not publish is refused, whatever its kid says.
	other, _ := devtoken.NewSigner()
	forged, _ := other.Token(devtoken.Claims{Subject: "user_a"})
	expect(t, b.do("GET", "/api/phone-numbers", forged, nil), 401).problem(t)

	// A key id Clerk does not know is refused without a flood of JWKS fetches.
	other.KeyID = "ins_unknown"
	unknown, _ := other.Token(devtoken.Claims{Subject: "user_a"})
	for range 5 {
		expect(t, b.do("GET", "/api/phone-numbers", unknown, nil), 401)
	}
	if n := fetches.Load(); n > 2 {
		t.Errorf("JWKS fetched %d times; unknown key ids must not each trigger a fetch", n)
	}
}

func TestJWKSUnreachableIs503(t *testing.T) {
	t.Parallel()
	clerk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer clerk.Close()
	b := setup(t, setupOptions{verifier: tenant.VerifierConfig{SecretKey: "sk_test_secret", APIURL: clerk.URL}})
	p := expect(t, b.do("GET", "/api/phone-numbers", b.token("user_a"), nil), 503).problem(t)
	if p["code"] != "unavailable" {
		t.Errorf("code %v, want unavailable", p["code"])
	}
}
