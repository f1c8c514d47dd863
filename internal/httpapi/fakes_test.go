package httpapi_test

import (
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/switchboard-health/switchboard/internal/providertest"
)

// twilio posts a form to path, signed with the test token for the public URL.
func (b *bundle) twilio(path string, form url.Values) response {
	b.t.Helper()
	return b.twilioSigned(path, form, providertest.SignTwilio(twilioToken, publicBaseURL+path, form))
}

func (b *bundle) twilioSigned(path string, form url.Values, signature string) response {
	b.t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	// The service sits behind a proxy: the Host it sees is not the one Twilio called.
	req.Host = "10.0.0.7:8080"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signature != "" {
		req.Header.Set("X-Twilio-Signature", signature)
	}
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// vapiPost posts a server message with the given credential header.
func (b *bundle) vapiPost(body []byte, header, value string) response {
	b.t.Helper()
	req := httptest.NewRequest("POST", "/api/webhooks/vapi", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if header != "" {
		req.Header.Set(header, value)
	}
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func (b *bundle) vapiMessage(msg map[string]any) response {
	b.t.Helper()
	return b.vapiPost(providertest.ServerMessage(msg), "X-Vapi-Secret", vapiSecret)
}
