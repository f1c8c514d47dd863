package tenant

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

// Read sends the tenant setting, the role switch and the statement in one pipeline; the
// row-level security of the tenant transaction holds, and ends with the statement.
func TestReadIsConfinedAndLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(testpg.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1 // the statement after Read certainly reuses its connection
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := NewDB(pool)
	seed(t, db)

	var owners []string
	err = db.inRead(ctx, "user_b", func(conn dbsqlc.DBTX) error {
		rows, err := conn.Query(ctx, "SELECT user_id FROM phone_numbers")
		if err != nil {
			return err
		}
		owners, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil || len(owners) != 1 || owners[0] != "user_b" {
		t.Fatalf("user_b's read saw %v (%v), want [user_b]", owners, err)
	}
	var role, setting string
	if err := pool.QueryRow(ctx, "SELECT current_user::text, coalesce(current_setting('app.user_id', true), '')").Scan(&role, &setting); err != nil {
		t.Fatal(err)
	}
	if role == Role || setting != "" {
		t.Fatalf("after Read the connection is %q with app.user_id %q", role, setting)
	}

	// Writing another tenant's row is refused here too.
	err = db.inRead(ctx, "user_b", func(conn dbsqlc.DBTX) error {
		_, err := conn.Exec(ctx, "UPDATE phone_numbers SET user_id = 'user_a'")
		return err
	})
	if err == nil {
		t.Fatal("a read moved a row to another tenant")
	}

	// Read is for one statement.
	err = db.Read(ctx, "user_b", func(q *dbsqlc.Queries) error {
		if _, err := q.ListPhoneNumbers(ctx, "user_b"); err != nil {
			return err
		}
		_, err := q.ListPhoneNumbers(ctx, "user_b")
		return err
	})
	if err == nil {
		t.Fatal("Read ran a second statement")
	}
	if err := db.Read(ctx, "", func(*dbsqlc.Queries) error { return nil }); err == nil {
		t.Fatal("Read without a tenant")
	}
}

// Only single-statement work (Read, with a read's audit entry, and Redoable) gives up
// waiting for the disk; a Tx and a webhook's Session wait.
func TestOnlySingleStatementWorkCommitsAsynchronously(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testpg.URL(t)
	// Test clusters default to asynchronous commits; make this database durable by default.
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = on', current_database()); END $$"); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := NewDB(pool)
	var tx string
	err = db.inTx(ctx, "user_a", func(conn dbsqlc.DBTX) error {
		return conn.QueryRow(ctx, "SELECT current_setting('synchronous_commit')").Scan(&tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	var write, session string
	err = db.inRead(ctx, "user_a", func(conn dbsqlc.DBTX) error {
		return conn.QueryRow(ctx, "SELECT current_setting('synchronous_commit')").Scan(&write)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Atomically(ctx, 0, func(s *Session) error {
		return s.tc.QueryRow(ctx, "SELECT current_setting('synchronous_commit')").Scan(&session)
	})
	if err != nil {
		t.Fatal(err)
	}
	if tx != "on" || write != "off" || session != "on" {
		t.Fatalf("synchronous_commit: Tx %q, Read and Redoable %q, Atomically %q; want on, off, on", tx, write, session)
	}
}
