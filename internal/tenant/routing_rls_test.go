package tenant

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

// A clinic's routing, blocked callers and assistants are its own: inside a tenant
// transaction a statement without a tenant filter reads, changes and deletes only the
// tenant's rows, and cannot write a row for another tenant.
func TestRoutingSettingsAreConfinedToTheTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testpg.New(t)
	db := NewDB(pool)
	for i, user := range []string{"user_a", "user_b"} {
		for _, sql := range []string{
			"INSERT INTO assistants (vapi_assistant_id, user_id) VALUES ($1 || '_asst', $1)",
			"INSERT INTO routing_policies (user_id, clinic_name) VALUES ($1, $1)",
			fmt.Sprintf("INSERT INTO blocked_callers (user_id, phone_number) VALUES ($1, '+1212555010%d')", i),
		} {
			if _, err := pool.Exec(ctx, sql, user); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, table := range []string{"assistants", "routing_policies", "blocked_callers"} {
		err := db.inTx(ctx, "user_a", func(conn dbsqlc.DBTX) error {
			var seen, others int
			if err := conn.QueryRow(ctx, "SELECT count(*), count(*) FILTER (WHERE user_id <> 'user_a') FROM "+table).Scan(&seen, &others); err != nil {
				return err
			}
			if seen != 1 || others != 0 {
				t.Errorf("%s: user_a's unfiltered read saw %d rows, %d of others", table, seen, others)
			}
			tag, err := conn.Exec(ctx, "DELETE FROM "+table)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				t.Errorf("%s: user_a's unfiltered delete removed %d rows", table, tag.RowsAffected())
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		err = db.inTx(ctx, "user_a", func(conn dbsqlc.DBTX) error {
			_, err := conn.Exec(ctx, "UPDATE "+table+" SET user_id = 'user_b'")
			return err
		})
		if err == nil {
			t.Errorf("%s: user_a moved its rows to user_b", table)
		}
	}
	err := db.inTx(ctx, "user_a", func(conn dbsqlc.DBTX) error {
		_, err := conn.Exec(ctx, "INSERT INTO blocked_callers (user_id, phone_number) VALUES ('user_b', '+12125550199')")
		return err
	})
	if err == nil {
		t.Error("user_a blocked a caller for user_b")
	}
}

var errRollback = errors.New("roll back")

// The callback queue, its rules and the clinic settings are the clinic's own, like its calls.
func TestCallbacksAreConfinedToTheTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testpg.New(t)
	db := NewDB(pool)
	for _, user := range []string{"user_a", "user_b"} {
		for _, sql := range []string{
			"INSERT INTO callback_rules (user_id) VALUES ($1)",
			"INSERT INTO clinic_settings (user_id, hipaa_mode) VALUES ($1, true)",
			"WITH c AS (INSERT INTO calls (user_id, status, direction) VALUES ($1, 'ended', 'inbound') RETURNING id) " +
				"INSERT INTO callbacks (user_id, call_id, reason, created_by) SELECT $1, id, 'requested_by_staff', 'test' FROM c",
		} {
			if _, err := pool.Exec(ctx, sql, user); err != nil {
				t.Fatal(err)
			}
		}
	}
	var theirs string
	if err := pool.QueryRow(ctx, "SELECT call_id::text FROM callbacks WHERE user_id = 'user_b'").Scan(&theirs); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"callback_rules", "callbacks", "clinic_settings"} {
		seesOnlyItsOwn(t, db, table)
	}
	// Nor can a tenant open a callback on another's call, in either tenant's name.
	for _, owner := range []string{"user_a", "user_b"} {
		err := db.inTx(ctx, "user_a", func(conn dbsqlc.DBTX) error {
			_, err := conn.Exec(ctx, "INSERT INTO callbacks (user_id, call_id, reason, created_by) VALUES ($1, $2, 'requested_by_staff', 'x')", owner, theirs)
			return err
		})
		if err == nil {
			t.Errorf("user_a opened a callback on user_b's call as %s", owner)
		}
	}
}

// A clinic's webhook endpoints (their secrets) and deliveries are its own.
func TestWebhookEndpointsAreConfinedToTheTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testpg.New(t)
	db := NewDB(pool)
	for _, user := range []string{"user_a", "user_b"} {
		if _, err := pool.Exec(ctx, `WITH e AS (INSERT INTO webhook_endpoints (user_id, url, secret) VALUES ($1, 'https://example.com', 'whsec_x') RETURNING id)
			INSERT INTO webhook_deliveries (user_id, endpoint_id, event_type) SELECT $1, id, 'webhook.test' FROM e`, user); err != nil {
			t.Fatal(err)
		}
	}
	for _, table := range []string{"webhook_endpoints", "webhook_deliveries"} {
		seesOnlyItsOwn(t, db, table)
	}
	err := db.inTx(ctx, "user_a", func(conn dbsqlc.DBTX) error {
		_, err := conn.Exec(ctx, "INSERT INTO webhook_endpoints (user_id, url, secret) VALUES ('user_b', 'https://evil.example', 'whsec_y')")
		return err
	})
	if err == nil {
		t.Error("user_a registered an endpoint for user_b")
	}
}

// seesOnlyItsOwn checks that user_a's transaction, with no tenant filter, reads and
// updates only user_a's one row of table (each tenant has one).
func seesOnlyItsOwn(t *testing.T, db *DB, table string) {
	t.Helper()
	ctx := context.Background()
	err := db.inTx(ctx, "user_a", func(conn dbsqlc.DBTX) error {
		var seen, others int
		if err := conn.QueryRow(ctx, "SELECT count(*), count(*) FILTER (WHERE user_id <> 'user_a') FROM "+table).Scan(&seen, &others); err != nil {
			return err
		}
		if seen != 1 || others != 0 {
			t.Errorf("%s: user_a's unfiltered read saw %d rows, %d of others", table, seen, others)
		}
		tag, err := conn.Exec(ctx, "UPDATE "+table+" SET user_id = user_id")
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			t.Errorf("%s: user_a's unfiltered update touched %d rows", table, tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
