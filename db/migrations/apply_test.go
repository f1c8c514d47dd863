package migrations_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/migrations"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

func migrationCount(t *testing.T) int {
	n, err := migrations.Count()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestApplyFromEmptyThenIdempotent(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(context.Background(), testpg.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	n, err := migrations.Apply(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	if want := migrationCount(t); n != want {
		t.Fatalf("applied %d migrations to an empty database, want %d", n, want)
	}
	var tables int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables
		WHERE schemaname = 'public' AND tablename IN ('phone_numbers', 'calls', 'call_details') AND rowsecurity`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 3 {
		t.Fatalf("%d tenant tables with row-level security, want 3", tables)
	}
	// River's job tables are there too, and the tenant role cannot read them.
	var canRead bool
	if err := pool.QueryRow(context.Background(),
		"SELECT has_table_privilege('switchboard_tenant', 'river_job', 'SELECT')").Scan(&canRead); err != nil {
		t.Fatal(err)
	}
	if canRead {
		t.Fatal("the tenant role can read River's jobs")
	}

	// A second start (or a second replica) finds nothing to do.
	n, err = migrations.Apply(context.Background(), pool)
	if err != nil || n != 0 {
		t.Fatalf("second Apply applied %d, %v; want 0, nil", n, err)
	}
}

// Replicas starting together take the migrations' session lock in turn: each migration is
// applied once, and none fails.
func TestConcurrentApplyAppliesOnce(t *testing.T) {
	t.Parallel()
	url := testpg.EmptyURL(t)
	var wg sync.WaitGroup
	results := make([]int, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool, err := pgxpool.New(context.Background(), url)
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			results[i], errs[i] = migrations.Apply(context.Background(), pool)
		}()
	}
	wg.Wait()
	total := 0
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		total += results[i]
	}
	if want := migrationCount(t); total != want {
		t.Fatalf("replicas applied %d migrations in all, want %d (each once)", total, want)
	}
}
