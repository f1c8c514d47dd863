package background

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/lifecycle"
	"github.com/switchboard-health/switchboard/internal/outbound"
)

// reprocessArgs asks for one pass over the inbox's due events.
type reprocessArgs struct{}

func (reprocessArgs) Kind() string { return "reprocess_inbox" }

type reprocessWorker struct {
	river.WorkerDefaults[reprocessArgs]
	jobs *calls.Jobs
	log  *slog.Logger
}

func (w *reprocessWorker) Work(ctx context.Context, _ *river.Job[reprocessArgs]) error {
	n, err := w.jobs.Reprocess(ctx)
	if n > 0 {
		w.log.InfoContext(ctx, "reprocessed webhook events", slog.Int("attempted", n))
	}
	return err
}

// reconcileArgs asks for one pass over the calls left open.
type reconcileArgs struct{}

func (reconcileArgs) Kind() string { return "reconcile_open_calls" }

type reconcileWorker struct {
	river.WorkerDefaults[reconcileArgs]
	jobs  *calls.Jobs
	after time.Duration
}

func (w *reconcileWorker) Work(ctx context.Context, _ *river.Job[reconcileArgs]) error {
	_, err := w.jobs.Reconcile(ctx, w.after)
	return err
}

// pruneArgs asks for the live-update history older than a day to be dropped.
type pruneArgs struct{}

func (pruneArgs) Kind() string { return "prune_call_events" }

type pruneWorker struct {
	river.WorkerDefaults[pruneArgs]
	jobs          *calls.Jobs
	deliverer     *outbound.Deliverer // nil: no outbound webhooks to prune
	log           *slog.Logger
	applied, held time.Duration
}

// Work drops live-update history older than a day, the inbox payloads past their
// retention, and finished outbound deliveries past theirs.
func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[pruneArgs]) error {
	if err := w.jobs.PruneEvents(ctx); err != nil {
		return err
	}
	n, err := w.jobs.PruneInbox(ctx, w.applied, w.held)
	if n > 0 {
		w.log.InfoContext(ctx, "inbox payloads dropped past their retention", slog.Int64("events", n))
	}
	if err != nil || w.deliverer == nil {
		return err
	}
	if n, err = w.deliverer.Prune(ctx); n > 0 {
		w.log.InfoContext(ctx, "finished webhook deliveries deleted past their retention", slog.Int64("deliveries", n))
	}
	return err
}

// purgeArgs asks for one run of the retention purge.
type purgeArgs struct{}

func (purgeArgs) Kind() string { return "purge_expired_data" }

type purgeWorker struct {
	river.WorkerDefaults[purgeArgs]
	purger *lifecycle.Purger
	log    *slog.Logger
}

// Timeout lets a run take longer than River's default job timeout: the first run over a
// large backlog rests between its batches and may take an hour or more. A run still
// working keeps the next from being queued.
func (w *purgeWorker) Timeout(*river.Job[purgeArgs]) time.Duration { return 12 * time.Hour }

// Work applies every clinic's retention windows and deletes closed accounts' data past
// their grace period.
func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[purgeArgs]) error {
	n, err := w.purger.Run(ctx)
	if n.Transcripts+n.Recordings+n.Calls > 0 {
		w.log.InfoContext(ctx, "retention purge", slog.Int("clinics", n.Clinics), slog.Int64("transcripts", n.Transcripts),
			slog.Int64("recordings", n.Recordings), slog.Int64("calls", n.Calls))
	}
	return err
}
