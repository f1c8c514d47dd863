package background

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/outbound"
	"github.com/switchboard-health/switchboard/internal/providertest"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/testkit"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

// start runs a replica's background work over pool until the test ends, with periodic
// jobs an hour apart: only their run at start happens within a test.
func start(t *testing.T, pool *pgxpool.Pool, deliverer ...*outbound.Deliverer) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := Config{
		Pool: pool, Log: log, Interval: time.Hour, ReconcileAfter: 30 * time.Minute, SearchIndexRate: 100,
		Jobs: calls.NewJobs(calls.Deps{DB: tenant.NewDB(pool), Region: "US", Log: log}),
	}
	if len(deliverer) > 0 {
		cfg.Deliverer, cfg.DispatchEvery, cfg.RetryBase, cfg.FetchPollInterval = deliverer[0], 20*time.Millisecond, 50*time.Millisecond, 100*time.Millisecond
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("stopping the background work: %v", err)
		}
	})
}

// An event the inbox holds, which no request applied, is applied by the reprocessing job
// that River runs; two replicas schedule each periodic job once between them.
func TestPeriodicJobsRunOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	pool := testpg.New(t)
	ctx := context.Background()
	db := tenant.NewDB(pool)
	var line dbsqlc.PhoneNumber
	err := db.Tx(ctx, "user_a", func(q *dbsqlc.Queries) (err error) {
		line, err = q.CreatePhoneNumber(ctx, dbsqlc.CreatePhoneNumberParams{UserID: "user_a", PhoneNumber: "+12127365000"})
		if err != nil {
			return err
		}
		by := "operator"
		line, err = q.MarkPhoneNumberVerified(ctx, dbsqlc.MarkPhoneNumberVerifiedParams{UserID: "user_a", ID: line.ID, VerifiedBy: &by})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	report := providertest.ServerMessage(providertest.EndOfCallReport("vapi-bg-1",
		map[string]any{"user_id": "user_a", "phone_number_id": line.ID.String()}))
	if _, err := pool.Exec(ctx, `INSERT INTO webhook_events (provider, event_key, event_type, payload, next_attempt_at)
		VALUES ('vapi', 'end-of-call-report:vapi-bg-1', 'end-of-call-report', $1, now())`, report); err != nil {
		t.Fatal(err)
	}

	start(t, pool)
	start(t, pool)
	count := func(sql string) int {
		var n int
		if err := pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	testkit.Eventually(t, 30*time.Second, "the periodic jobs run", func() bool {
		return count("SELECT count(*) FROM river_job WHERE state = 'completed'") == 3
	})
	if n := count("SELECT count(*) FROM webhook_events WHERE status = 'processed'"); n != 1 {
		t.Fatalf("%d events processed, want the one the inbox held", n)
	}
	if n := count("SELECT count(*) FROM calls WHERE vapi_call_id = 'vapi-bg-1' AND user_id = 'user_a' AND status = 'ended'"); n != 1 {
		t.Fatalf("%d calls recorded from the report, want 1", n)
	}
	for _, kind := range []string{"reprocess_inbox", "reconcile_open_calls", "prune_call_events"} {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE kind = $1", kind).Scan(&n); err != nil || n != 1 {
			t.Errorf("%d %s jobs (%v), want one for both replicas", n, kind, err)
		}
	}
}
