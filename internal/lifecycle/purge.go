package lifecycle

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// PurgeBatch is how many calls one purge statement touches at most: each batch is its own
// short transaction, so the rows it locks are few and held for milliseconds, and the
// webhooks, which write other rows, never wait behind it.
const PurgeBatch = 500

// Purger removes what clinics' retention windows let expire.
type Purger struct {
	db  *tenant.DB
	log *slog.Logger
	now func() time.Time
	// margin is how far before the previous run's cutoffs a run looks again: a report can
	// still arrive for an old call while its inbox event waits to be reprocessed (up to
	// the inbox's held retention), and a row locked during a run is skipped until the next.
	margin time.Duration
}

// NewPurger returns a Purger; margin is the inbox's held retention plus a day.
func NewPurger(db *tenant.DB, log *slog.Logger, now func() time.Time, margin time.Duration) *Purger {
	if now == nil {
		now = time.Now
	}
	return &Purger{db: db, log: log, now: now, margin: margin}
}

// Counts is what a purge removed.
type Counts struct {
	Clinics                        int
	Transcripts, Recordings, Calls int64
	// ClosedAccounts is how many closed accounts' data was deleted.
	ClosedAccounts int
}

func (c *Counts) add(o Counts) {
	c.Transcripts += o.Transcripts
	c.Recordings += o.Recordings
	c.Calls += o.Calls
}

func (c Counts) any() bool { return c.Transcripts+c.Recordings+c.Calls > 0 }

// Run purges every clinic's expired data and records the run, and for each clinic that
// lost anything, what and how much (the clinic reads it). A clinic that fails is logged
// and the others go on; the run's error is the first failure.
func (p *Purger) Run(ctx context.Context) (Counts, error) {
	var total Counts
	var run dbsqlc.StartRetentionRunRow
	var clinics []dbsqlc.RetentionClinicsRow
	err := p.db.Service(ctx, func(q *dbsqlc.Queries) (err error) {
		if run, err = q.StartRetentionRun(ctx); err != nil {
			return err
		}
		clinics, err = q.RetentionClinics(ctx)
		return err
	})
	if err != nil {
		return total, err
	}
	var failed error
	for _, c := range clinics {
		n, err := p.purgeClinic(ctx, run.ID, c)
		total.add(n)
		if err != nil {
			p.log.ErrorContext(ctx, "retention purge failed for a clinic", slog.String("tenant", c.UserID), slog.String("error", err.Error()))
			failed = errors.Join(failed, err)
		}
	}
	total.Clinics = len(clinics)
	closed, err := p.deleteClosed(ctx)
	total.ClosedAccounts = closed
	failed = errors.Join(failed, err)
	var msg *string
	if failed != nil {
		s := failed.Error()
		msg = &s
	}
	// The run is recorded as it ended even when ctx was cancelled (the service stopping).
	finish := context.WithoutCancel(ctx)
	err = p.db.Service(finish, func(q *dbsqlc.Queries) error {
		return q.FinishRetentionRun(finish, dbsqlc.FinishRetentionRunParams{ID: run.ID, Clinics: int32(total.Clinics),
			Transcripts: total.Transcripts, Recordings: total.Recordings, Calls: total.Calls, Error: msg})
	})
	return total, errors.Join(failed, err)
}

