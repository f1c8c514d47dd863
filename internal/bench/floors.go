package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
)

// The dashboard's floors: the statements Switchboard runs for each read, run bare on the
// pool (no token, no role switch, no row-level security, no audit entry), their rows
// encoded as JSON (or CSV) as they come. Each answers the same question on the same
// indexes: what the read costs without the service.

var (
	floorEarliest = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	floorLatest   = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

func addDashboardFloors(mux *http.ServeMux, pool *pgxpool.Pool) {
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {
		tenant, query := r.URL.Query().Get("tenant"), r.URL.Query().Get("q")
		var rows []dbsqlc.CallSummary
		err := floorTx(r.Context(), pool, tenant, func(q *dbsqlc.Queries) error {
			params := floorListParams(tenant, 51)
			params.Query = &query
			if digits := strings.Map(func(c rune) rune {
				if c >= '0' && c <= '9' {
					return c
				}
				return -1
			}, query); len(digits) >= 3 {
				params.Digits = &digits
			}
			ids, err := q.SearchCallIDs(r.Context(), dbsqlc.SearchCallIDsParams{Query: query, Digits: params.Digits, Cap: 2001})
			if err != nil {
				return err
			}
			if len(ids) <= 2000 {
				if err := q.PlanForTheseParameters(r.Context()); err != nil {
					return err
				}
				params.Ids, params.Query, params.Digits = ids, nil, nil
			}
			rows, err = q.ListCalls(r.Context(), params)
			return err
		})
		floorJSON(w, map[string]any{"items": rows}, err)
	})
	mux.HandleFunc("GET /call", func(w http.ResponseWriter, r *http.Request) {
		id, _ := uuid.Parse(r.URL.Query().Get("id"))
		row, err := dbsqlc.New(pool).GetCall(r.Context(), dbsqlc.GetCallParams{UserID: r.URL.Query().Get("tenant"), ID: id})
		floorJSON(w, row, err)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		floorJSON(w, nil, floorStats(r, pool, w))
	})
	mux.HandleFunc("GET /export", func(w http.ResponseWriter, r *http.Request) {
		floorExport(r.Context(), pool, r.URL.Query().Get("tenant"), w)
	})
}

func floorListParams(tenant string, limit int32) dbsqlc.ListCallsParams {
	return dbsqlc.ListCallsParams{UserID: tenant, Since: floorEarliest, Until: floorLatest,
		BeforeStartedAt: floorLatest, BeforeID: uuid.Max, RowLimit: limit}
}

// floorTx runs fn with the tenant setting the search function reads, in one transaction.
func floorTx(ctx context.Context, pool *pgxpool.Pool, tenant string, fn func(q *dbsqlc.Queries) error) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT set_config('app.user_id', $1, true)", tenant); err != nil {
			return err
		}
		return fn(dbsqlc.New(tx))
	})
}

// floorStats runs the statistics' nine statements in one transaction and writes them.
func floorStats(r *http.Request, pool *pgxpool.Pool, w http.ResponseWriter) error {
	ctx, qs := r.Context(), r.URL.Query()
	user, tz := qs.Get("tenant"), qs.Get("tz")
	days, _ := strconv.Atoi(qs.Get("days"))
	until := time.Now().UTC()
	since := until.Add(-time.Duration(days) * 24 * time.Hour)
	out := map[string]any{}
	err := floorTx(ctx, pool, user, func(q *dbsqlc.Queries) (err error) {
		if out["totals"], err = q.CallTotals(ctx, dbsqlc.CallTotalsParams{UserID: user, Since: since, Until: until}); err != nil {
			return err
		}
		if out["status"], err = q.CallsByStatus(ctx, dbsqlc.CallsByStatusParams{UserID: user, Since: since, Until: until}); err != nil {
			return err
		}
		if out["handling"], err = q.CallsByHandling(ctx, dbsqlc.CallsByHandlingParams{UserID: user, Since: since, Until: until}); err != nil {
			return err
		}
		if out["disposition"], err = q.CallsByDisposition(ctx, dbsqlc.CallsByDispositionParams{UserID: user, Since: since, Until: until}); err != nil {
			return err
		}
		if out["tag"], err = q.CallsByTag(ctx, dbsqlc.CallsByTagParams{UserID: user, Since: since, Until: until}); err != nil {
			return err
		}
		if out["reason"], err = q.CallsByEndedReason(ctx, dbsqlc.CallsByEndedReasonParams{UserID: user, Since: since, Until: until}); err != nil {
			return err
		}
		if out["day"], err = q.CallsPerDay(ctx, dbsqlc.CallsPerDayParams{UserID: user, Since: since, Until: until, Tz: tz}); err != nil {
			return err
		}
		if out["hour"], err = q.CallsByHour(ctx, dbsqlc.CallsByHourParams{UserID: user, Since: since, Until: until, Tz: tz}); err != nil {
			return err
		}
		out["number"], err = q.CallsPerPhoneNumber(ctx, dbsqlc.CallsPerPhoneNumberParams{UserID: user, Since: since, Until: until})
		return err
	})
	if err == nil {
		w.Header().Set("Content-Type", "application/json")
		err = json.NewEncoder(w).Encode(out)
	}
	return err
}

// floorExport writes every call of the tenant as CSV, a keyset page of 200 at a time, as
// the export does.
func floorExport(ctx context.Context, pool *pgxpool.Pool, tenant string, w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/csv")
	out := csv.NewWriter(w)
	q := dbsqlc.New(pool)
	params := floorListParams(tenant, 201)
	for {
		rows, err := q.ListCalls(ctx, params)
		if err != nil {
			return
		}
		page := rows[:min(len(rows), 200)]
		for _, c := range page {
			rec := []string{c.ID.String(), c.Status, c.StartedAt.Format(time.RFC3339), deref(c.CallerNumber), deref(c.ClinicNumber),
				deref(c.EndedReason), deref(c.Summary), deref(c.SuccessEvaluation)}
			if c.DurationSeconds != nil {
				rec = append(rec, strconv.Itoa(int(*c.DurationSeconds)))
			}
			_ = out.Write(rec)
		}
		out.Flush()
		if len(rows) <= 200 {
			return
		}
		last := page[len(page)-1]
		params.BeforeStartedAt, params.BeforeID = last.StartedAt, last.ID
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func floorJSON(w http.ResponseWriter, v any, err error) {
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	if v == nil {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
