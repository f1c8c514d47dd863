package tenant

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/switchboard-health/switchboard/internal/devtoken"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/testkit"
)

// fakeClerk serves Clerk's GET /jwks with the keys of the signers it publishes, and can
// hold a fetch until released.
type fakeClerk struct {
	server *httptest.Server
	mu     sync.Mutex
	keys   []*devtoken.Signer
	gate   chan struct{} // when not nil, a fetch waits for it to close
	asked  chan struct{} // receives a value for each fetch that started
}

func newFakeClerk(t *testing.T, keys ...*devtoken.Signer) *fakeClerk {
	f := &fakeClerk{keys: keys, asked: make(chan struct{}, 100)}
	f.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sk_test_secret" || r.URL.Path != "/jwks" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		f.asked <- struct{}{}
		f.mu.Lock()
		gate, keys := f.gate, f.keys
		f.mu.Unlock()
		if gate != nil {
			<-gate
		}
		var set jose.JSONWebKeySet
		for _, k := range keys {
			set.Keys = append(set.Keys, k.JWKS().Keys...)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(f.server.Close)
	return f
}

func (f *fakeClerk) publish(keys ...*devtoken.Signer) { f.mu.Lock(); f.keys = keys; f.mu.Unlock() }

func signer(t *testing.T, kid string) *devtoken.Signer {
	t.Helper()
	s, err := devtoken.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	s.KeyID = kid
	return s
}

func token(t *testing.T, s *devtoken.Signer, sub string) string {
	t.Helper()
	tok, err := s.Token(devtoken.Claims{Subject: sub, Expiry: time.Now().Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// A token naming a key id Clerk has not published makes the verifier fetch the set, but a
// user whose key is known never waits for that fetch.
func TestAnUnknownKeyIDNeverHoldsValidUsers(t *testing.T) {
	t.Parallel()
	k1, k2 := signer(t, "ins_1"), signer(t, "ins_2")
	clerk := newFakeClerk(t, k1)
	v, err := NewVerifier(VerifierConfig{SecretKey: "sk_test_secret", APIURL: clerk.server.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := v.Verify(ctx, token(t, k1, "user_a")); err != nil {
		t.Fatal(err)
	}
	<-clerk.asked
	gate := make(chan struct{})
	clerk.mu.Lock()
	clerk.gate = gate
	clerk.mu.Unlock()
	defer close(gate)
	go func() { _, _ = v.Verify(ctx, token(t, k2, "user_forged")) }()
	<-clerk.asked // the fetch for the unknown key id is under way, held by Clerk

	done := make(chan error, 1)
	go func() { _, err := v.Verify(ctx, token(t, k1, "user_b")); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("a valid user: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a valid user waited for the fetch of an unknown key id")
	}
}

// A key Clerk rotates in works at once: the first token it signed fetches the set.
func TestARotatedInKeyWorksAtOnce(t *testing.T) {
	t.Parallel()
	k1, k2 := signer(t, "ins_1"), signer(t, "ins_2")
	clerk := newFakeClerk(t, k1)
	v, err := NewVerifier(VerifierConfig{SecretKey: "sk_test_secret", APIURL: clerk.server.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), token(t, k1, "user_a")); err != nil {
		t.Fatal(err)
	}
	clerk.publish(k1, k2)
	if id, err := v.Verify(context.Background(), token(t, k2, "user_a")); err != nil || id.Tenant != "user_a" {
		t.Fatalf("a token of the rotated-in key: %q, %v", id, err)
	}
}

// A key Clerk removed stops being trusted once the set is older than its maximum age,
// tokens verified with it before included.
func TestARemovedKeyStopsBeingTrusted(t *testing.T) {
	t.Parallel()
	k1, k2 := signer(t, "ins_1"), signer(t, "ins_2")
	clerk := newFakeClerk(t, k1, k2)
	clock := &movableClock{t: time.Now()}
	var mu sync.Mutex
	v, err := NewVerifier(VerifierConfig{SecretKey: "sk_test_secret", APIURL: clerk.server.URL, KeysMaxAge: time.Minute,
		Clock: clockFunc(func() time.Time { mu.Lock(); defer mu.Unlock(); return clock.t })})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	old, kept := token(t, k1, "user_a"), token(t, k2, "user_b")
	for _, tok := range []string{old, kept} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	clerk.publish(k2)
	mu.Lock()
	clock.t = clock.t.Add(2 * time.Minute)
	mu.Unlock()
	testkit.Eventually(t, 10*time.Second, "the removed key's token is refused", func() bool {
		_, err := v.Verify(ctx, old)
		return errs.Is(err, errs.Unauthorized)
	})
	if _, err := v.Verify(ctx, kept); err != nil {
		t.Fatalf("a token of a key still published: %v", err)
	}
}

type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }
