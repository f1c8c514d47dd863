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

	// Methods nobody serves share one label, so invented ones cannot grow the scrape.
	for _, m := range []string{"FOO", "BAR", "PROPFIND"} {
		b.do(m, "/api/phone-numbers", a, nil)
	}

	// Only the monitoring, with METRICS_TOKEN, reads the metrics.
	expect(t, b.do("GET", "/metrics", "", nil), 401)
	expect(t, b.do("GET", "/metrics", "wrong-token", nil), 401)
	expect(t, b.do("GET", "/metrics", a, nil), 401)
	r := expect(t, b.do("GET", "/metrics", metricsToken, nil), 200)
	text := string(r.body)
	if strings.Contains(text, `method="FOO"`) || !strings.Contains(text, `method="other"`) {
		t.Error("an invented method got a label of its own")
	}
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

// Without a METRICS_TOKEN the metrics are not served at all.
func TestMetricsNeedAConfiguredToken(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noMetrics: true})
	for _, tok := range []string{"", metricsToken} {
		if p := expect(t, b.do("GET", "/metrics", tok, nil), 404).problem(t); p["code"] != "not_found" {
			t.Errorf("metrics without a configured token: %v", p)
		}
	}
}
