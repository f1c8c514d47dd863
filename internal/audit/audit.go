// Package audit writes a clinic's audit log: who read or changed what, from which request.
// An entry is appended through the queries of the tenant transaction whose change or read
// it records, so the two commit together or not at all. It names what was touched (a
// call's id, how many calls an export held), never its content.
package audit

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/pgtext"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// Request is what an entry keeps of the request it comes from.
type Request struct {
	ID            string // the request id, to find the request's log lines
	ClientAddress string // as TRUSTED_PROXIES allow it to be known
	UserAgent     string
}

type requestKey struct{}

// WithRequest returns a context that carries the request's description.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// Operator is the actor of what an operator does from the command line.
const Operator = "operator"

// Record appends an entry to tenant t's audit log through q, queries of t's transaction:
// the actor is the principal on ctx (the operator when there is none), the request the
// one on ctx. detail holds counts and names, never patient data.
func Record(ctx context.Context, q *dbsqlc.Queries, t tenant.ID, action, targetType, targetID string, detail map[string]any) error {
	raw, err := json.Marshal(detail)
	if err != nil || detail == nil {
		raw = json.RawMessage(`{}`)
	}
	actor, r := who(ctx)
	return q.InsertAuditEvent(ctx, dbsqlc.InsertAuditEventParams{
		UserID: string(t), Actor: actor, Action: action, TargetType: targetType, TargetID: optional(targetID),
		Detail: raw, RequestID: optional(r.ID), ClientAddress: optional(r.ClientAddress), UserAgent: optional(truncate(r.UserAgent, 512)),
	})
}

// RecordCallRead appends an entry for a read of tenant t's call (action call.read or
// call.recording) through q, only when the call is t's. It runs no statement with results,
// so in a tenant.DB.Read it travels in the read's own round trip.
func RecordCallRead(ctx context.Context, q *dbsqlc.Queries, t tenant.ID, callID uuid.UUID, action string) error {
	actor, r := who(ctx)
	return q.AuditCallRead(ctx, dbsqlc.AuditCallReadParams{
		UserID: string(t), Actor: actor, Action: action, CallID: callID,
		RequestID: optional(r.ID), ClientAddress: optional(r.ClientAddress), UserAgent: optional(truncate(r.UserAgent, 512)),
	})
}

// who returns the actor (the principal on ctx, else the operator) and the request.
// Actor is who acts in ctx, as entries name them: a user, an API key, or the operator.
func Actor(ctx context.Context) string {
	actor, _ := who(ctx)
	return actor
}

func who(ctx context.Context) (string, Request) {
	actor := Operator
	if p, ok := tenant.PrincipalFrom(ctx); ok {
		actor = p.Actor
	}
	r, _ := ctx.Value(requestKey{}).(Request)
	return actor, r
}

func optional(s string) *string {
	if s = pgtext.Clean(s); s == "" {
		return nil
	}
	return &s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Log reads a tenant's audit log.
type Log struct{ db *tenant.DB }

// NewLog returns a Log over db.
func NewLog(db *tenant.DB) *Log { return &Log{db: db} }

// Filter selects and pages entries; nil means no filter, Limit 0 means 50.
type Filter struct {
	Limit         int
	Cursor        string
	Action, Actor *string
	TargetID      *string
	Since, Until  *time.Time
}

// Page is one page of entries, newest first, and the next page's cursor ("" on the last).
type Page struct {
	Events     []dbsqlc.AuditEvent
	NextCursor string
}

var errInvalidCursor = errs.New(errs.CodeInvalidCursor, "The cursor is not one this API issued; start again without it.")

// List returns one page of tenant t's audit log. Returns Invalid for a limit out of 1 to
// 200 and a cursor this API did not issue.
func (l *Log) List(ctx context.Context, t tenant.ID, f Filter) (Page, error) {
	limit := cmp.Or(f.Limit, 50)
	if limit < 1 || limit > 200 {
		return Page{}, errs.New(errs.CodeValidationFailed, "limit must be between 1 and 200.")
	}
	p := dbsqlc.ListAuditEventsParams{
		UserID: string(t), Since: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		BeforeCreatedAt: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), BeforeID: math.MaxInt64,
		Action: f.Action, Actor: f.Actor, TargetID: f.TargetID, RowLimit: int32(limit + 1),
	}
	if f.Since != nil {
		p.Since = *f.Since
	}
	if f.Until != nil {
		p.Until = *f.Until
	}
	if f.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil || len(b) != 16 {
			return Page{}, errInvalidCursor
		}
		p.BeforeCreatedAt = time.UnixMicro(int64(binary.BigEndian.Uint64(b[:8]))).UTC()
		p.BeforeID = int64(binary.BigEndian.Uint64(b[8:]))
	}
	var rows []dbsqlc.AuditEvent
	err := l.db.Read(ctx, t, func(q *dbsqlc.Queries) (err error) {
		rows, err = q.ListAuditEvents(ctx, p)
		return err
	})
	page := Page{Events: rows}
	if err == nil && len(rows) > limit {
		page.Events = rows[:limit]
		last := page.Events[limit-1]
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], uint64(last.CreatedAt.UnixMicro()))
		binary.BigEndian.PutUint64(b[8:], uint64(last.ID))
		page.NextCursor = base64.RawURLEncoding.EncodeToString(b[:])
	}
	return page, err
}
