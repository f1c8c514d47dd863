package tenant

import (
	"context"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/db/migrations"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

// The usual production set-up: the service logs in as an ordinary role that owns the
// tables it migrated. Table owners bypass row-level security unless it is forced, so the
// tenant transaction's role switch is what confines them; this test proves it does.
func TestRLSHoldsForTableOwnerLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	superURL := testpg.EmptyURL(t)
	admin, err := pgx.Connect(ctx, superURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var dbname string
	if err := admin.QueryRow(ctx, "SELECT current_database()").Scan(&dbname); err != nil {
		t.Fatal(err)
	}
	owner := dbname + "_owner" // roles are cluster-wide: make the name unique
	// As on a managed database: the service's role owns the database (so it may create
	// trusted extensions) and its schema, and is no superuser.
	for _, sql := range []string{
		"CREATE ROLE " + owner + " LOGIN CREATEROLE NOSUPERUSER",
		"ALTER DATABASE " + dbname + " OWNER TO " + owner,
		"ALTER SCHEMA public OWNER TO " + owner,
	} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		// The database is dropped after this; what the role owns must go first.
		_, _ = admin.Exec(context.Background(), "ALTER SCHEMA public OWNER TO pg_database_owner")
		_, _ = admin.Exec(context.Background(), "ALTER DATABASE "+dbname+" OWNER TO CURRENT_USER")
		_, _ = admin.Exec(context.Background(), "DROP OWNED BY "+owner)
		_, _ = admin.Exec(context.Background(), "DROP ROLE "+owner)
	})

	u, err := url.Parse(superURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("user", owner)
	u.RawQuery = q.Encode()
	pool, err := pgxpool.New(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := migrations.Apply(ctx, pool); err != nil {
		t.Fatalf("migrating as a non-superuser owner: %v", err)
	}
	var tableOwner string
	if err := pool.QueryRow(ctx, "SELECT tableowner FROM pg_tables WHERE tablename = 'phone_numbers'").Scan(&tableOwner); err != nil || tableOwner != owner {
		t.Fatalf("phone_numbers owned by %q (%v), want %q", tableOwner, err, owner)
	}

	db := NewDB(pool)
	seed(t, db)
	var seen []string
	err = db.inTx(ctx, "user_b", func(conn dbsqlc.DBTX) error {
		rows, err := conn.Query(ctx, "SELECT user_id FROM phone_numbers")
		if err != nil {
			return err
		}
		seen, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != "user_b" {
		t.Fatalf("the owner's tenant transaction for user_b saw %v, want [user_b]", seen)
	}
}
