package tenant

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
)

// Role is the NOLOGIN role, created by the migrations, that tenant transactions switch to.
// It does not bypass row-level security, so the policies hold whatever the login role is.
const Role = "switchboard_tenant"

// DB is the only door to tenant data: it runs work inside one tenant's transaction.
type DB struct {
	pool *pgxpool.Pool
}

// NewDB returns a DB over pool.
func NewDB(pool *pgxpool.Pool) *DB { return &DB{pool: pool} }

// Tx runs fn in a transaction where the tenant is set and row-level security confines
// every statement to the tenant's rows. The transaction commits when fn returns nil and
// rolls back otherwise; fn's error is returned as it is.
//
// BEGIN, the tenant setting and the role switch travel as one pipelined batch, so the
// transaction costs one round trip more than the queries inside it plus the COMMIT.
func (db *DB) Tx(ctx context.Context, id ID, fn func(q *dbsqlc.Queries) error) error {
	return db.inTx(ctx, id, func(conn dbsqlc.DBTX) error { return fn(dbsqlc.New(conn)) })
}

func (db *DB) inTx(ctx context.Context, id ID, fn func(conn dbsqlc.DBTX) error) error {
	if id == "" {
		// An empty tenant would match no row anyway; refusing here makes the mistake loud.
		return errs.E(errs.Unauthorized, "unauthorized", "No tenant in this request.")
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return DatabaseError(err)
	}
	// A connection released while still inside a transaction (after a failed ROLLBACK) is
	// closed by the pool rather than reused, so no tenant setting can leak to the next user.
	defer conn.Release()

	batch := &pgx.Batch{}
	batch.Queue("BEGIN")
	batch.Queue("SELECT set_config('app.user_id', $1, true)", string(id))
	batch.Queue("SET LOCAL ROLE " + Role)
	if err := conn.SendBatch(ctx, batch).Close(); err != nil {
		rollback(conn)
		return DatabaseError(err)
	}
	if err := fn(conn); err != nil {
		rollback(conn)
		return DatabaseError(err)
	}
	if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
		return DatabaseError(err)
	}
	return nil
}

func rollback(conn *pgxpool.Conn) {
	// A fresh context: the caller's may be what was cancelled.
	_, _ = conn.Exec(context.Background(), "ROLLBACK")
}
