package background

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/outbound"
)

// deliverArgs asks for one delivery of an outbound webhook.
type deliverArgs struct {
	DeliveryID uuid.UUID `json:"delivery_id"`
}

func (deliverArgs) Kind() string { return "deliver_webhook" }

// deliveryAttempts and the retry delays spread a delivery's attempts over about three days:
// 30 s, doubling each time, at most 6 h apart.
const deliveryAttempts = 20

// deliveryQueue is the River queue deliveries wait in, and deliveryWorkers how many it
// works at once on a replica: an attempt mostly waits for the endpoint.
const (
	deliveryQueue   = "webhooks"
	deliveryWorkers = 20
)

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	d         *outbound.Deliverer
	retryBase time.Duration
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	outcome, err := w.d.Deliver(ctx, job.Args.DeliveryID, job.Attempt >= job.MaxAttempts)
	switch outcome {
	case outbound.Delivered, outbound.Gone:
		return err
	case outbound.Wait:
		// An earlier event about the call is on its way; this one follows it.
		return river.JobSnooze(w.retryBase)
	}
	return err
}

// NextRetry backs off exponentially from retryBase, capped at 6 h.
func (w *deliverWorker) NextRetry(job *river.Job[deliverArgs]) time.Time {
	delay := w.retryBase
	for i := 1; i < job.Attempt && delay < 6*time.Hour; i++ {
		delay *= 2
	}
	return time.Now().Add(min(delay, 6*time.Hour))
}

// dispatchDeliveries moves the outbox's deliveries into River every interval: each batch
// is claimed and its jobs inserted in one transaction, so a delivery is queued once.
func (r *Runner) dispatchDeliveries(ctx context.Context) {
	every(ctx, r.cfg.DispatchEvery, func() {
		for ctx.Err() == nil {
			n, err := r.dispatchBatch(ctx)
			if err != nil {
				if ctx.Err() == nil {
					r.cfg.Log.Warn("webhook deliveries not queued", slog.String("error", err.Error()))
				}
				return
			}
			if n < dispatchBatch {
				return
			}
		}
	})
}

const dispatchBatch = 500

func (r *Runner) dispatchBatch(ctx context.Context) (int, error) {
	tx, err := r.cfg.Pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	ids, err := dbsqlc.New(tx).ClaimPendingDeliveries(ctx, dispatchBatch)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i] = river.InsertManyParams{Args: deliverArgs{DeliveryID: id}, InsertOpts: &river.InsertOpts{MaxAttempts: deliveryAttempts, Queue: deliveryQueue}}
	}
	if _, err := r.river.InsertManyTx(ctx, tx, params); err != nil {
		return 0, err
	}
	return len(ids), tx.Commit(ctx)
}
