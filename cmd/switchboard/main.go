// Command switchboard runs the Switchboard service.
//
//	switchboard serve      serve the API (the default); applies migrations first
//	switchboard migrate    apply the database migrations and exit
//	switchboard reprocess  apply spooled and failed webhook events again, and exit
//	switchboard verify-number <tenant> <number>  mark a provisioned number verified
//	switchboard move-workspace <user> <org>      move a personal workspace into an organisation
//	switchboard dev        serve a development instance (see `make run`)
//	switchboard simulate-call [-tenant T] [-url U]  play a whole call against it
//
// Configuration comes from the environment only; the README lists every variable.
package main

import (
	// Clinics' time zones, so that routing works on machines without a zoneinfo database.
	_ "time/tzdata"

	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/migrations"
	"github.com/switchboard-health/switchboard/internal/background"
	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/config"
	"github.com/switchboard-health/switchboard/internal/devenv"
	"github.com/switchboard-health/switchboard/internal/erasure"
	"github.com/switchboard-health/switchboard/internal/httpapi"
	"github.com/switchboard-health/switchboard/internal/lifecycle"
	"github.com/switchboard-health/switchboard/internal/logging"
	"github.com/switchboard-health/switchboard/internal/metrics"
	"github.com/switchboard-health/switchboard/internal/outbound"
	"github.com/switchboard-health/switchboard/internal/phonenumbers"
	"github.com/switchboard-health/switchboard/internal/routing"
	"github.com/switchboard-health/switchboard/internal/spool"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/twilio"
	"github.com/switchboard-health/switchboard/internal/vapi"
	"github.com/switchboard-health/switchboard/internal/workspace"
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
		return migrate(ctx, cfg, stdout)
	case "reprocess":
		return reprocess(ctx, cfg, stdout)
	case "dev":
		return dev(ctx, cfg, getenv, stdout, nil)
	case "simulate-call":
		return simulateCall(ctx, args[1:], stdout)
	case "verify-number":
		return verifyNumber(ctx, cfg, args[1:], stdout)
	case "move-workspace":
		return moveWorkspace(ctx, cfg, args[1:], stdout)
	default:
		return fmt.Errorf("unknown command %q: use serve, migrate, reprocess, verify-number, move-workspace, dev or simulate-call", command)
	}
}

// migrate applies the migrations and exits.
func migrate(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	pool, n, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
	return nil
}

// reprocess moves spooled VAPI messages into the inbox and applies the due events, once.
func reprocess(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	d, err := callsDeps(cfg, pool, newVAPI(cfg), newLogger(cfg, os.Stderr))
	if err != nil {
		return err
	}
	jobs := calls.NewJobs(d)
	spooled, err := jobs.DrainSpool(ctx)
	if err != nil {
		return err
	}
	n, err := jobs.Reprocess(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "moved %d spooled message(s) into the inbox, applied %d event(s)\n", spooled, n)
	return nil
}

// verifyNumber marks a tenant's registered number verified without a code, for numbers
// the operator provisioned: `switchboard verify-number <tenant> <number>`.
func verifyNumber(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return errors.New("usage: switchboard verify-number <tenant id> <phone number>")
	}
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	log := newLogger(cfg, os.Stderr)
	pn, err := numbersService(cfg, tenant.NewDB(pool), log).MarkVerified(ctx, tenant.ID(args[0]), args[1])
	if err != nil {
		return err
	}
	log.Info("number verified by the operator", slog.String("tenant", args[0]), slog.String("phone_number_id", pn.ID.String()))
	fmt.Fprintf(stdout, "%s is verified for %s: it routes calls now\n", pn.PhoneNumber, args[0])
	return nil
}

// moveWorkspace moves a user's personal workspace into an organisation:
// `switchboard move-workspace <user id> <organisation id>`.
func moveWorkspace(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return errors.New("usage: switchboard move-workspace <user id> <organisation id>")
	}
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	moved, err := workspace.Move(ctx, tenant.NewDB(pool), tenant.ID(args[0]), tenant.ID(args[1]))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "moved %d phone number(s), %d call(s), %d webhook event(s), %d assistant(s) and %d blocked caller(s) from %s into %s\n",
		moved.PhoneNumbers, moved.Calls, moved.WebhookEvents, moved.Assistants, moved.BlockedCallers, args[0], args[1])
	if moved.DroppedSettings > 0 {
		fmt.Fprintf(stdout, "the organisation's routing and callback rules stay; %d of %s's own were dropped\n", moved.DroppedSettings, args[0])
	}
	return nil
}

