// Package devenv prepares a development instance for `switchboard dev` (`make run`): a
// local PostgreSQL cluster under ./.data when no DATABASE_URL is given, a signing key that
// stands in for Clerk's, and ready bearer tokens for two demo tenants.
package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-health/switchboard/internal/devtoken"
	"github.com/switchboard-health/switchboard/internal/pgcluster"
)

// DemoTenants are the tenants `make run` prints tokens for.
var DemoTenants = []string{"user_demo_clinic_a", "user_demo_clinic_b"}

// Env is what a development instance runs with.
type Env struct {
	DatabaseURL string
	ClerkJWTKey string
	// Stop stops the cluster Prepare started; nil when it started none.
	Stop func()
}

// Prepare readies dir (usually ./.data) and prints the demo tokens to out. databaseURL,
// when not empty, is used instead of a local cluster.
func Prepare(ctx context.Context, dir, databaseURL string, out io.Writer) (Env, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Env{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Env{}, err
	}
	env := Env{DatabaseURL: databaseURL}
	if env.DatabaseURL == "" {
		cluster, err := pgcluster.Start(pgcluster.Options{
			DataDir:   filepath.Join(dir, "pg"),
			SocketDir: filepath.Join(dir, "sock"),
			Durable:   true,
		})
		if err != nil {
			return Env{}, fmt.Errorf("starting the local PostgreSQL under %s: %w", dir, err)
		}
		env.Stop = func() { _ = cluster.Stop(false) }
		if err := ensureDatabase(ctx, cluster.URL("postgres"), "switchboard"); err != nil {
			env.Stop()
			return Env{}, err
		}
		env.DatabaseURL = cluster.URL("switchboard")
	}

	signer, err := loadOrCreateSigner(filepath.Join(dir, "dev-signing-key.pem"))
	if err != nil {
		return Env{}, err
	}
	env.ClerkJWTKey = signer.PublicPEM()

	fmt.Fprintln(out, "Development tokens (valid 30 days), one per demo tenant:")
	for _, sub := range DemoTenants {
		tok, err := signer.Token(devtoken.Claims{Subject: sub, Expiry: time.Now().Add(30 * 24 * time.Hour)})
		if err != nil {
			return Env{}, err
		}
		fmt.Fprintf(out, "\n  %s:\n  export TOKEN=%s\n", sub, tok)
	}
	fmt.Fprintln(out)
	return env, nil
}

func ensureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

func loadOrCreateSigner(path string) (*devtoken.Signer, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return devtoken.LoadSigner(b)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	s, err := devtoken.NewSigner()
	if err != nil {
		return nil, err
	}
	return s, os.WriteFile(path, s.PrivatePEM(), 0o600)
}
