// Package background runs Switchboard's background work. The periodic jobs that need to
// run once for the whole deployment (reprocessing the inbox, reconciling calls left open,
// pruning live-update history, purging what retention windows let expire) are River periodic jobs: with several replicas, River's
// elected leader schedules each, any replica works it, and River retries a failed run
// with backoff. Two loops stay on every replica, because their work is the replica's
// own: draining the local spool, and indexing transcripts for search at this replica's
// pace (see calls.SearchIndexer).
package background

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/lifecycle"
	"github.com/switchboard-health/switchboard/internal/outbound"
)

// Config is what the background work needs.
type Config struct {
	Pool *pgxpool.Pool
	Jobs *calls.Jobs
	Log  *slog.Logger
	// Interval is how often the periodic jobs run and the spool is drained
	// (REPROCESS_INTERVAL).
	Interval time.Duration
	// ReconcileAfter is how long a call may stay open before it is checked with VAPI.
	ReconcileAfter time.Duration
	// SearchIndexRate is how many transcripts a second this replica indexes.
	SearchIndexRate int
	// InboxPayloadRetention and InboxHeldRetention are how long applied, and failed or
	// unattributed, inbox events keep their payloads (defaults 72 h and 30 days).
	InboxPayloadRetention, InboxHeldRetention time.Duration
	// Purger applies retention windows every PurgeInterval (default an hour); nil: never.
	Purger        *lifecycle.Purger
	PurgeInterval time.Duration
	// Deliverer sends outbound webhooks; nil sends none (the outbox then keeps them).
	Deliverer *outbound.Deliverer
	// DispatchEvery is how often the outbox is moved into River (default 250 ms), and
	// RetryBase the first delay before a failed delivery is tried again (default 30 s).
	DispatchEvery, RetryBase time.Duration
	// FetchPollInterval is how often River looks for jobs (default River's, 1 s).
	FetchPollInterval time.Duration
}

// Runner is the background work of one replica.
type Runner struct {
	cfg   Config
	river *river.Client[pgx.Tx]
}

// New builds the runner; Run starts it.
func New(cfg Config) (*Runner, error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &reprocessWorker{jobs: cfg.Jobs, log: cfg.Log})
	river.AddWorker(workers, &reconcileWorker{jobs: cfg.Jobs, after: cfg.ReconcileAfter})
	if cfg.InboxPayloadRetention == 0 {
		cfg.InboxPayloadRetention, cfg.InboxHeldRetention = 72*time.Hour, 720*time.Hour
	}
	river.AddWorker(workers, &pruneWorker{jobs: cfg.Jobs, deliverer: cfg.Deliverer, log: cfg.Log, applied: cfg.InboxPayloadRetention, held: cfg.InboxHeldRetention})
	periodicJobs := []*river.PeriodicJob{
		periodic(cfg.Interval, reprocessArgs{}),
		periodic(cfg.Interval, reconcileArgs{}),
		periodic(cfg.Interval, pruneArgs{}),
	}
	if cfg.Purger != nil {
		if cfg.PurgeInterval == 0 {
			cfg.PurgeInterval = time.Hour
		}
		river.AddWorker(workers, &purgeWorker{purger: cfg.Purger, log: cfg.Log})
		periodicJobs = append(periodicJobs, periodic(cfg.PurgeInterval, purgeArgs{}))
	}
	if cfg.DispatchEvery == 0 {
		cfg.DispatchEvery = 250 * time.Millisecond
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase = 30 * time.Second
	}
	if cfg.Deliverer != nil {
		river.AddWorker(workers, &deliverWorker{d: cfg.Deliverer, retryBase: cfg.RetryBase})
	}
	client, err := river.NewClient(riverpgxv5.New(cfg.Pool), &river.Config{
		FetchPollInterval: cfg.FetchPollInterval,
		// River fetches more jobs as workers finish, at most once per cooldown: with its
		// default (100 ms) deliveries would stop at a queue's workers ten times a second.
		FetchCooldown: 10 * time.Millisecond,
		Logger:        cfg.Log,
		// Deliveries have a queue of their own: endpoints slow to answer never hold up the
		// periodic jobs.
		Queues:       map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}, deliveryQueue: {MaxWorkers: deliveryWorkers}},
		Workers:      workers,
		PeriodicJobs: periodicJobs,
		// No LISTEN/NOTIFY: a notification takes a database-wide lock at commit that
		// serialises every committing transaction (see migration 00007), and these jobs
		// can wait for the next poll.
		PollOnly:   true,
		JobTimeout: 10 * time.Minute,
	})
	if err != nil {
		return nil, err
	}
	return &Runner{cfg: cfg, river: client}, nil
}

// periodic schedules args every interval, and once at start. A run still waiting or
// working keeps the next one from being queued beside it.
func periodic(interval time.Duration, args river.JobArgs) *river.PeriodicJob {
	opts := &river.InsertOpts{
		MaxAttempts: 5,
		UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled,
		}},
	}
	return river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return args, opts },
		&river.PeriodicJobOpts{RunOnStart: true})
}

// Run works until ctx ends, then stops River, letting jobs in progress finish.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.river.Start(ctx); err != nil {
		return err
	}
	var loops sync.WaitGroup
	loops.Go(func() { r.drainSpoolEvery(ctx) })
	loops.Go(func() { r.indexSearch(ctx) })
	if r.cfg.Deliverer != nil {
		loops.Go(func() { r.dispatchDeliveries(ctx) })
	}
	loops.Wait()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return r.river.Stop(stopCtx)
}

// drainSpoolEvery moves this replica's spooled VAPI messages into the inbox every
// interval: the spool is on this replica's disk, so no other replica can drain it.
func (r *Runner) drainSpoolEvery(ctx context.Context) {
	every(ctx, r.cfg.Interval, func() {
		if n, err := r.cfg.Jobs.DrainSpool(ctx); err != nil {
			r.cfg.Log.Warn("spool not drained", slog.String("error", err.Error()), slog.Int("moved", n))
		} else if n > 0 {
			r.cfg.Log.Info("spool drained", slog.Int("moved", n))
		}
	})
}

// indexSearch keeps full-text search up to date, a pass a second.
func (r *Runner) indexSearch(ctx context.Context) {
	indexer := r.cfg.Jobs.SearchIndexer(r.cfg.SearchIndexRate)
	every(ctx, time.Second, func() {
		if _, err := indexer.Pass(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Log.Warn("search indexing failed", slog.String("error", err.Error()))
		}
	})
}

// every runs fn now and then every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for ctx.Err() == nil {
		fn()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}
