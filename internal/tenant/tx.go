package tenant

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
)

// Role is the NOLOGIN role, created by the migrations, that tenant transactions switch to.
// It does not bypass row-level security, so the policies hold whatever the login role is.
const Role = "switchboard_tenant"

// DB is the only door to the database, and every failure that comes through it is
// classified once (DatabaseError). It has one entry point per intent:
//
//   - Tx: a tenant's transaction, any number of statements, under row-level security.
//   - Read: one statement of a tenant's (with the audit entry of it), in one round trip.
//   - Redoable: one write of a tenant's that need not wait for the disk.
//   - Atomically: a webhook's durable Session, which finds the owner as the service and
//     writes as that tenant (see session.go).
//   - Service: the service's own work outside any tenant (the inbox, background jobs).
//
// How statements are pipelined into few round trips is decided inside these doors, never
// by their callers.
type DB struct {
	pool *pgxpool.Pool
}

// NewDB returns a DB over pool.
func NewDB(pool *pgxpool.Pool) *DB { return &DB{pool: pool} }

// Tx runs fn in a transaction where the tenant is set and row-level security confines
// every statement to the tenant's rows. The transaction commits when fn returns nil and
// rolls back otherwise; fn's error is returned as it is.
//
// BEGIN, the tenant setting and the role switch travel in one pipeline with fn's first
// statement, so a transaction costs one round trip per statement plus the COMMIT.
func (db *DB) Tx(ctx context.Context, id ID, fn func(q *dbsqlc.Queries) error) error {
	return db.inTx(ctx, id, func(conn dbsqlc.DBTX) error { return fn(dbsqlc.New(conn)) })
}

// Service runs fn's statements as the service's own role, outside any tenant, each in a
// transaction of its own: for the work that spans tenants or precedes knowing one (the
// inbox, the background jobs, finding a webhook's owner). Row-level security does not
// confine it, so it must never read a tenant's data for a tenant's request. Errors are
// classified as in every other door.
func (db *DB) Service(ctx context.Context, fn func(q *dbsqlc.Queries) error) error {
	return DatabaseError(fn(dbsqlc.New(db.pool)))
}

// Ping checks that the database answers, for readiness probes.
func (db *DB) Ping(ctx context.Context) error { return DatabaseError(db.pool.Ping(ctx)) }

// Waits returns how many connection acquisitions have had to wait for a free connection
// since the pool opened: a rising count means requests are queueing for the database.
func (db *DB) Waits() int64 { return db.pool.Stat().EmptyAcquireCount() }

// Read runs fn, which must run exactly one statement with results, in the tenant's
// implicit transaction: the tenant setting, the role switch and the statement travel as
// one pipeline and end with it, so the read costs a single round trip. Statements without
// results fn runs before it (an audit entry of the read) are queued and travel in that
// same round trip, committed with it without waiting for the disk: waiting would make
// every audited read (a call's detail, its recording) pay a WAL flush, three to four
// times the read itself. A crash in the moment after can lose the record of a read that
// was answered, never a change (changes go through Tx, whose commit waits); the entry is
// on disk within PostgreSQL's WAL writer delay. A second statement with results is an
// error: use Tx for more.
func (db *DB) Read(ctx context.Context, id ID, fn func(q *dbsqlc.Queries) error) error {
	return db.inRead(ctx, id, func(conn dbsqlc.DBTX) error {
		return fn(dbsqlc.New(sessionConn{conn.(*tenantConn)}))
	})
}

// Redoable runs fn, which must run exactly one statement, as Read does (one round trip),
// with an asynchronous commit: it returns before the commit is on disk, so a crash right
// after may lose it. Only for a write that a durable record already makes good (the
// hand-off's answer, which VAPI's messages and reconciliation fill in), or an audit entry
// of a read (an export's).
func (db *DB) Redoable(ctx context.Context, id ID, fn func(q *dbsqlc.Queries) error) error {
	return db.inRead(ctx, id, func(conn dbsqlc.DBTX) error { return fn(dbsqlc.New(conn)) })
}

func (db *DB) inRead(ctx context.Context, id ID, fn func(conn dbsqlc.DBTX) error) error {
	if id == "" {
		return errNoTenant
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return DatabaseError(err)
	}
	defer conn.Release()
	tc := &tenantConn{conn: conn, pending: tenantPrefix(ctx, id, openRead), oneStatement: true}
	err = fn(tc)
	if err == nil && !tc.sent {
		err = errs.Wrap(errors.New("tenant.Read ran no statement"), "internal error")
	}
	return DatabaseError(err)
}

var errNoTenant = errs.New(errs.CodeUnauthorized, "No tenant in this request.")

func (db *DB) inTx(ctx context.Context, id ID, fn func(conn dbsqlc.DBTX) error) error {
	if id == "" {
		// An empty tenant would match no row anyway; refusing here makes the mistake loud.
		return errNoTenant
	}
	return db.run(ctx, tenantPrefix(ctx, id, openTx), func(tc *tenantConn) error { return fn(tc) })
}

