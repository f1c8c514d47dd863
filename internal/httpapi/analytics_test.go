package httpapi_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/internal/providertest"
)

// The analytics of a known set of calls, every figure checked: six calls in October and
// November 2026 in New York, two outside the range, and callbacks around it.
func TestAnalyticsOfAKnownSetOfCalls(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	ctx := context.Background()
	type seed struct {
		at          string
		duration    any
		status      string
		success     any
		handling    any
		disposition any
		reason      any
		cost        any
		breakdown   any
	}
	for _, c := range []seed{
		{"2026-10-05T14:00:00Z", 30, "ended", "true", "assistant", "booked", nil, 0.10, `{"transport":0.01,"stt":0.02,"llm":0.03,"tts":0.02,"vapi":0.02}`},
		{"2026-10-07T20:30:00Z", 90, "ended", "false", "forwarded", nil, nil, 0.20, nil},
		{"2026-11-02T15:00:00Z", 150, "ended", "true", "voicemail", nil, "silence-timed-out", 0.30, `{"transport":0.1,"stt":0.05,"llm":0.1,"tts":0.03,"vapi":0.02}`},
		{"2026-11-03T03:30:00Z", 400, "failed", nil, "assistant", "needs_callback", "pipeline-error-openai-llm-failed", nil, nil},
		{"2026-11-20T16:00:00Z", 700, "ended", "maybe", "assistant", nil, nil, 0.40, nil},
		{"2026-11-21T17:00:00Z", nil, "initiated", nil, "blocked", nil, nil, nil, nil},
		{"2026-12-01T05:00:00Z", 10, "ended", "true", "assistant", nil, nil, 5.0, nil}, // at until: outside
		{"2026-10-01T03:59:00Z", 10, "ended", "true", "assistant", nil, nil, 5.0, nil}, // before since
	} {
		if _, err := b.pool.Exec(ctx, `INSERT INTO calls (user_id, direction, started_at, duration_seconds, status, success_evaluation,
			handling, disposition, ended_reason, cost, cost_breakdown) VALUES ('user_clinic_a', 'inbound', $1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			c.at, c.duration, c.status, c.success, c.handling, c.disposition, c.reason, c.cost, c.breakdown); err != nil {
			t.Fatal(err)
		}
	}
	// Callbacks: opened and completed inside; opened inside, still open; opened before,
	// completed inside.
	if _, err := b.pool.Exec(ctx, "DELETE FROM callbacks"); err != nil {
		t.Fatal(err)
	}
	for _, cb := range [][3]any{
		{"2026-10-06T12:00:00Z", "2026-10-08T12:00:00Z", "reached"},
		{"2026-11-25T12:00:00Z", nil, nil},
		{"2026-09-20T12:00:00Z", "2026-10-02T12:00:00Z", "no_answer"},
	} {
		status := "open"
		if cb[1] != nil {
			status = "completed"
		}
		if _, err := b.pool.Exec(ctx, `INSERT INTO callbacks (user_id, call_id, reason, created_by, status, created_at, completed_at, outcome)
			SELECT user_id, id, 'requested_by_staff', 'user_x', $4, $1, $2, $3 FROM calls WHERE user_id = 'user_clinic_a' AND status = 'ended' LIMIT 1`,
			cb[0], cb[1], cb[2], status); err != nil {
			t.Fatal(err)
		}
	}

	var got struct {
		Totals struct {
			Calls                  int
			AverageDurationSeconds float64 `json:"average_duration_seconds"`
			MedianDurationSeconds  float64 `json:"median_duration_seconds"`
			TotalCost              float64 `json:"total_cost"`
		}
		Rates struct {
			SuccessRate   float64 `json:"success_rate"`
			ForwardRate   float64 `json:"forward_rate"`
			VoicemailRate float64 `json:"voicemail_rate"`
			DropRate      float64 `json:"drop_rate"`
		}
		DurationBuckets []struct{ Calls int } `json:"duration_buckets"`
		ByHandling      []struct {
			Handling string
			Calls    int
		} `json:"by_handling"`
		ByDisposition []struct {
			Disposition string
			Calls       int
		} `json:"by_disposition"`
		ByEndedReason []struct {
			EndedReason string `json:"ended_reason"`
			Calls       int
		} `json:"by_ended_reason"`
		ByHour    []struct{ Hour, Calls int }    `json:"by_hour"`
		ByWeekday []struct{ Weekday, Calls int } `json:"by_weekday"`
		ByWeek    []struct {
			WeekStart string `json:"week_start"`
			Calls     int
		} `json:"by_week"`
		ByMonth []struct {
			Month         string
			Calls         int
			Cost          float64
			CostBreakdown map[string]float64 `json:"cost_breakdown"`
		} `json:"by_month"`
		Callbacks struct{ Opened, Completed int }
	}
	expect(t, b.do("GET", "/api/calls/analytics?since=2026-10-01T04:00:00Z&until=2026-12-01T05:00:00Z&tz=America/New_York", a, nil), 200).json(t, &got)

	near := func(x, y float64) bool { return math.Abs(x-y) < 1e-9 }
	if got.Totals.Calls != 6 || !near(got.Totals.AverageDurationSeconds, 274) || got.Totals.MedianDurationSeconds != 150 || !near(got.Totals.TotalCost, 1.0) {
		t.Errorf("totals %+v", got.Totals)
	}
	if !near(got.Rates.SuccessRate, 2.0/3) || !near(got.Rates.ForwardRate, 1.0/6) || !near(got.Rates.VoicemailRate, 1.0/6) || !near(got.Rates.DropRate, 2.0/6) {
		t.Errorf("rates %+v", got.Rates)
	}
	var buckets []int
	for _, bk := range got.DurationBuckets {
		buckets = append(buckets, bk.Calls)
	}
	if want := []int{1, 1, 1, 0, 1, 1}; !equalInts(buckets, want) {
		t.Errorf("duration buckets %v, want %v", buckets, want)
	}
	handled := map[string]int{}
	for _, h := range got.ByHandling {
		handled[h.Handling] = h.Calls
	}
	if handled["assistant"] != 3 || handled["forwarded"] != 1 || handled["voicemail"] != 1 || handled["blocked"] != 1 || handled["announced"] != 0 {
		t.Errorf("by handling %v", handled)
	}
	disposed := map[string]int{}
	for _, d := range got.ByDisposition {
		disposed[d.Disposition] = d.Calls
	}
	if len(got.ByDisposition) != 6 || disposed["booked"] != 1 || disposed["needs_callback"] != 1 || disposed["resolved"] != 0 {
		t.Errorf("by disposition %v", got.ByDisposition)
	}
	if len(got.ByEndedReason) != 2 {
		t.Errorf("by ended reason %v", got.ByEndedReason)
	}
	hours := map[int]int{}
	for _, h := range got.ByHour {
		hours[h.Hour] = h.Calls
	}
	if len(got.ByHour) != 24 || hours[10] != 2 || hours[16] != 1 || hours[22] != 1 || hours[11] != 1 || hours[12] != 1 {
		t.Errorf("by hour %v", hours)
	}
	var weekdays []int
	for _, d := range got.ByWeekday {
		weekdays = append(weekdays, d.Calls)
	}
	if want := []int{3, 0, 1, 0, 1, 1, 0}; !equalInts(weekdays, want) {
		t.Errorf("by weekday (Monday first) %v, want %v", weekdays, want)
	}
	weeks := map[string]int{}
	for _, w := range got.ByWeek {
		weeks[w.WeekStart] = w.Calls
	}
	if len(got.ByWeek) != 10 || got.ByWeek[0].WeekStart != "2026-09-28" || got.ByWeek[9].WeekStart != "2026-11-30" ||
		weeks["2026-10-05"] != 2 || weeks["2026-11-02"] != 2 || weeks["2026-11-16"] != 2 || weeks["2026-10-12"] != 0 {
		t.Errorf("by week %v", got.ByWeek)
	}
	if len(got.ByMonth) != 2 {
		t.Fatalf("by month %v", got.ByMonth)
	}
	oct, nov := got.ByMonth[0], got.ByMonth[1]
	if oct.Month != "2026-10-01" || oct.Calls != 2 || !near(oct.Cost, 0.30) || !near(oct.CostBreakdown["llm"], 0.03) || !near(oct.CostBreakdown["transport"], 0.01) ||
		nov.Month != "2026-11-01" || nov.Calls != 4 || !near(nov.Cost, 0.70) || !near(nov.CostBreakdown["transport"], 0.1) || !near(nov.CostBreakdown["vapi"], 0.02) {
		t.Errorf("by month %+v", got.ByMonth)
	}
	if got.Callbacks.Opened != 2 || got.Callbacks.Completed != 2 {
		t.Errorf("callbacks %+v", got.Callbacks)
	}

	// Named ranges end now; a report's cost breakdown, as VAPI sends it, is counted.
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	b.newCall(a, "CA_NOW", clinicALine)
	report := providertest.EndOfCallReport("vapi-call-1", b.lastHandoff()["metadata"].(map[string]any))
	report["costBreakdown"] = map[string]any{"transport": 0.004, "stt": 0.01, "llm": 0.02, "tts": 0.03, "vapi": 0.05, "total": 0.114}
	expect(t, b.vapiMessage(report), 200)
	var recent struct {
		Since, Until time.Time
		Totals       struct{ Calls int }
		ByMonth      []struct {
			CostBreakdown map[string]float64 `json:"cost_breakdown"`
		} `json:"by_month"`
	}
	expect(t, b.do("GET", "/api/calls/analytics?range=24h", a, nil), 200).json(t, &recent)
	last := recent.ByMonth[len(recent.ByMonth)-1].CostBreakdown
	if recent.Until.Sub(recent.Since) != 24*time.Hour || recent.Totals.Calls != 1 || !near(last["tts"], 0.03) || !near(last["vapi"], 0.05) {
		t.Errorf("the last 24 hours: %+v", recent)
	}
	expect(t, b.do("GET", "/api/calls/analytics?range=1y", a, nil), 400)
	expect(t, b.do("GET", "/api/calls/analytics?since=2026-10-01T04:00:00Z&until=2026-12-01T05:00:00Z", b.token("user_clinic_b"), nil), 200).json(t, &got)
	if got.Totals.Calls != 0 {
		t.Errorf("another clinic's analytics counted %d calls", got.Totals.Calls)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