// dev serves a development instance over a local cluster and a signing key of its own,
// with demo clinics seeded and VAPI simulated, so that nothing reaches Twilio or VAPI.
// listening, when not nil, receives the address once it serves.
func dev(ctx context.Context, cfg config.Config, getenv func(string) string, stdout io.Writer, listening chan<- string) error {
	// Development mode invents a signing key and serves without Clerk: never in production.
	if env := strings.TrimSpace(getenv("APP_ENV")); env == "" || strings.EqualFold(env, config.Production) {
		return errors.New("dev refuses to run unless APP_ENV=development: it trusts a locally generated signing key, and APP_ENV unset means production")
	}
	env, err := devenv.Prepare(ctx, ".data", cfg.DatabaseURL, stdout)
	if err != nil {
		return err
	}
	if env.Stop != nil {
		defer env.Stop()
	}
	log := newLogger(config.Config{Env: config.Development, LogLevel: cfg.LogLevel}, os.Stderr)
	sim, err := devenv.StartSimulator(log)
	if err != nil {
		return err
	}
	defer sim.Close()
	cfg = devConfig(cfg, env, sim, getenv)
	if err := seed(ctx, cfg); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Try: curl -H \"Authorization: Bearer $TOKEN\" http://localhost:%d/api/calls\n", cfg.Port)
	fmt.Fprintf(stdout, "Play a whole call (Twilio, the VAPI simulator, the report): go run ./cmd/switchboard simulate-call\n")
	fmt.Fprintf(stdout, "Numbers you register route calls once verified: DATABASE_URL='%s' switchboard verify-number <tenant> <number>\n\n", cfg.DatabaseURL)
	addr := make(chan string, 1)
	go func() {
		if a, ok := <-addr; ok {
			sim.Deliver("http://" + a)
			if listening != nil {
				listening <- a
			}
		}
	}()
	return serve(ctx, cfg, log, addr)
}

// devConfig is the configuration of a development instance: loopback only, its own
// database and signing key, Twilio's and VAPI's credentials of its own, and the VAPI
// simulator in VAPI's place.
func devConfig(cfg config.Config, env devenv.Env, sim *devenv.Simulator, getenv func(string) string) config.Config {
	cfg.Env = config.Development
	cfg.BindHost = "127.0.0.1" // reachable from this machine only
	if getenv("SPOOL_DIR") == "" {
		cfg.SpoolDir = filepath.Join(".data", "spool")
	}
	cfg.DatabaseURL, cfg.ClerkJWTKey = env.DatabaseURL, env.ClerkJWTKey
	cfg.TwilioAuthToken, cfg.PublicBaseURL = devenv.TwilioToken, fmt.Sprintf("http://localhost:%d", cfg.Port)
	cfg.VapiBaseURL, cfg.VapiAPIKey, cfg.VapiWebhookSecret = sim.URL, devenv.VapiAPIKey, devenv.VapiSecret
	return cfg
}

// seed migrates the development database and gives the demo clinics their first calls.
func seed(ctx context.Context, cfg config.Config) error {
	pool, _, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	return devenv.Seed(ctx, tenant.NewDB(pool))
}

// openMigrated opens the pool and applies the pending migrations; it returns how many.
func openMigrated(ctx context.Context, cfg config.Config) (*pgxpool.Pool, int, error) {
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return nil, 0, err
	}
	n, err := migrations.Apply(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, 0, err
	}
	return pool, n, nil
}

func openPool(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	if cfg.DatabaseURL == "" {
		return nil, errors.New("DATABASE_URL is required")
	}
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	return pool, nil
}

// openCallerPool opens the pool kept for Twilio's voice and dial webhooks: a caller is
// on the line, and must not wait for a connection while reports, reads and background
// jobs hold every one of the main pool's (DATABASE_CALLER_CONNS of them).
func openCallerPool(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pc.MaxConns = int32(cfg.CallerConns)
	return pgxpool.NewWithConfig(ctx, pc)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Env == config.Development {
		return slog.New(logging.NewHandler(slog.NewTextHandler(w, opts)))
	}
	return slog.New(logging.NewHandler(slog.NewJSONHandler(w, opts)))
}

// defaultMemoryLimit is the Go runtime's soft memory limit when GOMEMLIMIT sets none.
const defaultMemoryLimit = 40 << 20

// limitMemory gives the runtime a soft memory limit unless the operator set one: near it
// the collector works harder instead of letting the heap double under a burst of
// requests. A heap that needs more still grows past it.
func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

// serve runs the API until ctx ends, then lets in-flight requests finish. listening, when
// not nil, receives the address once the server accepts connections.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, listening chan<- string) error {
	limitMemory()
	// A bad key stops the start before anything else is touched.
	verifier, err := tenant.NewVerifier(tenant.VerifierConfig{
		JWTKey:            cfg.ClerkJWTKey,
		SecretKey:         cfg.ClerkSecretKey,
		APIURL:            cfg.ClerkAPIURL,
		AuthorizedParties: cfg.ClerkAuthorizedParties,
	})
	if err != nil {
		return err
	}
	pool, n, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	log.Info("database ready", slog.Int("migrations_applied", n))
	callerPool, err := openCallerPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer callerPool.Close()
	s, err := assemble(cfg, pool, callerPool, verifier, log)
	if err != nil {
		return err
	}
	// The background work ends with ctx, and serve waits for it before closing the pool.
	var running sync.WaitGroup
	defer running.Wait()
	running.Go(func() { s.hub.Run(ctx) })
	running.Go(func() {
		if err := s.background.Run(ctx); err != nil {
			log.Error("background work stopped", slog.String("error", err.Error()))
		}
	})
	srv := &http.Server{
		Handler: s.handler,
		// Bounded everywhere, so a slow client cannot hold a connection for ever.
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Live streams never finish by themselves; ending them lets shutdown complete.
	srv.RegisterOnShutdown(s.hub.Close)
	return listenAndServe(ctx, srv, cfg, log, listening)
}

