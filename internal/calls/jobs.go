package calls

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/spool"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/vapi"
)

// Jobs is the background work on calls: reprocessing the inbox, draining the spool,
// reconciling calls left open, indexing transcripts for search and pruning live-update
// history. Each job is one method that does one pass; what schedules them is the caller's
// (River's periodic jobs in serve, `switchboard reprocess`, the tests).
type Jobs struct {
	rec   *recorder
	vapi  *vapi.Client
	spool *spool.Spool
	log   *slog.Logger
}

// NewJobs returns the Jobs.
func NewJobs(d Deps) *Jobs {
	return &Jobs{rec: d.recorder(), vapi: d.VAPI, spool: d.Spool, log: d.Log}
}

// maxAttempts bounds reprocessing; an event that failed this often waits for an operator.
const maxAttempts = 10

// Reprocess applies the inbox's due events again: those whose processing failed, and
// those left pending by a process that stopped before applying them. Applying is
// idempotent, so an event applied twice ends as if applied once. It returns how many
// events it attempted.
func (j *Jobs) Reprocess(ctx context.Context) (int, error) {
	n := 0
	for {
		var events []dbsqlc.ClaimDueWebhookEventsRow
		err := j.rec.db.Service(ctx, func(q *dbsqlc.Queries) (err error) {
			events, err = q.ClaimDueWebhookEvents(ctx, dbsqlc.ClaimDueWebhookEventsParams{MaxAttempts: maxAttempts, BatchSize: 50})
			return err
		})
		if err != nil || len(events) == 0 {
			return n, err
		}
		for _, ev := range events {
			_, _ = j.rec.applyStored(ctx, ev.ID, func(ctx context.Context, s *tenant.Session) (result, error) {
				return j.rec.reapply(ctx, s, ev)
			})
			n++
		}
	}
}

// DrainSpool moves spooled VAPI messages into the inbox and applies them, oldest first.
// It stops at the first one the database does not take, and returns how many it moved.
func (j *Jobs) DrainSpool(ctx context.Context) (int, error) {
	if j.spool == nil {
		return 0, nil
	}
	names, err := j.spool.Names()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		rec, err := j.spool.Get(name)
		if err != nil {
			j.log.ErrorContext(ctx, "unreadable spool record left in place", slog.String("name", name), slog.String("error", err.Error()))
			continue
		}
		_, _, err = j.rec.receiveVapi(ctx, rec.Body, rec.Headers, &rec.ReceivedAt)
		if errs.Is(err, errs.Unavailable) {
			return n, err
		}
		// In the inbox now, applied or kept there for reprocessing.
		if err := j.spool.Remove(name); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// InboxBacklog returns how many events wait to be applied and how long the oldest failed
// one has waited.
func (j *Jobs) InboxBacklog(ctx context.Context) (int64, time.Duration, error) {
	var row dbsqlc.InboxBacklogRow
	err := j.rec.db.Service(ctx, func(q *dbsqlc.Queries) (err error) {
		row, err = q.InboxBacklog(ctx)
		return err
	})
	return row.Backlog, time.Duration(row.OldestFailedSeconds * float64(time.Second)), err
}

// SpoolLen returns how many VAPI messages wait on local disk.
func (j *Jobs) SpoolLen() int {
	if j.spool == nil {
		return 0
	}
	return j.spool.Len()
}

// PruneEvents drops live-update history older than a day.
func (j *Jobs) PruneEvents(ctx context.Context) error {
	return j.rec.db.Service(ctx, func(q *dbsqlc.Queries) error {
		_, err := q.PruneCallEvents(ctx)
		return err
	})
}

// PruneInbox drops the payloads of events past their retention (applied or ignored ones
// older than applied, failed and unattributed ones older than held), a thousand at a
// time, each batch its own short transaction so that no lock is held for long; it returns
// how many it dropped.
func (j *Jobs) PruneInbox(ctx context.Context, applied, held time.Duration) (int64, error) {
	var total int64
	for {
		var n int64
		err := j.rec.db.Service(ctx, func(q *dbsqlc.Queries) (err error) {
			now := time.Now()
			n, err = q.PruneInboxPayloads(ctx, dbsqlc.PruneInboxPayloadsParams{
				AppliedBefore: now.Add(-applied), HeldBefore: now.Add(-held), BatchSize: inboxPruneBatch})
			return err
		})
		total += n
		if err != nil || n < inboxPruneBatch {
			return total, err
		}
	}
}

const inboxPruneBatch = 1000

// IndexSearch computes up to max of the search vectors that reports made stale, and
// returns how many it computed. Parsing an 18 KB transcript into a tsvector costs
// PostgreSQL 2 to 5 ms, several times what storing the report does, so serve does it in
// the background, through a SearchIndexer.
func (j *Jobs) IndexSearch(ctx context.Context, max int) (int, error) {
	total := 0
	for total < max {
		var n int64
		err := j.rec.db.Service(ctx, func(q *dbsqlc.Queries) (err error) {
			n, err = q.IndexStaleCallSearch(ctx, int32(min(max-total, 100)))
			return err
		})
		total += int(n)
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, nil
}

// SearchIndexer keeps search up to date in the background without competing with the
// requests: each pass (serve makes one a second) indexes up to rate reports, but only a
// tenth of that when requests had to wait for a database connection since the last pass.
// A burst of reports is then indexed mostly after it, and a report is searchable about a
// second after it arrived otherwise.
//
// It stays a loop of its own rather than a River job: it runs every second on every
// replica (SKIP LOCKED shares the work), and its pace follows this replica's own pool,
// which a job on the elected leader could not see.
type SearchIndexer struct {
	jobs  *Jobs
	rate  int
	waits int64 // the pool's count of acquisitions that had to wait, at the last pass
}

// SearchIndexer returns an indexer that indexes up to rate reports a pass.
func (j *Jobs) SearchIndexer(rate int) *SearchIndexer {
	return &SearchIndexer{jobs: j, rate: rate, waits: j.rec.db.Waits()}
}

// Pass indexes this pass's share and returns how many reports it indexed.
func (s *SearchIndexer) Pass(ctx context.Context) (int, error) {
	share := s.rate
	if s.jobs.rec.db.Waits() > s.waits {
		share = max(1, s.rate/10)
	}
	n, err := s.jobs.IndexSearch(ctx, share)
	// The pass's own acquisitions do not count as the requests'.
	s.waits = s.jobs.rec.db.Waits()
	return n, err
}
