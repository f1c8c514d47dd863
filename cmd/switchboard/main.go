// Command switchboard runs the Switchboard service.
//
//	switchboard serve     serve the API (the default); applies migrations first
//	switchboard migrate   apply the database migrations and exit
//	switchboard dev       serve a development instance (see `make run`)
//
// Configuration comes from the environment only; the README lists every variable.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/migrations"
	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/config"
	"github.com/switchboard-health/switchboard/internal/devenv"
	"github.com/switchboard-health/switchboard/internal/httpapi"
	"github.com/switchboard-health/switchboard/internal/phonenumbers"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	command := "serve"
	if len(args) > 0 {
		command = args[0]
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	switch command {
	case "serve":
		if err := cfg.ValidateServe(); err != nil {
			return err
		}
		return serve(ctx, cfg, newLogger(cfg, os.Stderr), nil)
	case "migrate":
		if cfg.DatabaseURL == "" {
			return errors.New("DATABASE_URL is required")
		}
		pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
		if err != nil {
			return err
		}
		defer pool.Close()
		n, err := migrations.Apply(ctx, pool)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
		return nil
	case "dev":
		// Development mode invents a signing key and serves without Clerk: never in production.
		if getenv("APP_ENV") == config.Production {
			return errors.New("dev refuses to run with APP_ENV=production: it trusts a locally generated signing key")
		}
		env, err := devenv.Prepare(ctx, ".data", cfg.DatabaseURL, stdout)
		if err != nil {
			return err
		}
		if env.Stop != nil {
			defer env.Stop()
		}
		cfg.Env = config.Development
		cfg.DatabaseURL = env.DatabaseURL
		cfg.ClerkJWTKey = env.ClerkJWTKey
		fmt.Fprintf(stdout, "Try: curl -H \"Authorization: Bearer $TOKEN\" http://localhost:%d/api/phone-numbers\n\n", cfg.Port)
		return serve(ctx, cfg, newLogger(cfg, os.Stderr), nil)
	default:
		return fmt.Errorf("unknown command %q: use serve, migrate or dev", command)
	}
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Env == config.Development {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// serve runs the API until ctx ends, then lets in-flight requests finish. listening, when
// not nil, receives the address once the server accepts connections.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, listening chan<- string) error {
	verifier, err := tenant.NewVerifier(tenant.VerifierConfig{
		JWTKey:            cfg.ClerkJWTKey,
		SecretKey:         cfg.ClerkSecretKey,
		APIURL:            cfg.ClerkAPIURL,
		AuthorizedParties: cfg.ClerkAuthorizedParties,
	})
	if err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer pool.Close()
	n, err := migrations.Apply(ctx, pool)
	if err != nil {
		return err
	}
	log.Info("database ready", slog.Int("migrations_applied", n))

	db := tenant.NewDB(pool)
	handler, err := httpapi.New(httpapi.Deps{
		Log:          log,
		Pool:         pool,
		Verifier:     verifier,
		PhoneNumbers: phonenumbers.NewService(db, cfg.DefaultRegion),
		Calls:        calls.NewService(db),
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: handler,
		// Bounded everywhere, so a slow client cannot hold a connection for ever.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		return err
	}
	log.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("env", cfg.Env))
	if listening != nil {
		listening <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", slog.Duration("timeout", cfg.ShutdownTimeout))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
