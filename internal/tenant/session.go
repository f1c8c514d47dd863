package tenant

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
)

// Session is one transaction that runs as the service's own role, outside any tenant, and
// acts as one tenant only inside As. Webhooks use it to find who owns an event, write
// the owner's data under row-level security, and keep the raw event, all or nothing.
type Session struct {
	tc  *tenantConn
	ctx context.Context // the session's, for the principal acting in it, if any
}

// Service returns the queries that run as the service's own role, outside any tenant: the
// owner lookups and the inbox.
func (s *Session) Service() *dbsqlc.Queries { return dbsqlc.New(s.tc) }

// As runs fn's statements as tenant id, confined by row-level security exactly as in Tx;
// fn's error is returned as it is. Statements without results (sqlc's :exec queries) are
// not sent at once: they travel, with the role switch and the switch back, in the round
// trip of the session's next statement that has results (usually Last's), and their errors
// come back as that statement's. So fn must not rely on a command tag (no :execrows); a
// query with results is sent at once, with whatever is queued before it.
func (s *Session) As(id ID, fn func(q *dbsqlc.Queries) error) error {
	if id == "" {
		return errNoTenant
	}
	s.tc.pending = append(s.tc.pending, tenantPrefix(s.ctx, id, openSession)...)
	err := fn(dbsqlc.New(sessionConn{s.tc}))
	s.tc.pending = append(s.tc.pending, queued{leaveTenant, nil})
	return err
}

// sessionConn queues statements without results on a tenantConn and sends the others.
type sessionConn struct{ tc *tenantConn }

func (c sessionConn) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c.tc.pending = append(c.tc.pending, queued{sql, args})
	c.tc.queuedWrites = true
	return pgconn.CommandTag{}, nil
}

func (c sessionConn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return c.tc.Query(ctx, sql, args...)
}

func (c sessionConn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return c.tc.QueryRow(ctx, sql, args...)
}

// Last returns the queries, as the service's own role, for the session's last statement:
// the COMMIT travels in its round trip, and the statement's error includes the commit's.
// No statement may follow it.
func (s *Session) Last() *dbsqlc.Queries {
	s.tc.commitWithNext = true
	return dbsqlc.New(s.tc)
}

// leaveTenant ends As: set_config of "role" to "none" is SET LOCAL ROLE NONE, back
// to the login role, and the tenant setting is emptied (which matches no row).
const leaveTenant = "SELECT set_config('role', 'none', true), set_config('app.user_id', '', true)"

// Atomically runs fn in a Session and commits it when fn returns nil; the commit waits for
// the disk, so what fn stored is durable when Atomically returns nil. An error from fn
// rolls everything back and is returned, classified by DatabaseError. lockWait, when not zero, bounds how long
// any statement waits for rows another transaction holds; past it the statement fails
// (SQLSTATE 55P03), so the caller can take a path that does not keep work waiting.
func (db *DB) Atomically(ctx context.Context, lockWait time.Duration, fn func(s *Session) error) error {
	begin := []queued{{"BEGIN", nil}}
	if lockWait > 0 {
		begin = append(begin, queued{"SELECT set_config('lock_timeout', $1, true)", []any{strconv.FormatInt(lockWait.Milliseconds(), 10)}})
	}
	return db.run(ctx, begin, func(tc *tenantConn) error { return fn(&Session{tc: tc, ctx: ctx}) })
}
