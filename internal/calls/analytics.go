package calls

import (
	"context"
	"time"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/routing"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// Analytics is what the dashboard's analytics page draws, computed in SQL from the
// tenant's own calls and callbacks: nothing sampled, nothing estimated.
type Analytics struct {
	Since, Until  time.Time
	TimeZone      string
	Totals        dbsqlc.AnalyticsTotalsRow
	ByHandling    map[routing.Handling]int64
	ByDisposition map[string]int64
	ByEndedReason []dbsqlc.CallsByEndedReasonRow
	ByHour        []dbsqlc.CallsByHourRow
	ByWeekday     []dbsqlc.AnalyticsByWeekdayRow
	ByWeek        []dbsqlc.AnalyticsByWeekRow
	ByMonth       []dbsqlc.AnalyticsByMonthRow
	Callbacks     dbsqlc.AnalyticsCallbacksRow
}

// Ranges are the named ranges the dashboard offers, each ending now.
var Ranges = map[string]time.Duration{"24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour, "90d": 90 * 24 * time.Hour}

// Rate is part / whole, 0 without a whole.
func Rate(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// Analytics computes the analytics of the calls that started in [since, until), or in the
// named range before now (rangeName, "30d" by default), with days, weeks and months in the
// IANA zone tz (default UTC). Returns Invalid for an unknown zone or range, or bounds more
// than 366 days apart.
func (s *Reader) Analytics(ctx context.Context, t tenant.ID, rangeName string, since, until *time.Time, tz string) (Analytics, error) {
	span := Ranges["30d"]
	if rangeName != "" {
		d, ok := Ranges[rangeName]
		if !ok {
			return Analytics{}, errs.New(errs.CodeValidationFailed, "range must be one of 24h, 7d, 30d and 90d.")
		}
		span = d
	}
	out := Analytics{}
	var err error
	if out.Since, out.Until, out.TimeZone, err = statsRange(since, until, tz, span); err != nil {
		return Analytics{}, err
	}
	user := string(t)
	err = s.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		if out.Totals, err = q.AnalyticsTotals(ctx, dbsqlc.AnalyticsTotalsParams{UserID: user, Since: out.Since, Until: out.Until}); err != nil {
			return err
		}
		if out.ByHandling, err = byHandling(ctx, q, user, out.Since, out.Until); err != nil {
			return err
		}
		if out.ByDisposition, err = byDisposition(ctx, q, user, out.Since, out.Until); err != nil {
			return err
		}
		if out.ByEndedReason, err = q.CallsByEndedReason(ctx, dbsqlc.CallsByEndedReasonParams{UserID: user, Since: out.Since, Until: out.Until}); err != nil {
			return err
		}
		return out.series(ctx, q, user)
	})
	return out, err
}

// series reads the per-hour, -weekday, -week and -month figures and the callbacks.
func (a *Analytics) series(ctx context.Context, q *dbsqlc.Queries, user string) (err error) {
	if a.ByHour, err = q.CallsByHour(ctx, dbsqlc.CallsByHourParams{UserID: user, Since: a.Since, Until: a.Until, Tz: a.TimeZone}); err != nil {
		return err
	}
	if a.ByWeekday, err = q.AnalyticsByWeekday(ctx, dbsqlc.AnalyticsByWeekdayParams{UserID: user, Since: a.Since, Until: a.Until, Tz: a.TimeZone}); err != nil {
		return err
	}
	if a.ByWeek, err = q.AnalyticsByWeek(ctx, dbsqlc.AnalyticsByWeekParams{UserID: user, Since: a.Since, Until: a.Until, Tz: a.TimeZone}); err != nil {
		return err
	}
	if a.ByMonth, err = q.AnalyticsByMonth(ctx, dbsqlc.AnalyticsByMonthParams{UserID: user, Since: a.Since, Until: a.Until, Tz: a.TimeZone}); err != nil {
		return err
	}
	a.Callbacks, err = q.AnalyticsCallbacks(ctx, dbsqlc.AnalyticsCallbacksParams{UserID: user, Since: a.Since, Until: a.Until})
	return err
}
