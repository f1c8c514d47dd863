package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard-health/switchboard/internal/testpg"
)

func TestOperationsNeedNoAuth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	expect(t, b.do("GET", "/healthz", "", nil), 200)
	expect(t, b.do("GET", "/readyz", "", nil), 200)

	y := expect(t, b.do("GET", "/openapi.yaml", "", nil), 200)
	if !strings.HasPrefix(string(y.body), "openapi: 3.") || !strings.Contains(y.header.Get("Content-Type"), "yaml") {
		t.Errorf("openapi.yaml: %s %.40s", y.header.Get("Content-Type"), y.body)
	}
	var spec struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	expect(t, b.do("GET", "/openapi.json", "", nil), 200).json(t, &spec)
	if spec.OpenAPI == "" || spec.Paths["/api/calls"]["get"] == nil || spec.Paths["/api/webhooks/vapi"]["post"] == nil {
		t.Errorf("openapi.json lacks the calls operation or the webhooks")
	}
}

func TestReadyzIs503WithoutDatabase(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{pool: testpg.Unreachable(t)})
	p := expect(t, b.do("GET", "/readyz", "", nil), 503).problem(t)
	if p["code"] != "unavailable" {
		t.Errorf("code %v", p["code"])
	}
	// Tenant requests fail the same way, with a problem the client may retry.
	p = expect(t, b.do("GET", "/api/phone-numbers", b.token("user_a"), nil), 503).problem(t)
	if p["code"] != "unavailable" {
		t.Errorf("code %v", p["code"])
	}
}

func TestUnknownRoutesAndMethodsAreProblems(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := expect(t, b.do("GET", "/api/nope", b.token("user_a"), nil), 404).problem(t)
	if p["code"] != "not_found" {
		t.Errorf("code %v", p["code"])
	}
	expect(t, b.do("PUT", "/api/phone-numbers", b.token("user_a"), nil), 405).problem(t)
	r := expect(t, b.do("POST", "/api/phone-numbers", b.token("user_a"), strings.Repeat(" ", 2<<20)), 413)
	var body map[string]any
	_ = json.Unmarshal(r.body, &body)
	if body["code"] != "payload_too_large" {
		t.Errorf("code %v", body["code"])
	}
}
