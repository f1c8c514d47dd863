package migrations

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// lockKey is the session-level advisory lock that Apply holds while it migrates; goose's
// own default key, so an older binary that locks with goose waits for this one and the
// other way round.
const lockKey int64 = 5887940537704921958

// Apply brings the database up to the newest migration: the service's own (goose, the
// files beside this one) and then River's job tables (rivermigrate). It holds one
// PostgreSQL session lock while it works, so replicas that start together apply each
// migration once. It returns how many migrations it applied.
func Apply(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return 0, fmt.Errorf("migrations: taking the lock: %w", err)
	}
	defer func() {
		// A fresh context: the caller's may be what ended. Should the unlock fail, the
		// session's end releases the lock, so the connection is not reused.
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()

	db := stdlib.OpenDBFromPool(pool) // closing db leaves the pool open
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, FS)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return 0, fmt.Errorf("migrations: River: %w", err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return 0, fmt.Errorf("migrations: River: %w", err)
	}
	return len(results) + len(res.Versions), nil
}

// Count is how many migrations Apply applies to an empty database.
func Count() (int, error) {
	entries, err := FS.ReadDir(".")
	if err != nil {
		return 0, err
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return 0, err
	}
	return len(entries) + len(migrator.AllVersions()), nil
}
