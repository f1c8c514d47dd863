package httpapi_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

type callPage struct {
	Items []struct {
		ID            uuid.UUID  `json:"id"`
		Status        string     `json:"status"`
		StartedAt     time.Time  `json:"started_at"`
		PhoneNumberID *uuid.UUID `json:"phone_number_id"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// readAll follows next_cursor from the first page to the last and returns the ids in order.
func (b *bundle) readAll(token, query string, limit int) []uuid.UUID {
	b.t.Helper()
	var ids []uuid.UUID
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			b.t.Fatal("pagination does not end")
		}
		q, _ := url.ParseQuery(query)
		q.Set("limit", strconv.Itoa(limit))
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var p callPage
		expect(b.t, b.do("GET", "/api/calls?"+q.Encode(), token, nil), 200).json(b.t, &p)
		if len(p.Items) > limit {
			b.t.Fatalf("page of %d items, limit %d", len(p.Items), limit)
		}
		for _, it := range p.Items {
			ids = append(ids, it.ID)
		}
		if p.NextCursor == nil {
			return ids
		}
		cursor = *p.NextCursor
	}
}

func TestCallsPaginationHasNoDuplicatesOrGaps(t *testing.T) {
	t.Parallel()
	b := setup(t)
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var want []uuid.UUID // newest first, ties by id descending
	for i := 0; i < 23; i++ {
		// Groups of three calls share a started_at, so the id must break ties.
		b.insertCall("user_a", dbsqlc.InsertCallParams{StartedAt: base.Add(time.Duration(i/3) * time.Minute)})
	}
	b.insertCall("user_b", dbsqlc.InsertCallParams{StartedAt: base})
	rows, err := b.pool.Query(context.Background(), "SELECT id FROM calls WHERE user_id = 'user_a' ORDER BY started_at DESC, id DESC")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uuid.UUID
		_ = rows.Scan(&id)
		want = append(want, id)
	}
	rows.Close()

	for _, limit := range []int{1, 5, 23, 50} {
		got := b.readAll(b.token("user_a"), "", limit)
		if !equalIDs(got, want) {
			t.Fatalf("limit %d: read %d calls %v, want %d %v", limit, len(got), got, len(want), want)
		}
	}

	// Stable under inserts: calls arriving during pagination (newer than the first page)
	// neither repeat nor hide the ones already being paged through.
	a := b.token("user_a")
	var first callPage
	expect(t, b.do("GET", "/api/calls?limit=7", a, nil), 200).json(t, &first)
	for i := 0; i < 5; i++ {
		b.insertCall("user_a", dbsqlc.InsertCallParams{StartedAt: time.Now()})
	}
	got := []uuid.UUID{}
	for _, it := range first.Items {
		got = append(got, it.ID)
	}
	cursor := *first.NextCursor
	for cursor != "" {
		var p callPage
		expect(t, b.do("GET", "/api/calls?limit=7&cursor="+url.QueryEscape(cursor), a, nil), 200).json(t, &p)
		for _, it := range p.Items {
			got = append(got, it.ID)
		}
		cursor = ""
		if p.NextCursor != nil {
			cursor = *p.NextCursor
		}
	}
	if !equalIDs(got, want) {
		t.Fatalf("with inserts during pagination read %v, want %v", got, want)
	}
}

func equalIDs(a, b []uuid.UUID) bool {
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

func TestCallsFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_a")
	front := b.createNumber(a, "(415) 867-5309")
	back := b.createNumber(a, "(212) 736-5000")
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	mk := func(pn *uuid.UUID, status string, minutes int) uuid.UUID {
		return b.insertCall("user_a", dbsqlc.InsertCallParams{PhoneNumberID: pn, Status: status, StartedAt: base.Add(time.Duration(minutes) * time.Minute)}).ID
	}
	c1 := mk(&front.ID, "ended", 0)
	c2 := mk(&front.ID, "failed", 10)
	c3 := mk(&back.ID, "ended", 20)
	c4 := mk(nil, "in_progress", 30)

	cases := map[string][]uuid.UUID{
		"":                                     {c4, c3, c2, c1},
		"status=ended":                         {c3, c1},
		"phone_number_id=" + front.ID.String(): {c2, c1},
		"status=ended&phone_number_id=" + front.ID.String():                                      {c1},
		"since=" + url.QueryEscape(base.Add(10*time.Minute).Format(time.RFC3339)):                {c4, c3, c2},
		"until=" + url.QueryEscape(base.Add(20*time.Minute).Format(time.RFC3339)):                {c2, c1},
		"since=2026-11-01T09:05:00Z&until=2026-11-01T09:25:00Z":                                  {c3, c2},
		"since=" + url.QueryEscape(base.Add(10*time.Minute).Format("2006-01-02T15:04:05-07:00")): {c4, c3, c2},
	}
	for query, want := range cases {
		if got := b.readAll(a, query, 2); !equalIDs(got, want) {
			t.Errorf("?%s: got %v, want %v", query, got, want)
		}
	}
}

func TestCallsListRefusesBadParameters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_a")
	for _, q := range []string{
		"limit=0", "limit=201", "limit=ten",
		"cursor=not-a-cursor", "cursor=" + url.QueryEscape("AAAA"),
		"status=on_hold",
		"since=yesterday", "until=2026-13-01T00:00:00Z",
		"phone_number_id=42",
		"since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z",
	} {
		p := expect(t, b.do("GET", "/api/calls?"+q, a, nil), 400).problem(t)
		if p["code"] != "validation_failed" && p["code"] != "invalid_cursor" {
			t.Errorf("?%s: code %v", q, p["code"])
		}
	}
}

func TestGetCallReturnsDetails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.token("user_a")
	sid := "CA0123456789abcdef0123456789abcdef"
	call := b.insertCall("user_a", dbsqlc.InsertCallParams{TwilioCallSid: &sid})
	transcript := "AI: Hello, Sunrise Dental.\nUser: I'd like to book a cleaning."
	err := b.db.Tx(context.Background(), tenant.ID("user_a"), func(q *dbsqlc.Queries) error {
		return q.StoreEndOfCallReport(context.Background(), dbsqlc.StoreEndOfCallReportParams{
			ID: call.ID, UserID: "user_a", Transcript: &transcript,
			Messages: json.RawMessage(`[{"role":"bot","message":"Hello, Sunrise Dental."}]`),
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	expect(t, b.do("GET", "/api/calls/"+call.ID.String(), a, nil), 200).json(t, &got)
	msgs, _ := got["messages"].([]any)
	if got["transcript"] != transcript || len(msgs) != 1 || got["twilio_call_sid"] != sid || got["status"] != "ended" {
		t.Fatalf("call %v", got)
	}
	for _, k := range []string{"id", "status", "direction", "caller_number", "clinic_number", "assistant_number",
		"matched_by", "phone_number_id", "twilio_call_sid", "vapi_call_id", "started_at", "ended_at",
		"duration_seconds", "ended_reason", "recording_url", "stereo_recording_url", "summary",
		"success_evaluation", "structured_data", "transcript", "messages", "cost", "created_at", "updated_at"} {
		if _, ok := got[k]; !ok {
			t.Errorf("call lacks %q", k)
		}
	}

	// A call without details still has an empty message list, and lists leave both out.
	bare := b.insertCall("user_a", dbsqlc.InsertCallParams{})
	expect(t, b.do("GET", "/api/calls/"+bare.ID.String(), a, nil), 200).json(t, &got)
	if m, ok := got["messages"].([]any); !ok || len(m) != 0 || got["transcript"] != nil {
		t.Fatalf("bare call messages %v transcript %v", got["messages"], got["transcript"])
	}
	var page map[string][]map[string]any
	expect(t, b.do("GET", "/api/calls", a, nil), 200).json(t, &page)
	if _, ok := page["items"][0]["transcript"]; ok {
		t.Error("list items carry transcripts")
	}
}
