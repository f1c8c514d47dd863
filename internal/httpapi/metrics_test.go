package httpapi_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/switchboard-health/switchboard/internal/providertest"
)

// What an operator watches: durations by route and status, webhook outcomes, VAPI calls,
// the inbox and the pool.
func TestMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	expect(t, b.do("GET", "/api/phone-numbers", a, nil), 200)
	expect(t, b.do("GET", "/api/phone-numbers", "", nil), 401)
	expect(t, b.do("GET", "/api/calls/"+"00000000-0000-4000-8000-000000000000", a, nil), 404)
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_M", patientNumber, sharedLine, clinicALine)))
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_M", patientNumber, sharedLine, clinicALine)))
	expect(t, b.twilioSigned("/api/webhooks/twilio", url.Values{"CallSid": {"CA_X"}}, "forged"), 403)
	expect(t, b.vapiPost([]byte(`{}`), "X-Vapi-Secret", "wrong"), 401)

	r := expect(t, b.do("GET", "/metrics", "", nil), 200)
	text := string(r.body)
	for _, want := range []string{
		`switchboard_http_request_duration_seconds_count{method="GET",route="/api/phone-numbers",status="200"} 1`,
		`switchboard_http_request_duration_seconds_count{method="GET",route="/api/phone-numbers",status="401"} 1`,
		`switchboard_http_request_duration_seconds_count{method="GET",route="/api/calls/:id",status="404"} 1`,
		`switchboard_webhook_events_total{outcome="accepted",provider="twilio"} 1`,
		`switchboard_webhook_events_total{outcome="duplicate",provider="twilio"} 1`,
		`switchboard_webhook_events_total{outcome="rejected_signature",provider="twilio"} 1`,
		`switchboard_webhook_events_total{outcome="rejected_signature",provider="vapi"} 1`,
		`switchboard_vapi_request_duration_seconds_count{operation="create_call",result="ok"} 1`,
		`switchboard_inbox_backlog 0`,
		`switchboard_inbox_oldest_failed_seconds 0`,
		`switchboard_spool_messages 0`,
		`switchboard_db_pool_max_connections`,
		`go_goroutines`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Ids never become labels.
	if strings.Contains(text, "00000000-0000-4000-8000-000000000000") {
		t.Error("a request's id reached the metrics")
	}
}
