package httpapi_test

import (
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"
)

// raw sends a request with exactly the given body and Content-Type.
func (b *bundle) raw(method, path, token, contentType, body string) response {
	b.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// Hostile input is a clear 4xx in the user's terms, never a 500, and never a filter
// silently dropped.
func TestHostileInputGetsAClearAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_a")
	// A cursor whose time no call can have (the year 292277).
	absurd := base64.RawURLEncoding.EncodeToString(append([]byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, make([]byte, 16)...))
	for _, c := range []struct {
		path, code, says string
	}{
		{"/api/calls?status=%zz", "validation_failed", "URL encoding"},
		{"/api/calls?q=a%00b", "validation_failed", "NUL"},
		{"/api/calls?q=%ff%fe", "validation_failed", "UTF-8"},
		{"/api/calls/export.csv?q=%ff", "validation_failed", "UTF-8"},
		{"/api/calls?cursor=" + absurd, "invalid_cursor", "cursor"},
		{"/api/calls?min_duration=99999999999999", "validation_failed", "whole number from 0 to 86400"},
		{"/api/calls/notauuid", "validation_failed", "must be a UUID"},
		{"/api/calls?since=yesterday", "validation_failed", "RFC 3339"},
		{"/api/calls?status=lost", "validation_failed", "must be one of initiated, ringing"},
	} {
		p := expect(t, b.do("GET", c.path, a, nil), 400).problem(t)
		detail := p["detail"].(string)
		if p["code"] != c.code || !strings.Contains(detail, c.says) {
			t.Errorf("%s: %v %q, want %s saying %q", c.path, p["code"], detail, c.code, c.says)
		}
		for _, internal := range []string{"uuid.UUID", "unmarshal", "^[", "pattern"} {
			if strings.Contains(detail, internal) {
				t.Errorf("%s: the detail names internals: %q", c.path, detail)
			}
		}
	}

	for name, body := range map[string]string{
		"NUL escaped":      `{"phone_number":"4158675309","label":"a\u0000b"}`,
		"NUL in a number":  `{"phone_number":"415\u0000867"}`,
		"not UTF-8":        "{\"phone_number\":\"415\xff867\"}",
		"NUL in a name":    `{"phone_number":"4158675309","la\u0000bel":"x"}`,
		"NUL in an update": `{"label":"\u0000"}`,
	} {
		path := "/api/phone-numbers"
		method := "POST"
		if strings.Contains(name, "update") {
			method, path = "PATCH", "/api/phone-numbers/3fa85f64-5717-4562-b3fc-2c963f66afa6"
		}
		if p := expect(t, b.raw(method, path, a, "application/json", body), 400).problem(t); p["code"] != "validation_failed" {
			t.Errorf("%s: %v", name, p)
		}
	}

	p := expect(t, b.raw("POST", "/api/phone-numbers", a, "application/x-www-form-urlencoded", "phone_number=1"), 415).problem(t)
	if p["code"] != "unsupported_media_type" || !strings.Contains(p["detail"].(string), "application/json") {
		t.Errorf("a form body: %v", p)
	}
	r := expect(t, b.do("PUT", "/api/phone-numbers", a, nil), 405)
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("405 with Allow %q", allow)
	}
	p = expect(t, b.do("POST", "/api/phone-numbers", a, map[string]any{"phone_number": "(415) 555-0100"}), 422).problem(t)
	if !strings.Contains(p["detail"].(string), "555") {
		t.Errorf("a fictional number: %v", p["detail"])
	}
}
