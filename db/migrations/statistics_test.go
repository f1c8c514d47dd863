package migrations_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard-health/switchboard/internal/testpg"
)

// statsArgs stand in for the statistics statements' parameters.
var statsArgs = map[string]string{
	"user_id": "'user_large'",
	"since":   "(now() - interval '365 days')",
	"until":   "(now())",
	"tz":      "'America/New_York'",
}

// Every statistics statement reads the calls through the list's index alone, never the
// table: a large clinic's year of statistics depends on it (migration 00023). A column
// added to a statistics statement but not to the index's INCLUDE list fails here, naming
// the statement.
func TestStatisticsReadTheIndexOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testpg.New(t)
	src, err := os.ReadFile("../queries/stats.sql")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	// The planner costs an index-only scan by how much of the table is all-visible, which
	// an empty table never is; vacuumed rows make the choice the one a real table gets.
	// Vacuum marks a page all-visible only once its rows' commit is on disk: the test
	// cluster commits asynchronously, so this session does not.
	for _, sql := range []string{
		`SET synchronous_commit = on`,
		`INSERT INTO phone_numbers (id, user_id, phone_number) VALUES ('00000000-0000-0000-0000-000000000001', 'user_large', '+16175550100')`,
		`INSERT INTO calls (user_id, phone_number_id, started_at, status, duration_seconds, cost, ended_reason, handling, disposition, tags)
		 SELECT CASE WHEN g % 10 = 0 THEN 'user_large' ELSE 'user_' || g % 500 END,
		        CASE WHEN g % 10 = 0 THEN '00000000-0000-0000-0000-000000000001'::uuid END, now() - g * interval '5 minutes', 'ended',
		        g % 600, 0.05, 'customer-ended-call', 'assistant',
		        CASE WHEN g % 3 = 0 THEN 'booked' END, CASE WHEN g % 5 = 0 THEN '{new-patient}'::text[] ELSE '{}' END
		 FROM generate_series(1, 20000) g`,
		`VACUUM ANALYZE calls`,
		`SET enable_seqscan = off`, `SET enable_bitmapscan = off`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	tableScan := regexp.MustCompile(`(Seq Scan|Index Scan using \w+|Bitmap Heap Scan) on calls\b`)
	param := regexp.MustCompile(`sqlc\.arg\((\w+)\)|@(\w+)`)
	statements := strings.Split(string(src), "-- name: ")[1:]
	if len(statements) < 9 {
		t.Fatalf("read %d statistics statements, want the nine the statistics run", len(statements))
	}
	for _, stmt := range statements {
		name, body, _ := strings.Cut(stmt, "\n")
		body = param.ReplaceAllStringFunc(body, func(m string) string {
			sub := param.FindStringSubmatch(m)
			return statsArgs[sub[1]+sub[2]]
		})
		rows, err := conn.Query(ctx, "EXPLAIN "+body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var lines []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, line)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, "Index Only Scan using calls_user_started_idx on calls") || tableScan.MatchString(plan) {
			t.Errorf("%s reads the calls table, not only the index:\n%s", name, plan)
		}
	}
}
