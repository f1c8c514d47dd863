package tenant

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

// whoAmI reports, on the session's connection, how many numbers an unfiltered query sees,
// the role in force and the tenant setting.
func whoAmI(t *testing.T, conn dbsqlc.DBTX) (numbers int, role, user string) {
	t.Helper()
	err := conn.QueryRow(context.Background(),
		"SELECT (SELECT count(*) FROM phone_numbers), current_user, coalesce(current_setting('app.user_id', true), '')").
		Scan(&numbers, &role, &user)
	if err != nil {
		t.Fatal(err)
	}
	return numbers, role, user
}

// Inside a session, only As is confined to the tenant; before and after it the
// statements run as the service's own role with no tenant set.
func TestSessionConfinesOnlyAs(t *testing.T) {
	t.Parallel()
	pool := testpg.New(t)
	db := NewDB(pool)
	seed(t, db)
	var login string
	if err := pool.QueryRow(context.Background(), "SELECT current_user").Scan(&login); err != nil {
		t.Fatal(err)
	}

	err := db.Atomically(context.Background(), 0, func(s *Session) error {
		if n, role, _ := whoAmI(t, s.tc); n != 2 || role != login {
			t.Errorf("before As: %d numbers as %s, want 2 as %s", n, role, login)
		}
		err := s.As("user_a", func(*dbsqlc.Queries) error {
			if n, role, user := whoAmI(t, s.tc); n != 1 || role != Role || user != "user_a" {
				t.Errorf("in As: %d numbers as %s for %q, want 1 as %s for user_a", n, role, user, Role)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n, role, user := whoAmI(t, s.tc); n != 2 || role != login || user != "" {
			t.Errorf("after As: %d numbers as %s for %q, want 2 as %s for no tenant", n, role, user, login)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// What a session wrote, as the service and as a tenant, is all rolled back by an error.
func TestSessionIsAllOrNothing(t *testing.T) {
	t.Parallel()
	pool := testpg.New(t)
	db := NewDB(pool)
	ctx := context.Background()
	boom := errors.New("boom")

	err := db.Atomically(ctx, 0, func(s *Session) error {
		if _, err := s.tc.Exec(ctx, "INSERT INTO webhook_events (provider, event_key, event_type, payload) VALUES ('vapi', 'k1', 't', 'x')"); err != nil {
			return err
		}
		err := s.As("user_a", func(q *dbsqlc.Queries) error {
			_, err := q.CreatePhoneNumber(ctx, dbsqlc.CreatePhoneNumberParams{UserID: "user_a", PhoneNumber: "+14158675309"})
			return err
		})
		if err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Atomically returned %v, want fn's error", err)
	}
	var events, numbers int
	if err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM webhook_events), (SELECT count(*) FROM phone_numbers)").Scan(&events, &numbers); err != nil {
		t.Fatal(err)
	}
	if events != 0 || numbers != 0 {
		t.Fatalf("after the rollback %d events and %d numbers remain, want none", events, numbers)
	}

	// And a session that returns nil keeps both.
	err = db.Atomically(ctx, 0, func(s *Session) error {
		if _, err := s.tc.Exec(ctx, "INSERT INTO webhook_events (provider, event_key, event_type, payload) VALUES ('vapi', 'k1', 't', 'x')"); err != nil {
			return err
		}
		return s.As("user_a", func(q *dbsqlc.Queries) error {
			_, err := q.CreatePhoneNumber(ctx, dbsqlc.CreatePhoneNumberParams{UserID: "user_a", PhoneNumber: "+14158675309"})
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM webhook_events), (SELECT count(*) FROM phone_numbers)").Scan(&events, &numbers); err != nil {
		t.Fatal(err)
	}
	if events != 1 || numbers != 1 {
		t.Fatalf("after the commit %d events and %d numbers, want one of each", events, numbers)
	}
}

// A session that swallowed a failed statement cannot commit what came before it.
func TestSessionDoesNotReportAnAbortedCommit(t *testing.T) {
	t.Parallel()
	pool := testpg.New(t)
	db := NewDB(pool)
	ctx := context.Background()
	err := db.Atomically(ctx, 0, func(s *Session) error {
		_, _ = s.tc.Exec(ctx, "SELECT 1/0")
		return nil
	})
	if err == nil {
		t.Fatal("a session whose statement failed reported a commit")
	}
}

// lockWait bounds the wait for a row another transaction holds: the statement fails with
// lock_not_available instead of waiting for the holder.
func TestSessionLockWait(t *testing.T) {
	t.Parallel()
	pool := testpg.New(t)
	db := NewDB(pool)
	seed(t, db)
	ctx := context.Background()
	holder, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, "SELECT 1 FROM phone_numbers FOR UPDATE"); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		done <- db.Atomically(ctx, 50*time.Millisecond, func(s *Session) error {
			_, err := s.tc.Exec(ctx, "UPDATE phone_numbers SET label = 'x'")
			return err
		})
	}()
	select {
	case err := <-done:
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55P03" {
			t.Fatalf("the blocked statement ended with %v, want lock_not_available", err)
		}
		if errs.Is(err, errs.Unavailable) {
			t.Fatalf("a lock wait is not an unavailable database: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the statement still waits for the lock after 5 s")
	}
}

func TestSessionAsRefusesNoTenant(t *testing.T) {
	t.Parallel()
	db := NewDB(testpg.New(t))
	err := db.Atomically(context.Background(), 0, func(s *Session) error {
		return s.As("", func(*dbsqlc.Queries) error { return nil })
	})
	if !errs.Is(err, errs.Unauthorized) {
		t.Fatalf("As with no tenant returned %v, want Unauthorized", err)
	}
}

// The last statement carries the commit: what the session wrote is committed when it
// returns, and nothing may follow it.
func TestSessionLastStatementCommits(t *testing.T) {
	t.Parallel()
	pool := testpg.New(t)
	db := NewDB(pool)
	ctx := context.Background()
	err := db.Atomically(ctx, 0, func(s *Session) error {
		err := s.As("user_a", func(q *dbsqlc.Queries) error {
			_, err := q.CreatePhoneNumber(ctx, dbsqlc.CreatePhoneNumberParams{UserID: "user_a", PhoneNumber: "+14158675309"})
			return err
		})
		if err != nil {
			return err
		}
		s.Last()
		if _, err := s.tc.Exec(ctx, "INSERT INTO webhook_events (provider, event_key, event_type, payload) VALUES ('vapi', 'k1', 't', 'x')"); err != nil {
			return err
		}
		var inTx bool
		if err := s.tc.conn.QueryRow(ctx, "SELECT txid_current_if_assigned() IS NULL").Scan(&inTx); err != nil || !inTx {
			t.Errorf("after the last statement the connection is still in a transaction (%v)", err)
		}
		if _, err := s.Service().ListPhoneNumbers(ctx, "user_a"); err == nil {
			t.Error("a statement after the last one was sent")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var events, numbers int
	if err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM webhook_events), (SELECT count(*) FROM phone_numbers)").Scan(&events, &numbers); err != nil {
		t.Fatal(err)
	}
	if events != 1 || numbers != 1 {
		t.Fatalf("after the session %d events and %d numbers, want one of each", events, numbers)
	}
}

// Writes in As are queued and run, confined to the tenant, with the next statement, or with
// the COMMIT when none follows; their failure fails the session.
func TestSessionAsQueuesWrites(t *testing.T) {
	t.Parallel()
	pool := testpg.New(t)
	db := NewDB(pool)
	seed(t, db)
	ctx := context.Background()
	count := func(label string) int {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM phone_numbers WHERE label = $1", label).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The statements go through the queue As gives its queries.
	var s0 *Session
	relabel := func(label string) func(q *dbsqlc.Queries) error {
		return func(*dbsqlc.Queries) error {
			// Unfiltered on purpose: row-level security must confine it to user_a.
			_, err := sessionConn{s0.tc}.Exec(ctx, "UPDATE phone_numbers SET label = $1", label)
			return err
		}
	}

	// With a statement after it, and with none.
	err := db.Atomically(ctx, 0, func(s *Session) error {
		s0 = s
		if err := s.As("user_a", relabel("first")); err != nil {
			return err
		}
		if n, role, user := whoAmI(t, s.tc); n != 2 || role == Role || user != "" {
			t.Errorf("the statement after As ran as %s for %q and saw %d numbers", role, user, n)
		}
		return nil
	})
	if err != nil || count("first") != 1 {
		t.Fatalf("queued write with a statement after it: %v, %d rows labelled, want 1", err, count("first"))
	}
	err = db.Atomically(ctx, 0, func(s *Session) error { s0 = s; return s.As("user_a", relabel("second")) })
	if err != nil || count("second") != 1 {
		t.Fatalf("queued write alone: %v, %d rows labelled, want 1", err, count("second"))
	}

	// A queued write that fails fails the session, and nothing of it stays.
	err = db.Atomically(ctx, 0, func(s *Session) error {
		s0 = s
		if err := s.As("user_a", relabel("third")); err != nil {
			return err
		}
		return s.As("user_a", func(*dbsqlc.Queries) error {
			_, err := sessionConn{s.tc}.Exec(ctx, "UPDATE phone_numbers SET user_id = 'user_b'")
			return err
		})
	})
	if err == nil || count("third") != 0 {
		t.Fatalf("a failing queued write: %v, %d rows labelled third, want an error and none", err, count("third"))
	}

	// A query with results is sent at once, with the writes queued before it, and sees them.
	err = db.Atomically(ctx, 0, func(s *Session) error {
		return s.As("user_a", func(q *dbsqlc.Queries) error {
			if _, err := (sessionConn{s.tc}).Exec(ctx, "UPDATE phone_numbers SET label = 'fourth'"); err != nil {
				return err
			}
			numbers, err := q.ListPhoneNumbers(ctx, "user_a")
			if err != nil {
				return err
			}
			if len(numbers) != 1 || numbers[0].Label == nil || *numbers[0].Label != "fourth" {
				t.Errorf("the query in As saw %+v, want user_a's one number labelled fourth", numbers)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A failed last statement whose error fn ignored does not pass for a commit.
func TestSessionFailedLastStatementIsNoCommit(t *testing.T) {
	t.Parallel()
	pool := testpg.New(t)
	db := NewDB(pool)
	ctx := context.Background()
	err := db.Atomically(ctx, 0, func(s *Session) error {
		if _, err := s.tc.Exec(ctx, "INSERT INTO webhook_events (provider, event_key, event_type, payload) VALUES ('vapi', 'k1', 't', 'x')"); err != nil {
			return err
		}
		s.Last()
		_, _ = s.tc.Exec(ctx, "SELECT 1/0")
		return nil
	})
	if err == nil {
		t.Fatal("a session whose last statement failed reported a commit")
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM webhook_events").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d events after the failed session (%v), want none", n, err)
	}
}
