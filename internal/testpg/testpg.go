// Package testpg gives tests real PostgreSQL databases: each test gets a fresh database
// cloned from a template that was migrated once. The server is TEST_DATABASE_URL when set
// (its role needs CREATEDB), otherwise a private throwaway cluster on a unix socket in a
// temporary directory, with fsync off. There is no mock of the database.
package testpg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/migrations"
	"github.com/switchboard-health/switchboard/internal/pgcluster"
)

var (
	adminURL string // a database on the server we may create databases from
	template string // the migrated template's name
	urlFor   func(database string) string
	setupErr error
	once     sync.Once
	cleanup  []func()
)

// Main runs a package's tests and then removes what the package created. Every package
// with database tests calls it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	for i := len(cleanup) - 1; i >= 0; i-- {
		cleanup[i]()
	}
	return code
}

func setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if env := os.Getenv("TEST_DATABASE_URL"); env != "" {
		if _, err := pgx.ParseConfig(env); err != nil {
			return fmt.Errorf("TEST_DATABASE_URL: %w", err)
		}
		adminURL = env
		urlFor = func(database string) string { return withDatabase(env, database) }
	} else {
		dir, err := os.MkdirTemp("", "switchboard-testpg-")
		if err != nil {
			return err
		}
		// The server may run as the postgres OS user, which must be able to reach the dir.
		if err := os.Chmod(dir, 0o755); err != nil {
			return err
		}
		cluster, err := pgcluster.Start(pgcluster.Options{
			DataDir:   filepath.Join(dir, "data"),
			SocketDir: filepath.Join(dir, "sock"),
		})
		if err != nil {
			os.RemoveAll(dir)
			return err
		}
		cleanup = append(cleanup, func() {
			_ = cluster.Stop(true)
			_ = os.RemoveAll(dir)
		})
		adminURL = cluster.URL("postgres")
		urlFor = cluster.URL
	}
	template = "switchboard_tmpl_" + randomSuffix()
	if err := createDatabase(ctx, template, ""); err != nil {
		return err
	}
	cleanup = append(cleanup, func() { dropDatabase(template) })
	pool, err := pgxpool.New(ctx, urlFor(template))
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := migrations.Apply(ctx, pool); err != nil {
		return err
	}
	return nil
}

// URL returns the connection string of a fresh, migrated database that is dropped when
// the test ends. The database is empty but for the schema.
func URL(t testing.TB) string {
	t.Helper()
	return fresh(t, true)
}

// EmptyURL returns the connection string of a fresh database without the schema, dropped
// when the test ends: for tests of the migrations themselves.
func EmptyURL(t testing.TB) string {
	t.Helper()
	return fresh(t, false)
}

func fresh(t testing.TB, migrated bool) string {
	t.Helper()
	once.Do(func() { setupErr = setup() })
	if setupErr != nil {
		// Never a skip: a test that cannot reach PostgreSQL has failed.
		t.Fatalf("testpg: no PostgreSQL for tests: %v", setupErr)
	}
	name := "switchboard_test_" + randomSuffix()
	from := ""
	if migrated {
		from = template
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := createDatabase(ctx, name, from); err != nil {
		t.Fatalf("testpg: %v", err)
	}
	t.Cleanup(func() { dropDatabase(name) })
	return urlFor(name)
}

// New returns a pool on a fresh, migrated database, closed and dropped when the test ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("testpg: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func createDatabase(ctx context.Context, name, fromTemplate string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if fromTemplate != "" {
		sql += " TEMPLATE " + pgx.Identifier{fromTemplate}.Sanitize()
	}
	// Clones from one template may not overlap with each other on some versions; retry.
	for attempt := 0; ; attempt++ {
		_, err = conn.Exec(ctx, sql)
		if err == nil || attempt == 20 {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func dropDatabase(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

// withDatabase points a connection string (URL or key=value form) at another database.
func withDatabase(connString, database string) string {
	if u, err := url.Parse(connString); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Del("dbname")
		u.RawQuery = q.Encode()
		u.Path = "/" + database
		return u.String()
	}
	// In the key=value form a later key overrides an earlier one.
	return connString + " dbname=" + database
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Unreachable returns a pool on a port where nothing listens: a database that is down.
func Unreachable(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), "postgres://switchboard@127.0.0.1:1/switchboard?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
