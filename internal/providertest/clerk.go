package providertest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
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

// ClerkWebhookSecret is the signing secret of the fake Clerk's webhooks, in Svix's form.
const ClerkWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// SignClerkWebhook returns the headers Clerk's webhooks carry (Svix's): the message id,
// the timestamp, and the signature, computed as Svix documents it (HMAC-SHA256 with the
// base64 secret after "whsec_", over "id.timestamp.body", as "v1,<base64>").
func SignClerkWebhook(secret, id string, at time.Time, body []byte) http.Header {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		panic(err)
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	h := http.Header{}
	h.Set("svix-id", id)
	h.Set("svix-timestamp", ts)
	h.Set("svix-signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return h
}

// ClerkEvent is the body of a Clerk webhook of type about data, at occurred.
func ClerkEvent(typ string, data map[string]any, occurred time.Time) []byte {
	body, err := json.Marshal(map[string]any{
		"data": data, "object": "event", "type": typ, "timestamp": occurred.UnixMilli(),
		"instance_id": "ins_test", "event_attributes": map[string]any{"http_request": map[string]any{"client_ip": "", "user_agent": ""}},
	})
	if err != nil {
		panic(err)
	}
	return body
}

// ClerkDeleted is the data of organization.deleted or user.deleted: Clerk sends only the id.
func ClerkDeleted(object, id string) map[string]any {
	return map[string]any{"deleted": true, "id": id, "object": object}
}

// ClerkMembership is the data of an organizationMembership event.
func ClerkMembership(orgID, userID string) map[string]any {
	return map[string]any{
		"id": "orgmem_" + userID, "object": "organization_membership", "role": "org:member",
		"organization":     map[string]any{"id": orgID, "object": "organization", "name": "Sunrise Dental", "slug": "sunrise"},
		"public_user_data": map[string]any{"user_id": userID, "identifier": "staff@example.com", "first_name": "Sam", "last_name": "Staff"},
		"created_at":       1700000000000, "updated_at": 1700000000000,
	}
}
