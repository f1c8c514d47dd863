package httpapi_test

import (
	"net"
	"net/http/httptest"
	"strings"
	"testing"
)

// A caller's X-Request-Id is kept only when it is short and of a safe alphabet; any
// other is replaced by one of the service's own, so nothing a caller sends reaches the
// logs or the answer's headers as it is.
func TestRequestIDsAreKeptOnlyWhenSafe(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for id, kept := range map[string]bool{
		"req-123_abc.def:9":         true,
		strings.Repeat("a", 65):     false,
		"<script>alert(1)</script>": false,
		`a"b`:                       false,
	} {
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.Header.Set("X-Request-Id", id)
		rec := httptest.NewRecorder()
		b.handler.ServeHTTP(rec, req)
		got := rec.Header().Get("X-Request-Id")
		if (got == id) != kept || got == "" {
			t.Errorf("X-Request-Id %q answered as %q, want kept=%v", id, got, kept)
		}
	}
}

// Answers with patients' data are not cached by browsers or proxies, and are never read
// as another type than the one they declare; problems included.
func TestPatientDataIsNeverCached(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_a")
	for _, path := range []string{"/api/calls", "/api/phone-numbers", "/api/calls/export.csv", "/api/calls/stats", "/api/calls/3fa85f64-5717-4562-b3fc-2c963f66afa6"} {
		r := b.do("GET", path, a, nil)
		if r.header.Get("Cache-Control") != "no-store" || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s (%d): Cache-Control %q, X-Content-Type-Options %q", path, r.status, r.header.Get("Cache-Control"), r.header.Get("X-Content-Type-Options"))
		}
	}
}

// X-Forwarded-For says who the client is only when a trusted proxy sends it; from anyone
// else it is ignored, and the client is the peer.
func TestClientAddressIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	_, proxies, _ := net.ParseCIDR("10.0.0.0/8")
	for _, c := range []struct {
		name    string
		trusted bool
		peer    string
		want    string
	}{
		{"no trusted proxies", false, "10.0.0.7:4000", "10.0.0.7"},
		{"from a trusted proxy", true, "10.0.0.7:4000", "203.0.113.5"},
		{"from elsewhere", true, "198.51.100.9:4000", "198.51.100.9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := setupOptions{}
			if c.trusted {
				o.proxies = []*net.IPNet{proxies}
			}
			b := setup(t, o)
			// A forged Twilio request is refused and logged with the client's address.
			req := httptest.NewRequest("POST", "/api/webhooks/twilio", strings.NewReader("CallSid=CA1"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", "forged")
			req.Header.Set("X-Forwarded-For", "203.0.113.5")
			req.Header.Set("X-Real-IP", "192.0.2.1")
			req.RemoteAddr = c.peer
			rec := httptest.NewRecorder()
			b.handler.ServeHTTP(rec, req)
			if rec.Code != 403 || !strings.Contains(b.logs.String(), "remote="+c.want) {
				t.Fatalf("status %d; logs %s; want remote=%s", rec.Code, b.logs.String(), c.want)
			}
		})
	}
}
