package background

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/outbound"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/testkit"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

// A call's events reach an integrator through River: queued in the transaction of each
// change, retried with backoff while the endpoint fails, and in order (a call's end never
// arrives before its start, even when the start needed retries).
func TestWebhooksAreDeliveredInOrderWithRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testpg.New(t)
	db := tenant.NewDB(pool)

	var mu sync.Mutex
	var types []string
	failures := 3 // the first attempts fail
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ Type string }
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &ev)
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		types = append(types, ev.Type)
	}))
	t.Cleanup(rcv.Close)
	if _, err := outbound.NewEndpoints(db, true).Create(ctx, "user_a", rcv.URL, []string{"call.started", "call.ended"}, nil); err != nil {
		t.Fatal(err)
	}
	// A rolled-back change sends nothing.
	_ = db.Tx(ctx, "user_a", func(q *dbsqlc.Queries) error {
		if _, err := q.InsertCall(ctx, dbsqlc.InsertCallParams{UserID: "user_a", Status: "initiated", Direction: "inbound", StartedAt: time.Now()}); err != nil {
			return err
		}
		return context.Canceled
	})
	var call dbsqlc.Call
	err := db.Tx(ctx, "user_a", func(q *dbsqlc.Queries) (err error) {
		call, err = q.InsertCall(ctx, dbsqlc.InsertCallParams{UserID: "user_a", Status: "initiated", Direction: "inbound", StartedAt: time.Now()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Tx(ctx, "user_a", func(q *dbsqlc.Queries) error {
		return q.AdvanceCallStatus(ctx, dbsqlc.AdvanceCallStatusParams{UserID: "user_a", ID: call.ID, Status: "ended"})
	})
	if err != nil {
		t.Fatal(err)
	}

	start(t, pool, outbound.NewDeliverer(outbound.DelivererConfig{DB: db, AllowPrivate: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Call: func(c dbsqlc.CallSummary) any { return map[string]any{"id": c.ID} }}))
	testkit.Eventually(t, 30*time.Second, "both events delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(types) == 2
	})
	mu.Lock()
	got := append([]string(nil), types...)
	mu.Unlock()
	if got[0] != "call.started" || got[1] != "call.ended" {
		t.Fatalf("delivered %v, want the start before the end", got)
	}
	var attempts, deliveries int
	if err := pool.QueryRow(ctx, "SELECT sum(attempts), count(*) FROM webhook_deliveries WHERE status = 'succeeded'").Scan(&attempts, &deliveries); err != nil {
		t.Fatal(err)
	}
	if deliveries != 2 || attempts != 5 {
		t.Fatalf("%d deliveries succeeded after %d attempts, want 2 after 5 (3 failed)", deliveries, attempts)
	}
}
