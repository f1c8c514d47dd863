package migrations_test

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

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

// Numbers registered before claims had to be proven routed already: the migration that
// introduces proof marks them verified ("migrated"), and new claims start pending.
func TestNumbersRegisteredBeforeProofStayVerified(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("pgx", testpg.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.UpTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO phone_numbers (user_id, phone_number) VALUES ('user_a', '+12127365000')"); err != nil {
		t.Fatal(err)
	}
	if _, err := provider.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO phone_numbers (user_id, phone_number) VALUES ('user_b', '+12127365000')"); err != nil {
		t.Fatalf("a second clinic's pending claim of a verified number: %v", err)
	}
	rows, err := db.QueryContext(ctx, "SELECT user_id, verification_status, coalesce(verified_by, '') FROM phone_numbers ORDER BY user_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var user, status, by string
		if err := rows.Scan(&user, &status, &by); err != nil {
			t.Fatal(err)
		}
		got = append(got, user+":"+status+":"+by)
	}
	if want := []string{"user_a:verified:migrated", "user_b:pending:"}; !slices.Equal(got, want) {
		t.Fatalf("numbers after the migration %v, want %v", got, want)
	}
	// Only one claim of a number can be verified.
	if _, err := db.ExecContext(ctx, "UPDATE phone_numbers SET verification_status = 'verified', verified_at = now(), verified_by = 'code' WHERE user_id = 'user_b'"); err == nil {
		t.Fatal("a second claim of a number was verified")
	}
}

// Assistants become the clinics': each one named by numbers before the migration belongs
// to one clinic after it, the one whose number was verified first; another clinic's number
// naming the same assistant loses it (its calls take the fallback), and cannot name it again.
func TestAssistantsMigrateToOneClinicEach(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("pgx", testpg.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.UpTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"INSERT INTO phone_numbers (user_id, phone_number, vapi_assistant_id, verification_status, verified_at, verified_by) VALUES ('user_b', '+12127365001', 'asst_shared', 'verified', now(), 'code')",
		"INSERT INTO phone_numbers (user_id, phone_number, vapi_assistant_id, verification_status, verified_at, verified_by) VALUES ('user_a', '+12127365000', 'asst_shared', 'verified', now() - interval '1 day', 'code')",
		"INSERT INTO phone_numbers (user_id, phone_number, vapi_assistant_id) VALUES ('user_c', '+12127365002', 'asst_c')",
	} {
		if _, err := db.ExecContext(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := provider.Up(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT p.user_id, coalesce(p.vapi_assistant_id, '-'), coalesce(a.user_id, '-')
		FROM phone_numbers p LEFT JOIN assistants a USING (vapi_assistant_id) ORDER BY p.user_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var user, assistant, owner string
		if err := rows.Scan(&user, &assistant, &owner); err != nil {
			t.Fatal(err)
		}
		got = append(got, user+":"+assistant+":"+owner)
	}
	if want := []string{"user_a:asst_shared:user_a", "user_b:-:-", "user_c:asst_c:user_c"}; !slices.Equal(got, want) {
		t.Fatalf("numbers and their assistants' owners after the migration %v, want %v", got, want)
	}
	if _, err := db.ExecContext(ctx, "UPDATE phone_numbers SET vapi_assistant_id = 'asst_shared' WHERE user_id = 'user_b'"); err == nil {
		t.Fatal("a number was pointed at another clinic's assistant")
	}
}
