package calls

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/audit"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// Page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// The widest bounds PostgreSQL and Go agree on; they stand for "no bound" so that the
// list query always has a range to read from its index.
var (
	earliest = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	latest   = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	maxUUID  = uuid.Max
)

// Filter selects and pages calls. Nil values mean "no filter"; Limit 0 means DefaultLimit.
// It is the one list of the calls filters: each field is tagged with its query
// parameter's name in openapi.yaml, which is how the HTTP layer reads the list's and the
// export's parameters into it, and it becomes ListCalls's parameters in params. A new
// filter is a parameter in the contract, a field here (and its line in params), and a
// line in ListCalls.
type Filter struct {
	Limit         int        `json:"limit"`
	Cursor        string     `json:"cursor"`
	Query         *string    `json:"q"` // full text over summary and transcript, and the numbers' digits
	Status        *string    `json:"status"`
	PhoneNumberID *uuid.UUID `json:"phone_number_id"`
	Since         *time.Time `json:"since"`
	Until         *time.Time `json:"until"`
	EndedReason   *string    `json:"ended_reason"`
	Success       *bool      `json:"success"`
	MinDuration   *int       `json:"min_duration"` // seconds
	MaxDuration   *int       `json:"max_duration"`
	Direction     *string    `json:"direction"`
	Handling      *string    `json:"handling"`
	Disposition   *string    `json:"disposition"`
	Tag           *string    `json:"tag"`
}

// Page is one page of calls, newest first, and the cursor of the next ("" on the last).
type Page struct {
	Calls      []dbsqlc.CallSummary
	NextCursor string
}

// List returns one page of the tenant's calls. Returns Invalid for a limit out of range,
// a cursor this service did not issue, or since not before until.
func (s *Reader) List(ctx context.Context, t tenant.ID, f Filter) (Page, error) {
	params, err := f.params(t)
	if err != nil {
		return Page{}, err
	}
	limit := int(params.RowLimit) - 1
	var rows []dbsqlc.CallSummary
	if params.Query == nil {
		// The hot path: one statement, one round trip.
		err = s.db.Read(ctx, t, func(q *dbsqlc.Queries) (err error) {
			rows, err = q.ListCalls(ctx, params)
			return err
		})
	} else {
		err = s.search(ctx, t, params, &rows)
	}
	if err != nil {
		return Page{}, err
	}
	page := Page{Calls: rows}
	if len(rows) > limit {
		page.Calls = rows[:limit]
		last := page.Calls[limit-1]
		page.NextCursor = encodeCursor(last.StartedAt, last.ID)
	}
	return page, nil
}

// search reads a page of a search's matches. A search with few matches reads them by id;
// one with many filters the time range by them, where matches are dense enough to fill a
// page quickly.
func (s *Reader) search(ctx context.Context, t tenant.ID, params dbsqlc.ListCallsParams, rows *[]dbsqlc.CallSummary) error {
	return s.db.Tx(ctx, t, func(q *dbsqlc.Queries) error {
		ids, err := q.SearchCallIDs(ctx, dbsqlc.SearchCallIDsParams{Query: *params.Query, Digits: params.Digits, Cap: fewMatches + 1})
		if err != nil {
			return err
		}
		if len(ids) <= fewMatches {
			if err := q.PlanForTheseParameters(ctx); err != nil {
				return err
			}
			params.Ids, params.Query, params.Digits = ids, nil, nil
		}
		*rows, err = q.ListCalls(ctx, params)
		return err
	})
}

// fewMatches is how many search matches are read by id rather than by scanning.
const fewMatches = 2000

// params turns the filter into the list query's parameters for tenant t.
func (f Filter) params(t tenant.ID) (dbsqlc.ListCallsParams, error) {
	limit := f.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return dbsqlc.ListCallsParams{}, errs.New(errs.CodeValidationFailed, "limit must be between 1 and 200.")
	}
	params := dbsqlc.ListCallsParams{
		UserID:          string(t),
		Since:           earliest,
		Until:           latest,
		BeforeStartedAt: latest,
		BeforeID:        maxUUID,
		Status:          f.Status,
		PhoneNumberID:   f.PhoneNumberID,
		EndedReason:     f.EndedReason,
		Succeeded:       f.Success,
		MinDuration:     seconds(f.MinDuration),
		MaxDuration:     seconds(f.MaxDuration),
		Direction:       f.Direction,
		Handling:        f.Handling,
		Disposition:     f.Disposition,
		Tag:             f.Tag,
		RowLimit:        int32(limit + 1), // one more tells whether there is a next page
	}
	if f.Query != nil && strings.TrimSpace(*f.Query) != "" {
		q := strings.TrimSpace(*f.Query)
		params.Query = &q
		// Three digits or more also search the numbers; fewer would match nearly all.
		if digits := digitsOf(q); len(digits) >= 3 {
			params.Digits = &digits
		}
	}
	if f.Since != nil {
		params.Since = *f.Since
	}
	if f.Until != nil {
		params.Until = *f.Until
	}
	if !params.Since.Before(params.Until) {
		return dbsqlc.ListCallsParams{}, errs.New(errs.CodeValidationFailed, "since must be before until.")
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return dbsqlc.ListCallsParams{}, err
		}
		params.BeforeStartedAt, params.BeforeID = at, id
	}
	return params, nil
}

// Get returns one call with its transcript and messages, and records the read in the
// tenant's audit log. Returns NotFound when the id is missing or belongs to another
// tenant.
func (s *Reader) Get(ctx context.Context, t tenant.ID, id uuid.UUID) (dbsqlc.GetCallRow, error) {
	return s.get(ctx, t, id, "call.read")
}

// get reads one call and, in the same round trip, records the read in the tenant's audit
// log as action (what the call's data was read for).
func (s *Reader) get(ctx context.Context, t tenant.ID, id uuid.UUID, action string) (dbsqlc.GetCallRow, error) {
	var out dbsqlc.GetCallRow
	err := s.db.Read(ctx, t, func(q *dbsqlc.Queries) (err error) {
		if err := audit.RecordCallRead(ctx, q, t, id, action); err != nil {
			return err
		}
		out, err = q.GetCall(ctx, dbsqlc.GetCallParams{UserID: string(t), ID: id})
		if errors.Is(err, pgx.ErrNoRows) {
			return errs.New(errs.CodeNotFound, "No call with that id.")
		}
		return err
	})
	return out, err
}

// seconds bounds a duration filter to what the column holds.
func seconds(v *int) *int32 {
	if v == nil {
		return nil
	}
	s := int32(min(max(*v, math.MinInt32), math.MaxInt32))
	return &s
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// A cursor is the (started_at, id) of the last call on a page: 8 bytes of Unix
// microseconds (PostgreSQL's precision) and 16 bytes of uuid, base64url-encoded. Clients
// treat it as opaque.
func encodeCursor(at time.Time, id uuid.UUID) string {
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at.UnixMicro()))
	copy(b[8:], id[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

var errInvalidCursor = errs.New(errs.CodeInvalidCursor, "The cursor is not one this API issued; start again without it.")

func decodeCursor(s string) (time.Time, uuid.UUID, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 24 {
		return time.Time{}, uuid.UUID{}, errInvalidCursor
	}
	at := time.UnixMicro(int64(binary.BigEndian.Uint64(b[:8]))).UTC()
	if at.Before(earliest) || at.After(latest) {
		// No call starts there: the cursor was made up, and PostgreSQL could not read it.
		return time.Time{}, uuid.UUID{}, errInvalidCursor
	}
	var id uuid.UUID
	copy(id[:], b[8:])
	return at, id, nil
}
