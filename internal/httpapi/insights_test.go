package httpapi_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// reported describes a finished call to seed the way the webhooks leave it.
type reported struct {
	started     time.Time
	status      string // "ended" (default) or "failed"
	direction   string
	caller      string
	clinic      string
	phoneNumber *uuid.UUID
	duration    int32
	endedReason string
	summary     string
	transcript  string
	success     string
	cost        float64
	vapiID      string
	recording   string
}

// seedReported records a call and its end-of-call report in user's tenant transaction,
// through the same queries the webhooks use.
func (b *bundle) seedReported(user string, r reported) uuid.UUID {
	b.t.Helper()
	ctx := context.Background()
	var id uuid.UUID
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	if r.direction == "" {
		r.direction = "inbound"
	}
	err := b.db.Tx(ctx, tenant.ID(user), func(q *dbsqlc.Queries) error {
		c, err := q.InsertCall(ctx, dbsqlc.InsertCallParams{
			UserID: user, Status: "in_progress", Direction: r.direction, StartedAt: r.started,
			CallerNumber: opt(r.caller), ClinicNumber: opt(r.clinic), PhoneNumberID: r.phoneNumber, VapiCallID: opt(r.vapiID),
		})
		if err != nil {
			return err
		}
		id = c.ID
		if r.status == "failed" {
			if err := q.AdvanceCallStatus(ctx, dbsqlc.AdvanceCallStatusParams{UserID: user, ID: id, Status: "failed", EndedReason: opt(r.endedReason)}); err != nil {
				return err
			}
		}
		ended := r.started.Add(time.Duration(r.duration) * time.Second)
		p := dbsqlc.StoreEndOfCallReportParams{
			UserID: user, ID: id, EndedAt: &ended, EndedReason: opt(r.endedReason),
			Summary: opt(r.summary), SuccessEvaluation: opt(r.success), RecordingUrl: opt(r.recording),
			Transcript: opt(r.transcript),
		}
		if r.cost != 0 {
			p.Cost = &r.cost
		}
		if r.duration != 0 {
			p.DurationSeconds = &r.duration
		}
		return q.StoreEndOfCallReport(ctx, p)
	})
	if err != nil {
		b.t.Fatal(err)
	}
	if _, err := b.jobs.IndexSearch(ctx, 1000); err != nil {
		b.t.Fatal(err)
	}
	return id
}

func (b *bundle) listIDs(token, query string) []uuid.UUID {
	b.t.Helper()
	return b.readAll(token, query, 2)
}

func TestSearchAndFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, bb := b.token("user_clinic_a"), b.token("user_clinic_b")
	base := time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }

	cleaning := b.seedReported("user_clinic_a", reported{started: at(0), caller: "+13127445000", duration: 30,
		endedReason: "customer-ended-call", success: "true", transcript: "User: I'd like to book two cleanings for my kids.", summary: "Booked cleanings."})
	refill := b.seedReported("user_clinic_a", reported{started: at(1), caller: "+14158675309", duration: 400,
		endedReason: "assistant-ended-call", success: "Fail", transcript: "User: I need a prescription refill.", summary: "Refill request; callback needed."})
	outbound := b.seedReported("user_clinic_a", reported{started: at(2), direction: "outbound", caller: "+13127449999", duration: 90,
		endedReason: "customer-ended-call", success: "7", transcript: "AI: This is a reminder of your cleaning tomorrow."})
	failed := b.seedReported("user_clinic_a", reported{started: at(3), status: "failed", endedReason: "vapi_unavailable", caller: "+16175550123"})
	// Another clinic's call matching every query must never show.
	b.seedReported("user_clinic_b", reported{started: at(4), caller: "+13127445000", duration: 30, success: "true",
		endedReason: "customer-ended-call", transcript: "User: cleaning please", summary: "cleaning"})

	cases := map[string][]uuid.UUID{
		"q=cleaning":                                    {outbound, cleaning}, // stemming: "cleanings"
		"q=" + url.QueryEscape("callback"):              {refill},             // summary
		"q=" + url.QueryEscape(`"prescription refill"`): {refill},
		"q=" + url.QueryEscape("cleaning -reminder"):    {cleaning},
		"q=744":                                  {outbound, cleaning}, // digits of the caller's number
		"q=" + url.QueryEscape("(312) 744-5000"): {cleaning},
		"q=cleaning&direction=inbound":           {cleaning},
		"q=cleaning&success=true":                {cleaning},
		"success=false":                          {refill},
		"ended_reason=customer-ended-call":       {outbound, cleaning},
		"min_duration=60":                        {outbound, refill},
		"max_duration=60":                        {cleaning},
		"min_duration=60&max_duration=100":       {outbound},
		"status=failed":                          {failed},
		"direction=outbound":                     {outbound},
		"q=nothingmatches":                       nil,
	}
	for query, want := range cases {
		if got := b.listIDs(a, query); !equalIDs(got, want) {
			t.Errorf("?%s: got %v, want %v", query, got, want)
		}
	}
	for _, query := range []string{"q=cleaning", "q=744", "success=true"} {
		for _, id := range b.listIDs(bb, query) {
			for _, aID := range []uuid.UUID{cleaning, refill, outbound, failed} {
				if id == aID {
					t.Errorf("clinic B's search ?%s found clinic A's call", query)
				}
			}
		}
	}
	for _, q := range []string{"success=maybe", "min_duration=-1", "direction=sideways", "q="} {
		expect(t, b.do("GET", "/api/calls?"+q, a, nil), 400).problem(t)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	line := b.createNumber(a, clinicALine)
	// 2026-11-02 03:30 UTC is still 2026-11-01 (22:30) in New York.
	day1 := time.Date(2026, 11, 2, 3, 30, 0, 0, time.UTC)
	day3 := time.Date(2026, 11, 4, 15, 0, 0, 0, time.UTC)
	b.seedReported("user_clinic_a", reported{started: day1, duration: 120, endedReason: "customer-ended-call", cost: 0.25, phoneNumber: &line.ID})
	b.seedReported("user_clinic_a", reported{started: day1.Add(10 * time.Minute), duration: 60, endedReason: "customer-ended-call", cost: 0.10, phoneNumber: &line.ID})
	b.seedReported("user_clinic_a", reported{started: day3, status: "failed", endedReason: "vapi_unavailable"})
	b.insertCall("user_clinic_a", dbsqlc.InsertCallParams{StartedAt: day3.Add(time.Hour), Status: "ringing"})
	b.seedReported("user_clinic_b", reported{started: day1, duration: 999, cost: 9})

	q := "since=2026-11-01T00:00:00Z&until=2026-11-05T00:00:00Z"
	var st struct {
		Totals struct {
			Calls, Ended, Failed int
			InProgress           int     `json:"in_progress"`
			AnswerRate           float64 `json:"answer_rate"`
			TotalDuration        int     `json:"total_duration_seconds"`
			AverageDuration      float64 `json:"average_duration_seconds"`
			TotalCost            float64 `json:"total_cost"`
		}
		ByStatus []struct {
			Status string
			Calls  int
		} `json:"by_status"`
		ByEndedReason []struct {
			EndedReason string `json:"ended_reason"`
			Calls       int
		} `json:"by_ended_reason"`
		PerDay []struct {
			Date    string
			Calls   int
			Minutes float64
		} `json:"per_day"`
		ByHour         []struct{ Hour, Calls int } `json:"by_hour"`
		PerPhoneNumber []struct {
			PhoneNumber     string `json:"phone_number"`
			Calls, Answered int
			Minutes         float64
		} `json:"per_phone_number"`
		TimeZone string `json:"time_zone"`
	}
	expect(t, b.do("GET", "/api/calls/stats?"+q, a, nil), 200).json(t, &st)
	tot := st.Totals
	if tot.Calls != 4 || tot.Ended != 2 || tot.Failed != 1 || tot.InProgress != 1 || tot.TotalDuration != 180 ||
		tot.AverageDuration != 90 || tot.TotalCost < 0.349 || tot.TotalCost > 0.351 || tot.AnswerRate < 0.66 || tot.AnswerRate > 0.67 {
		t.Errorf("totals %+v", tot)
	}
	if len(st.ByStatus) != 6 {
		t.Errorf("by_status has %d statuses, want all 6", len(st.ByStatus))
	}
	if len(st.ByEndedReason) != 2 || st.ByEndedReason[0].EndedReason != "customer-ended-call" || st.ByEndedReason[0].Calls != 2 {
		t.Errorf("by_ended_reason %+v", st.ByEndedReason)
	}
	wantDays := []struct {
		date  string
		calls int
	}{{"2026-11-01", 0}, {"2026-11-02", 2}, {"2026-11-03", 0}, {"2026-11-04", 2}}
	if len(st.PerDay) != len(wantDays) {
		t.Fatalf("per_day %+v", st.PerDay)
	}
	for i, d := range wantDays {
		if st.PerDay[i].Date != d.date || st.PerDay[i].Calls != d.calls {
			t.Errorf("per_day[%d] = %+v, want %+v", i, st.PerDay[i], d)
		}
	}
	if st.PerDay[1].Minutes != 3 {
		t.Errorf("minutes on 2026-11-02: %v", st.PerDay[1].Minutes)
	}
	if len(st.ByHour) != 24 || st.ByHour[3].Calls != 2 || st.ByHour[15].Calls != 1 || st.ByHour[16].Calls != 1 {
		t.Errorf("by_hour %+v", st.ByHour)
	}
	if len(st.PerPhoneNumber) != 1 || st.PerPhoneNumber[0].PhoneNumber != clinicALine || st.PerPhoneNumber[0].Calls != 2 || st.PerPhoneNumber[0].Answered != 2 {
		t.Errorf("per_phone_number %+v", st.PerPhoneNumber)
	}

	// In New York the first two calls happened on November 1st, at 22:00.
	expect(t, b.do("GET", "/api/calls/stats?"+q+"&tz=America/New_York", a, nil), 200).json(t, &st)
	if st.TimeZone != "America/New_York" || st.PerDay[0].Date != "2026-10-31" || st.PerDay[1].Date != "2026-11-01" || st.PerDay[1].Calls != 2 || st.ByHour[22].Calls != 2 {
		t.Errorf("in New York: per_day %+v, hour 22: %+v", st.PerDay, st.ByHour[22])
	}

	// Clinic B's numbers are its own.
	expect(t, b.do("GET", "/api/calls/stats?"+q, b.token("user_clinic_b"), nil), 200).json(t, &st)
	if st.Totals.Calls != 1 || st.Totals.TotalDuration != 999 {
		t.Errorf("clinic B's totals %+v", st.Totals)
	}
	// A tenant without calls gets zeros, not gaps.
	expect(t, b.do("GET", "/api/calls/stats?"+q, b.token("user_nobody"), nil), 200).json(t, &st)
	if st.Totals.Calls != 0 || st.Totals.AnswerRate != 0 || len(st.PerDay) != 4 || len(st.ByHour) != 24 {
		t.Errorf("empty tenant: %+v", st)
	}

	for _, bad := range []string{"tz=Mars/Olympus", "tz=Local", "since=2026-11-05T00:00:00Z&until=2026-11-01T00:00:00Z", "since=2024-01-01T00:00:00Z&until=2026-01-01T00:00:00Z"} {
		expect(t, b.do("GET", "/api/calls/stats?"+bad, a, nil), 400).problem(t)
	}
}

