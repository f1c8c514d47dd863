package calls

import (
	"context"
	"time"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/routing"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// Stats is what the dashboard's analytics page shows, computed in SQL from the tenant's
// own rows.
type Stats struct {
	Since, Until   time.Time
	TimeZone       string
	Totals         dbsqlc.CallTotalsRow
	ByStatus       map[Status]int64 // every status, zeros included
	ByEndedReason  []dbsqlc.CallsByEndedReasonRow
	ByHandling     map[routing.Handling]int64 // every handling, zeros included
	ByDisposition  map[string]int64           // every disposition, zeros included
	ByTag          []dbsqlc.CallsByTagRow
	PerDay         []dbsqlc.CallsPerDayRow
	ByHour         []dbsqlc.CallsByHourRow
	PerPhoneNumber []dbsqlc.CallsPerPhoneNumberRow
}

// AnswerRate is the share of finished calls that ended normally; 0 without any.
func (s Stats) AnswerRate() float64 {
	if done := s.Totals.Ended + s.Totals.Failed; done > 0 {
		return float64(s.Totals.Ended) / float64(done)
	}
	return 0
}

// MaxStatsRange bounds a statistics range, and with it the per-day series.
const MaxStatsRange = 366 * 24 * time.Hour

// Stats computes the statistics of the calls that started in [since, until) — by default
// the 30 days before now — with days and hours in the IANA time zone tz (default UTC).
// Returns Invalid for an unknown zone or a range that is empty or longer than 366 days.
func (s *Reader) Stats(ctx context.Context, t tenant.ID, since, until *time.Time, tz string) (Stats, error) {
	out := Stats{}
	var err error
	if out.Since, out.Until, out.TimeZone, err = statsRange(since, until, tz, 30*24*time.Hour); err != nil {
		return Stats{}, err
	}
	user := string(t)
	err = s.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		if out.Totals, err = q.CallTotals(ctx, dbsqlc.CallTotalsParams{UserID: user, Since: out.Since, Until: out.Until}); err != nil {
			return err
		}
		byStatus, err := q.CallsByStatus(ctx, dbsqlc.CallsByStatusParams{UserID: user, Since: out.Since, Until: out.Until})
		if err != nil {
			return err
		}
		out.ByStatus = make(map[Status]int64, len(Statuses))
		for _, st := range Statuses {
			out.ByStatus[st] = 0
		}
		for _, r := range byStatus {
			out.ByStatus[Status(r.Status)] = r.Calls
		}
		if out.ByHandling, err = byHandling(ctx, q, user, out.Since, out.Until); err != nil {
			return err
		}
		if out.ByDisposition, err = byDisposition(ctx, q, user, out.Since, out.Until); err != nil {
			return err
		}
		if out.ByTag, err = q.CallsByTag(ctx, dbsqlc.CallsByTagParams{UserID: user, Since: out.Since, Until: out.Until}); err != nil {
			return err
		}
		if out.ByEndedReason, err = q.CallsByEndedReason(ctx, dbsqlc.CallsByEndedReasonParams{UserID: user, Since: out.Since, Until: out.Until}); err != nil {
			return err
		}
		if out.PerDay, err = q.CallsPerDay(ctx, dbsqlc.CallsPerDayParams{UserID: user, Since: out.Since, Until: out.Until, Tz: out.TimeZone}); err != nil {
			return err
		}
		if out.ByHour, err = q.CallsByHour(ctx, dbsqlc.CallsByHourParams{UserID: user, Since: out.Since, Until: out.Until, Tz: out.TimeZone}); err != nil {
			return err
		}
		out.PerPhoneNumber, err = q.CallsPerPhoneNumber(ctx, dbsqlc.CallsPerPhoneNumberParams{UserID: user, Since: out.Since, Until: out.Until})
		return err
	})
	return out, err
}

// Dispositions are the dispositions staff choose from, in the order the API documents them.
var Dispositions = []string{"booked", "resolved", "needs_callback", "wrong_number", "spam", "other"}

func byDisposition(ctx context.Context, q *dbsqlc.Queries, user string, since, until time.Time) (map[string]int64, error) {
	rows, err := q.CallsByDisposition(ctx, dbsqlc.CallsByDispositionParams{UserID: user, Since: since, Until: until})
	out := make(map[string]int64, len(Dispositions))
	for _, d := range Dispositions {
		out[d] = 0
	}
	for _, r := range rows {
		out[r.Disposition] = r.Calls
	}
	return out, err
}

func byHandling(ctx context.Context, q *dbsqlc.Queries, user string, since, until time.Time) (map[routing.Handling]int64, error) {
	rows, err := q.CallsByHandling(ctx, dbsqlc.CallsByHandlingParams{UserID: user, Since: since, Until: until})
	out := make(map[routing.Handling]int64, len(routing.Handlings))
	for _, h := range routing.Handlings {
		out[h] = 0
	}
	for _, r := range rows {
		out[routing.Handling(r.Handling)] = r.Calls
	}
	return out, err
}

// statsRange reads a statistics range: [since, until), by default the span before now,
// with tz an IANA zone (default UTC). Returns Invalid for an unknown zone or a range that
// is empty or longer than 366 days.
func statsRange(since, until *time.Time, tz string, span time.Duration) (time.Time, time.Time, string, error) {
	if tz == "" {
		tz = "UTC"
	}
	// "Local" would mean this server's zone, which no client can know.
	if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
		return time.Time{}, time.Time{}, "", errs.New(errs.CodeValidationFailed, "tz must be an IANA time zone such as America/New_York.")
	}
	to := time.Now().UTC()
	if until != nil {
		to = until.UTC()
	}
	from := to.Add(-span)
	if since != nil {
		from = since.UTC()
	}
	if !from.Before(to) || to.Sub(from) > MaxStatsRange {
		return time.Time{}, time.Time{}, "", errs.New(errs.CodeValidationFailed, "since must be before until, at most 366 days apart.")
	}
	return from, to, tz, nil
}
