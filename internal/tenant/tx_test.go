package tenant

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

// seed registers one number for each of two tenants through their own transactions.
func seed(t *testing.T, db *DB) {
	t.Helper()
	for id, number := range map[ID]string{"user_a": "+14158675309", "user_b": "+14155550100"} {
		err := db.Tx(context.Background(), id, func(q *dbsqlc.Queries) error {
			_, err := q.CreatePhoneNumber(context.Background(), dbsqlc.CreatePhoneNumberParams{UserID: string(id), PhoneNumber: number})
			return err
		})
		if err != nil {
			t.Fatalf("seeding %s: %v", id, err)
		}
	}
}

// The test database's login role is a superuser, which bypasses row-level security; the
// tenant transaction must still confine a query that forgets to filter by tenant.
func TestQueryWithoutTenantFilterSeesOnlyTenantRows(t *testing.T) {
	t.Parallel()
	pool := testpg.New(t)
	db := NewDB(pool)
	seed(t, db)

	var all int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM phone_numbers").Scan(&all); err != nil {
		t.Fatal(err)
	}
	if all != 2 {
		t.Fatalf("outside a tenant transaction the superuser sees %d rows, want 2", all)
	}

	err := db.inTx(context.Background(), "user_a", func(conn dbsqlc.DBTX) error {
		rows, err := conn.Query(context.Background(), "SELECT user_id FROM phone_numbers")
		if err != nil {
			return err
		}
		defer rows.Close()
		var owners []string
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				return err
			}
			owners = append(owners, u)
		}
		if len(owners) != 1 || owners[0] != "user_a" {
			t.Errorf("user_a's unfiltered query saw owners %v, want [user_a]", owners)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWritingAnotherTenantsRowIsRefused(t *testing.T) {
	t.Parallel()
	pool := testpg.New(t)
	db := NewDB(pool)
	seed(t, db)

	statements := map[string]string{
		"insert for another tenant": "INSERT INTO phone_numbers (user_id, phone_number) VALUES ('user_b', '+14155550101')",
		"move own row to another":   "UPDATE phone_numbers SET user_id = 'user_b' WHERE user_id = 'user_a'",
	}
	for name, sql := range statements {
		err := db.inTx(context.Background(), "user_a", func(conn dbsqlc.DBTX) error {
			_, err := conn.Exec(context.Background(), sql)
			return err
		})
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s: got %v, want a row-level security violation (42501)", name, err)
		}
	}

	// Another tenant's rows are invisible, so updating or deleting them touches nothing.
	err := db.inTx(context.Background(), "user_a", func(conn dbsqlc.DBTX) error {
		for _, sql := range []string{
			"UPDATE phone_numbers SET label = 'hijacked' WHERE user_id = 'user_b'",
			"DELETE FROM phone_numbers WHERE user_id = 'user_b'",
		} {
			tag, err := conn.Exec(context.Background(), sql)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 0 {
				t.Errorf("%q touched %d of user_b's rows", sql, tag.RowsAffected())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// After a tenant transaction the connection goes back to the pool with app.user_id reading
// ” and the login role restored; the tenant role with that empty setting sees nothing.
func TestReusedConnectionCarriesNoTenant(t *testing.T) {
	t.Parallel()
	cfg, err := pgxpool.ParseConfig(testpg.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1 // so the second user of a connection is certainly the same connection
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := NewDB(pool)
	seed(t, db)

	conn, err := pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var setting, role string
	if err := conn.QueryRow(context.Background(), "SELECT coalesce(current_setting('app.user_id', true), '<null>'), current_user").Scan(&setting, &role); err != nil {
		t.Fatal(err)
	}
	if setting != "" && setting != "<null>" {
		t.Errorf("app.user_id leaked to the next user of the connection: %q", setting)
	}
	if role == Role {
		t.Errorf("the tenant role leaked to the next user of the connection")
	}
	var visible int
	if _, err := conn.Exec(context.Background(), "BEGIN; SET LOCAL ROLE switchboard_tenant; SELECT set_config('app.user_id', '', true)"); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM phone_numbers").Scan(&visible); err != nil {
		t.Fatal(err)
	}
	_, _ = conn.Exec(context.Background(), "ROLLBACK")
	if visible != 0 {
		t.Errorf("the tenant role with an empty app.user_id sees %d rows, want 0", visible)
	}
}

func TestTxRefusesEmptyTenant(t *testing.T) {
	t.Parallel()
	db := NewDB(testpg.New(t))
	err := db.Tx(context.Background(), "", func(*dbsqlc.Queries) error { return nil })
	if !errs.Is(err, errs.Unauthorized) {
		t.Fatalf("got %v, want Unauthorized", err)
	}
}

func TestTxRollsBackOnError(t *testing.T) {
	t.Parallel()
	pool := testpg.New(t)
	db := NewDB(pool)
	boom := errs.New(errs.CodePhoneNumberTaken, "boom")
	err := db.Tx(context.Background(), "user_a", func(q *dbsqlc.Queries) error {
		if _, err := q.CreatePhoneNumber(context.Background(), dbsqlc.CreatePhoneNumberParams{UserID: "user_a", PhoneNumber: "+14158675309"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the callback's error", err)
	}
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM phone_numbers").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d rows survived a failed transaction", n)
	}
}