func TestRecordingRedirects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_clinic_a")
	started := time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)
	fresh := b.seedReported("user_clinic_a", reported{started: started, vapiID: "vc_fresh", recording: "https://storage.vapi.ai/stale.wav"})
	stale := b.seedReported("user_clinic_a", reported{started: started, vapiID: "vc_gone", recording: "https://storage.vapi.ai/stored.wav"})
	none := b.seedReported("user_clinic_a", reported{started: started})
	// Stored URLs a report carried that no client may be sent to.
	plain := b.seedReported("user_clinic_a", reported{started: started, recording: "http://storage.vapi.ai/plain.wav"})
	elsewhere := b.seedReported("user_clinic_a", reported{started: started, recording: "https://evil.example.com/r.wav"})
	lookalike := b.seedReported("user_clinic_a", reported{started: started, recording: "https://storage.vapi.ai.evil.example.com/r.wav"})
	offHost := b.seedReported("user_clinic_a", reported{started: started, vapiID: "vc_off_host", recording: "https://storage.vapi.ai/kept.wav"})
	b.vapi.SetRecordings(map[string]string{
		"vc_off_host/mono": "https://evil.example.com/steal",
		"vc_fresh/mono":    "https://vapi.storage.googleapis.com/mono?sig=abc",
		"vc_fresh/stereo":  "https://vapi.storage.googleapis.com/stereo?sig=abc",
	})

	location := func(path string) string {
		r := expect(t, b.do("GET", path, a, nil), 302)
		return r.header.Get("Location")
	}
	if got := location("/api/calls/" + fresh.String() + "/recording"); got != "https://vapi.storage.googleapis.com/mono?sig=abc" {
		t.Errorf("mono → %s", got)
	}
	if got := location("/api/calls/" + fresh.String() + "/recording?variant=stereo"); got != "https://vapi.storage.googleapis.com/stereo?sig=abc" {
		t.Errorf("stereo → %s", got)
	}
	// VAPI has none: the URL stored from the report.
	if got := location("/api/calls/" + stale.String() + "/recording"); got != "https://storage.vapi.ai/stored.wav" {
		t.Errorf("fallback → %s", got)
	}
	p := expect(t, b.do("GET", "/api/calls/"+none.String()+"/recording", a, nil), 404).problem(t)
	if p["code"] != "no_recording" {
		t.Errorf("code %v", p["code"])
	}
	// Only https URLs on the storage hosts are sent to clients.
	for _, id := range []string{plain.String(), elsewhere.String(), lookalike.String()} {
		if p := expect(t, b.do("GET", "/api/calls/"+id+"/recording", a, nil), 404).problem(t); p["code"] != "no_recording" {
			t.Errorf("an unplayable stored URL: %v", p)
		}
	}
	if got := location("/api/calls/" + offHost.String() + "/recording"); got != "https://storage.vapi.ai/kept.wav" {
		t.Errorf("VAPI's URL off the storage hosts → %s, want the stored one", got)
	}
	expect(t, b.do("GET", "/api/calls/"+fresh.String()+"/recording", b.token("user_clinic_b"), nil), 404)
	expect(t, b.do("GET", "/api/calls/"+fresh.String()+"/recording?variant=surround", a, nil), 400)
	r := b.do("GET", "/api/calls/"+fresh.String()+"/recording", a, nil)
	if head, _ := json.Marshal(r.header); strings.Contains(string(head)+string(r.body), "vapi-test-api-key") {
		t.Error("the VAPI key reached the client")
	}
}
