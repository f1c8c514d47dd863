package providertest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
)

// ClerkSecretKey is the secret key the fake Clerk accepts.
const ClerkSecretKey = "sk_test_secret"

// ClerkAPIKey is an API key the fake Clerk knows: its secret, subject and scopes.
type ClerkAPIKey struct {
	ID, Secret, Subject string
	Scopes              []string
	Revoked             bool
}

// Clerk answers Clerk's Backend API call for API keys, POST /api_keys/verify ({"secret"}),
// in its wire format: 200 with the key for a secret it knows, 404 with Clerk's error body
// for one it does not. It counts the verifications and can be made to fail (500).
type Clerk struct {
	Server *httptest.Server

	mu       sync.Mutex
	keys     map[string]ClerkAPIKey
	verifies int
	down     bool
}

// NewClerk starts a fake Clerk; Close it when done.
func NewClerk(keys ...ClerkAPIKey) *Clerk {
	f := &Clerk{keys: map[string]ClerkAPIKey{}}
	for _, k := range keys {
		f.keys[k.Secret] = k
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// Close stops the server.
func (f *Clerk) Close() { f.Server.Close() }

// URL is the fake's base URL, for CLERK_API_URL.
func (f *Clerk) URL() string { return f.Server.URL }

// Verifies counts POST /api_keys/verify calls.
func (f *Clerk) Verifies() int { f.mu.Lock(); defer f.mu.Unlock(); return f.verifies }

// Down makes every call fail with a 500 (false: answer again).
func (f *Clerk) Down(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

// Revoke revokes the key with this secret.
func (f *Clerk) Revoke(secret string) {
	f.mu.Lock()
	k := f.keys[secret]
	k.Revoked = true
	f.keys[secret] = k
	f.mu.Unlock()
}

func (f *Clerk) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+ClerkSecretKey {
		clerkError(w, http.StatusUnauthorized, "authentication_invalid")
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/api_keys/verify" {
		clerkError(w, http.StatusNotFound, "resource_not_found")
		return
	}
	var body struct {
		Secret string `json:"secret"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	f.verifies++
	key, ok := f.keys[body.Secret]
	down := f.down
	f.mu.Unlock()
	switch {
	case down:
		clerkError(w, http.StatusInternalServerError, "internal_clerk_error")
	case !ok:
		clerkError(w, http.StatusNotFound, "resource_not_found")
	default:
		_ = json.NewEncoder(w).Encode(map[string]any{
			"object": "api_key", "id": key.ID, "type": "api_key", "subject": key.Subject, "name": "integration",
			"scopes": key.Scopes, "revoked": key.Revoked, "expired": false, "created_at": 1764633600000, "updated_at": 1764633600000,
		})
	}
}

func clerkError(w http.ResponseWriter, status int, code string) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]string{{"code": code, "message": code, "long_message": code}},
	})
}
