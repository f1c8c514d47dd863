package httpapi_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/internal/testpg"
)

// A search reads the GIN indexes, not every call of the tenant. Over 100 000 calls of two
// tenants, the index scan counters show which indexes the API's search actually used.
func TestSearchIsIndexBacked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testpg.URL(t)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1 // one backend, whose statistics the test flushes
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	b := setup(t, setupOptions{pool: pool})
	if _, err := pool.Exec(ctx, `
		SET session_replication_role = replica;
		INSERT INTO calls (user_id, status, started_at, caller_number, summary)
		SELECT CASE WHEN i % 2 = 0 THEN 'user_clinic_a' ELSE 'user_clinic_b' END, 'ended',
		       timestamptz '2026-01-01' + i * interval '1 minute', '+1312' || lpad(i::text, 7, '0'),
		       CASE WHEN i % 5000 = 0 THEN 'Prescription refill requested' ELSE 'Appointment booked for a cleaning' END
		FROM generate_series(1, 100000) AS i;
		INSERT INTO call_details (call_id, user_id, transcript, search)
		SELECT id, user_id, 'AI: Hello. User: ' || summary, to_tsvector('english', summary || ' AI: Hello. User: ' || summary)
		FROM calls;
		RESET session_replication_role;
		ANALYZE calls; ANALYZE call_details;`); err != nil {
		t.Fatal(err)
	}
	scans := func() map[string]int64 {
		t.Helper()
		// The pool's one backend reports its statistics when this statement ends.
		if _, err := pool.Exec(ctx, "SELECT pg_stat_force_next_flush()"); err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, `SELECT indexrelname::text, idx_scan FROM pg_stat_user_indexes
			WHERE indexrelname IN ('call_details_search_idx', 'calls_numbers_trgm_idx', 'calls_pkey', 'calls_id_user_id_key')`)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for rows.Next() {
			var name string
			var n int64
			if err := rows.Scan(&name, &n); err != nil {
				t.Fatal(err)
			}
			out[name] = n
		}
		// Reading calls by id may go through either unique index on id.
		out["calls by id"] = out["calls_pkey"] + out["calls_id_user_id_key"]
		return out
	}

	a := b.token("user_clinic_a")
	for _, c := range []struct {
		query   string
		matches int
		indexes []string
	}{
		{"q=refill", 20, []string{"call_details_search_idx", "calls by id"}},
		{"q=0012344", 1, []string{"calls_numbers_trgm_idx", "calls by id"}},
	} {
		before := scans()
		var page callPage
		expect(t, b.do("GET", "/api/calls?"+c.query, a, nil), 200).json(t, &page)
		after := scans()
		if len(page.Items) != c.matches {
			t.Errorf("?%s found %d calls, want %d", c.query, len(page.Items), c.matches)
		}
		for _, idx := range c.indexes {
			if after[idx] <= before[idx] {
				t.Errorf("?%s did not scan %s (scans %d → %d)", c.query, idx, before[idx], after[idx])
			}
		}
	}

	// A term in every call: the page comes from the time-ordered index, newest first.
	var page callPage
	expect(t, b.do("GET", "/api/calls?q=cleaning&limit=50", a, nil), 200).json(t, &page)
	if len(page.Items) != 50 || page.NextCursor == nil || !page.Items[0].StartedAt.After(page.Items[49].StartedAt) {
		t.Errorf("common term: %d items, next %v", len(page.Items), page.NextCursor)
	}
}