// run is the one place transactions begin and end: opening travels with fn's first
// statement; the transaction commits when fn returns nil and rolls back otherwise.
func (db *DB) run(ctx context.Context, opening []queued, fn func(tc *tenantConn) error) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return DatabaseError(err)
	}
	// A connection released while still inside a transaction (after a failed ROLLBACK) is
	// closed by the pool rather than reused, so no tenant setting can leak to the next user.
	defer conn.Release()
	tc := &tenantConn{conn: conn, pending: opening}
	if err := fn(tc); err != nil {
		if tc.sent {
			rollback(conn)
		}
		return DatabaseError(err)
	}
	if tc.committed {
		// Committed with the last statement, unless that failed and fn went on regardless:
		// then the transaction is still open, aborted.
		if conn.Conn().PgConn().TxStatus() != 'I' {
			rollback(conn)
			return errs.Wrap(errors.New("the session's last statement failed"), "internal error")
		}
		return nil
	}
	if !tc.sent && !tc.queuedWrites {
		return nil // no statement, no transaction
	}
	// Writes still queued (Session.As with no statement after it) travel with the COMMIT.
	tag, err := tc.Exec(ctx, "COMMIT")
	if err != nil {
		rollback(conn) // a queued write failed and left the transaction open, aborted
		return DatabaseError(err)
	}
	if tag.String() == "ROLLBACK" {
		// A statement failed and fn went on regardless: PostgreSQL rolled it all back.
		return errs.Wrap(errors.New("the transaction was aborted by an earlier error"), "internal error")
	}
	return nil
}

func rollback(conn *pgxpool.Conn) {
	// A fresh context: the caller's may be what was cancelled.
	_, _ = conn.Exec(context.Background(), "ROLLBACK")
}

type queued struct {
	sql  string
	args []any
}

// How a tenant's statements are opened: a transaction of several statements (Tx), a
// single-statement implicit transaction whose commit does not wait for the disk (Read,
// Redoable), or a tenant's part of a durable Session.
type opening int

const (
	openTx opening = iota
	openRead
	openSession
)

// tenantPrefix is what opens a tenant transaction: the tenant setting and the role switch
// (set_config of "role" is SET LOCAL ROLE), both transaction-local, and the check that the
// tenant is open and the person acting (the principal ctx carries for this tenant, if any)
// may still act in it, all in one statement, after an explicit BEGIN (Tx) or inside the
// pipeline's implicit transaction. A closed account or a removed member fails it, and with
// it the transaction (see tenant_open in the migrations).
func tenantPrefix(ctx context.Context, id ID, how opening) []queued {
	var actor *string
	var issued *time.Time
	if p, ok := PrincipalFrom(ctx); ok && p.Tenant == id {
		actor = &p.Actor
		if !p.IssuedAt.IsZero() {
			issued = &p.IssuedAt
		}
	}
	open := "SELECT set_config('app.user_id', $1, true), set_config('role', '" + Role + "', true), tenant_open($1, $2, $3)"
	switch how {
	case openTx:
		return []queued{{"BEGIN", nil}, {open, []any{string(id), actor, issued}}}
	case openRead:
		open += ", set_config('synchronous_commit', 'off', true)"
	}
	return []queued{{open, []any{string(id), actor, issued}}}
}

// tenantConn sends the statements queued in pending (the transaction's opening, a role
// switch) in one pipeline with the next statement the queries run, and runs the others on
// the connection as usual.
type tenantConn struct {
	conn         *pgxpool.Conn
	pending      []queued
	sent         bool // a statement was sent: the transaction is open
	oneStatement bool
	// commitWithNext sends COMMIT in one batch after the next statement; committed then
	// tells run that the transaction has ended.
	commitWithNext, committed bool
	queuedWrites              bool // Session.As queued statements
}

// send runs the pending statements and sql as one batch, and returns the batch positioned
// at sql's result; the caller reads it and closes the batch.
func (c *tenantConn) send(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	for _, q := range c.pending {
		b.Queue(q.sql, q.args...)
	}
	b.Queue(sql, args...)
	if c.commitWithNext {
		b.Queue("COMMIT")
		c.committed = true
	}
	n := len(c.pending)
	c.pending, c.sent = nil, true
	br := c.conn.SendBatch(ctx, b)
	for range n {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return nil, err
		}
	}
	return br, nil
}

// direct reports whether the next statement can go to the connection on its own, and
// refuses a second statement where only one is allowed.
func (c *tenantConn) direct() (bool, error) {
	if c.sent && c.oneStatement {
		return false, errs.Wrap(errors.New("tenant.Read ran a second statement"), "internal error")
	}
	if c.committed {
		return false, errs.Wrap(errors.New("a statement after the session's last"), "internal error")
	}
	return len(c.pending) == 0 && !c.commitWithNext, nil
}

func (c *tenantConn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if direct, err := c.direct(); err != nil || direct {
		if err != nil {
			return pgconn.CommandTag{}, err
		}
		return c.conn.Exec(ctx, sql, args...)
	}
	br, err := c.send(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	return tag, errors.Join(err, br.Close())
}

func (c *tenantConn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if direct, err := c.direct(); err != nil || direct {
		if err != nil {
			return nil, err
		}
		return c.conn.Query(ctx, sql, args...)
	}
	br, err := c.send(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (c *tenantConn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if direct, err := c.direct(); err != nil || direct {
		if err != nil {
			return errRow{err}
		}
		return c.conn.QueryRow(ctx, sql, args...)
	}
	br, err := c.send(ctx, sql, args)
	if err != nil {
		return errRow{err}
	}
	return batchRow{row: br.QueryRow(), br: br}
}

// batchRows closes the batch once its rows are read.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.err = r.br.Close()
	}
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	// Reading past the last row ends the pipeline, so that Err reports its failures.
	r.Close()
	return false
}

type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	return errors.Join(err, r.br.Close())
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