// service is the assembled service: what serves requests and what runs beside them.
type service struct {
	handler    http.Handler
	hub        *calls.Hub
	background *background.Runner
}

// assemble builds the service's parts over pool, with callerPool kept for what a caller on
// the line waits for.
func assemble(cfg config.Config, pool, callerPool *pgxpool.Pool, verifier *tenant.Verifier, log *slog.Logger) (service, error) {
	vapiClient := newVAPI(cfg)
	d, err := callsDeps(cfg, pool, vapiClient, log)
	if err != nil {
		return service{}, err
	}
	d.CallerDB = tenant.NewDB(callerPool)
	jobs := calls.NewJobs(d)
	m := metrics.New(metrics.Sources{Pool: pool, Inbox: jobs.InboxBacklog, Spool: jobs.SpoolLen})
	vapiClient.Observe(m.ObserveVAPI)
	s := service{hub: calls.NewHub(pool, log, cfg.StreamsPerTenant)}
	accounts, err := lifecycle.NewAccounts(d.DB, cfg.ClerkWebhookSecret, cfg.ClosedAccountGrace)
	if err != nil {
		return service{}, err
	}
	s.handler, err = httpapi.New(httpapi.Deps{
		Log:          log,
		DB:           d.DB,
		Verifier:     verifier,
		PhoneNumbers: numbersService(cfg, d.DB, log),
		Routing:      routing.NewSettings(d.DB, vapiClient, cfg.DefaultRegion, nil),
		Calls:        calls.NewReader(d),
		Intake:       calls.NewIntake(d),
		FollowUp:     calls.NewFollowUp(d),
		Endpoints:    outbound.NewEndpoints(d.DB, cfg.OutboundAllowPrivate),
		Eraser:       erasure.New(d.DB, cfg.DefaultRegion),
		Accounts:     accounts,
		Hub:          s.hub,
		Twilio:       twilio.NewVerifier(cfg.TwilioAuthToken, cfg.PublicBaseURL),
		VapiSecret:   cfg.VapiWebhookSecret,
		Metrics:      m,
		MetricsToken: cfg.MetricsToken,
		Proxies:      cfg.TrustedProxies,
		Origins:      cfg.AllowedOrigins,
	})
	if err != nil {
		return service{}, err
	}
	s.background, err = background.New(background.Config{
		Pool: pool, Jobs: jobs, Log: log,
		Interval: cfg.ReprocessInterval, ReconcileAfter: cfg.ReconcileAfter, SearchIndexRate: cfg.SearchIndexRate,
		InboxPayloadRetention: cfg.InboxPayloadRetention, InboxHeldRetention: cfg.InboxHeldRetention,
		Purger:        lifecycle.NewPurger(d.DB, log, nil, cfg.InboxHeldRetention+24*time.Hour),
		PurgeInterval: cfg.PurgeInterval,
		Deliverer:     outbound.NewDeliverer(outbound.DelivererConfig{DB: d.DB, Call: httpapi.WebhookCall, AllowPrivate: cfg.OutboundAllowPrivate, Log: log}),
	})
	return s, err
}

// listenAndServe serves srv on cfg.Port until ctx ends, then shuts it down gracefully.
func listenAndServe(ctx context.Context, srv *http.Server, cfg config.Config, log *slog.Logger, listening chan<- string) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.BindHost, strconv.Itoa(cfg.Port)))
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

// numbersService is the phone numbers' service, proving claims through Twilio Verify
// when it is configured.
func numbersService(cfg config.Config, db *tenant.DB, log *slog.Logger) *phonenumbers.Service {
	verify := twilio.NewVerifications(twilio.VerifyConfig{
		AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken,
		ServiceSID: cfg.TwilioVerifyServiceSID, BaseURL: cfg.TwilioVerifyURL,
	})
	return phonenumbers.NewService(db, cfg.DefaultRegion, verify, log)
}

// callsDeps are what the calls package's doors are built from.
func callsDeps(cfg config.Config, pool *pgxpool.Pool, vapiClient *vapi.Client, log *slog.Logger) (calls.Deps, error) {
	sp, err := spool.Open(cfg.SpoolDir)
	if err != nil {
		return calls.Deps{}, fmt.Errorf("SPOOL_DIR: %w", err)
	}
	return calls.Deps{
		DB: tenant.NewDB(pool), VAPI: vapiClient, Spool: sp, Region: cfg.DefaultRegion, Log: log,
		RecordingHosts: cfg.RecordingHosts,
		Recordings:     twilio.NewRecordings(cfg.TwilioAPIURL, cfg.TwilioAccountSID, cfg.TwilioAuthToken),
	}, nil
}

func newVAPI(cfg config.Config) *vapi.Client {
	return vapi.NewClient(cfg.VapiBaseURL, cfg.VapiAPIKey, cfg.VapiTimeout)
}
