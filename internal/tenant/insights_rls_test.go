package tenant

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

// The live-update log and the search function hold every tenant's data; inside a tenant
// transaction, even without a tenant filter, each yields only that tenant's.
func TestEventLogAndSearchAreConfinedToTheTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testpg.New(t)
	db := NewDB(pool)
	for _, user := range []string{"user_a", "user_b"} {
		caller := "+13127445000"
		err := db.Tx(ctx, ID(user), func(q *dbsqlc.Queries) error {
			c, err := q.InsertCall(ctx, dbsqlc.InsertCallParams{UserID: user, Status: "initiated", Direction: "inbound", StartedAt: time.Now(), CallerNumber: &caller})
			if err != nil {
				return err
			}
			summary := "cleaning booked"
			return q.StoreEndOfCallReport(ctx, dbsqlc.StoreEndOfCallReportParams{UserID: user, ID: c.ID, Summary: &summary})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// What the search indexer does (it runs as the service's role, outside any tenant).
	if _, err := pool.Exec(ctx, "UPDATE call_details SET search = to_tsvector('english', 'cleaning booked'), search_stale = false"); err != nil {
		t.Fatal(err)
	}
	err := db.inTx(ctx, "user_a", func(conn dbsqlc.DBTX) error {
		rows, err := conn.Query(ctx, "SELECT DISTINCT user_id FROM call_events")
		if err != nil {
			return err
		}
		owners, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(owners) != 1 || owners[0] != "user_a" {
			t.Errorf("user_a's transaction reads events of %v", owners)
		}
		var matches int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM search_call_ids('cleaning', '744')").Scan(&matches); err != nil {
			return err
		}
		if matches != 1 {
			t.Errorf("user_a's search matched %d calls, want only its own 1", matches)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Events are written by the trigger alone: the tenant role cannot forge them.
	err = db.inTx(ctx, "user_a", func(conn dbsqlc.DBTX) error {
		_, err := conn.Exec(ctx, "INSERT INTO call_events (user_id, call_id, kind, status) VALUES ('user_a', gen_random_uuid(), 'created', 'ended')")
		return err
	})
	if err == nil {
		t.Error("the tenant role wrote to the event log")
	}
}