// purgeClinic applies one clinic's windows: from where the last run stopped (less the
// margin) to each cutoff, batch by batch.
func (p *Purger) purgeClinic(ctx context.Context, runID int64, c dbsqlc.RetentionClinicsRow) (Counts, error) {
	w := Retention{Transcripts: c.TranscriptRetentionDays, Recordings: c.RecordingRetentionDays, Calls: c.CallRetentionDays}.Effective(c.HipaaMode)
	now := p.now()
	cut := func(days int) time.Time { return now.Add(-time.Duration(days) * 24 * time.Hour) }
	transcripts, recordings, calls := cut(w.Transcripts), cut(w.Recordings), cut(w.Calls)
	var n Counts
	var err error
	if n.Calls, err = p.drain(ctx, func(q *dbsqlc.Queries) (int64, error) {
		return q.PurgeCallRecords(ctx, dbsqlc.PurgeCallRecordsParams{UserID: c.UserID, StartedFrom: p.from(c.CallsThrough), StartedBefore: calls, BatchSize: PurgeBatch})
	}); err != nil {
		return n, err
	}
	if n.Transcripts, err = p.drain(ctx, func(q *dbsqlc.Queries) (int64, error) {
		return q.PurgeTranscripts(ctx, dbsqlc.PurgeTranscriptsParams{UserID: c.UserID, StartedFrom: p.from(c.TranscriptsThrough), StartedBefore: transcripts, BatchSize: PurgeBatch})
	}); err != nil {
		return n, err
	}
	if n.Recordings, err = p.drain(ctx, func(q *dbsqlc.Queries) (int64, error) {
		return q.PurgeRecordings(ctx, dbsqlc.PurgeRecordingsParams{UserID: c.UserID, StartedFrom: p.from(c.RecordingsThrough), StartedBefore: recordings, BatchSize: PurgeBatch})
	}); err != nil {
		return n, err
	}
	return n, p.db.Service(ctx, func(q *dbsqlc.Queries) error {
		if n.any() {
			if err := q.RecordRetentionPurge(ctx, dbsqlc.RecordRetentionPurgeParams{UserID: c.UserID, RunID: runID,
				Transcripts: n.Transcripts, Recordings: n.Recordings, Calls: n.Calls,
				TranscriptsBefore: transcripts, RecordingsBefore: recordings, CallsBefore: calls}); err != nil {
				return err
			}
		}
		return q.SaveRetentionProgress(ctx, dbsqlc.SaveRetentionProgressParams{UserID: c.UserID,
			TranscriptsThrough: &transcripts, RecordingsThrough: &recordings, CallsThrough: &calls})
	})
}

// from is where a run starts looking: the last run's cutoff less the margin, or the
// beginning when no run has purged this clinic yet.
func (p *Purger) from(through *time.Time) time.Time {
	if through == nil {
		return time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return through.Add(-p.margin)
}

// purgeRest is how long the purge rests after a batch, in multiples of the batch's own
// time: it works at most a quarter of the time, so that a large backlog (the first run
// after windows are shortened) takes a quarter of a core of PostgreSQL, not a whole one
// that the webhooks need. Nothing waits for a purge.
const purgeRest = 3

// drain runs one batch statement until a batch comes back short, resting after each.
func (p *Purger) drain(ctx context.Context, batch func(q *dbsqlc.Queries) (int64, error)) (int64, error) {
	var total int64
	for {
		var n int64
		start := time.Now()
		err := p.db.Service(ctx, func(q *dbsqlc.Queries) (err error) {
			n, err = batch(q)
			return err
		})
		total += n
		if err != nil {
			return total, err
		}
		// After every statement, the last of a clinic's too: a run over a thousand small
		// clinics is as long a burst as one over a large clinic.
		rest := time.NewTimer(purgeRest * time.Since(start))
		select {
		case <-ctx.Done():
			rest.Stop()
			return total, ctx.Err()
		case <-rest.C:
		}
		if n < PurgeBatch {
			return total, nil
		}
	}
}

// deleteClosed deletes the data of the accounts closed longer ago than their grace
// period: the calls batch by batch as the call window does, then the audit log in
// batches, then the rest; the closed_tenants row records when.
func (p *Purger) deleteClosed(ctx context.Context) (int, error) {
	var due []string
	if err := p.db.Service(ctx, func(q *dbsqlc.Queries) (err error) {
		due, err = q.DueClosedTenants(ctx, p.now())
		return err
	}); err != nil {
		return 0, err
	}
	everything := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range due {
		steps := []func(q *dbsqlc.Queries) (int64, error){
			func(q *dbsqlc.Queries) (int64, error) {
				return q.PurgeCallRecords(ctx, dbsqlc.PurgeCallRecordsParams{UserID: id, StartedFrom: p.from(nil), StartedBefore: everything, BatchSize: PurgeBatch})
			},
			func(q *dbsqlc.Queries) (int64, error) {
				return q.DeleteTenantAudit(ctx, dbsqlc.DeleteTenantAuditParams{UserID: id, BatchSize: PurgeBatch})
			},
		}
		for _, step := range steps {
			if _, err := p.drain(ctx, step); err != nil {
				return i, err
			}
		}
		if err := p.db.Service(ctx, func(q *dbsqlc.Queries) error { return q.DeleteTenantRemains(ctx, id) }); err != nil {
			return i, err
		}
		p.log.InfoContext(ctx, "a closed account's data was deleted", slog.String("tenant", id))
	}
	return len(due), nil
}
