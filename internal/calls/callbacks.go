package calls

import (
	"context"
	"errors"
	"regexp"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/audit"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/pgtext"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// Callback is a callback with what the queue shows of its call.
type Callback = dbsqlc.ListOpenCallbacksRow

// CallbackFilter chooses a page of callbacks.
type CallbackFilter struct {
	Completed  bool    // the completed ones (newest first) instead of the open queue (oldest first)
	Assignee   *string // only this member's
	Unassigned bool    // only those nobody is assigned
	Limit      int
	Cursor     string
}

// CallbackPage is one page of callbacks and the cursor of the next ("" on the last).
type CallbackPage struct {
	Callbacks  []Callback
	NextCursor string
}

var (
	errNoCallback       = errs.New(errs.CodeNotFound, "No callback with that id.")
	errCallbackOpen     = errs.New(errs.CodeCallbackOpen, "This call has an open callback already.")
	errCallbackDone     = errs.New(errs.CodeCallbackCompleted, "This callback is completed already.")
	errAssigneeNotAUser = errs.New(errs.CodeValidationFailed, "assignee must be a Clerk user id (user_…).")
	userIDPattern       = regexp.MustCompile(`^user_[A-Za-z0-9]{1,64}$`)
)

// Callbacks returns a page of the clinic's callbacks.
func (f *FollowUp) Callbacks(ctx context.Context, t tenant.ID, cf CallbackFilter) (CallbackPage, error) {
	limit := cf.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return CallbackPage{}, errs.New(errs.CodeValidationFailed, "limit must be between 1 and 200.")
	}
	at, id := earliest, uuid.Nil
	if cf.Completed {
		at, id = latest, maxUUID
	}
	if cf.Cursor != "" {
		var err error
		if at, id, err = decodeCursor(cf.Cursor); err != nil {
			return CallbackPage{}, err
		}
	}
	var rows []Callback
	err := f.db.Read(ctx, t, func(q *dbsqlc.Queries) error {
		if !cf.Completed {
			var err error
			rows, err = q.ListOpenCallbacks(ctx, dbsqlc.ListOpenCallbacksParams{UserID: string(t), Assignee: cf.Assignee,
				Unassigned: cf.Unassigned, AfterCreatedAt: at, AfterID: id, RowLimit: int32(limit + 1)})
			return err
		}
		done, err := q.ListCompletedCallbacks(ctx, dbsqlc.ListCompletedCallbacksParams{UserID: string(t), Assignee: cf.Assignee,
			Unassigned: cf.Unassigned, BeforeCreatedAt: at, BeforeID: id, RowLimit: int32(limit + 1)})
		for _, d := range done {
			rows = append(rows, Callback(d))
		}
		return err
	})
	page := CallbackPage{Callbacks: rows}
	if len(rows) > limit {
		page.Callbacks = rows[:limit]
		last := page.Callbacks[limit-1]
		page.NextCursor = encodeCursor(last.CreatedAt, last.ID)
	}
	return page, err
}

// OpenCallback puts the tenant's call in the callback queue, assigned to assignee when
// given. Returns NotFound for another tenant's call and Conflict (callback_open) when the
// call has an open callback already.
func (f *FollowUp) OpenCallback(ctx context.Context, t tenant.ID, callID uuid.UUID, assignee *string) (dbsqlc.Callback, error) {
	if assignee != nil && !userIDPattern.MatchString(*assignee) {
		return dbsqlc.Callback{}, errAssigneeNotAUser
	}
	var out dbsqlc.Callback
	err := f.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.OpenCallback(ctx, dbsqlc.OpenCallbackParams{UserID: string(t), CallID: callID, CreatedBy: audit.Actor(ctx), Assignee: assignee})
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr) && pgErr.ConstraintName == "callbacks_one_open_key":
			return errCallbackOpen
		case errors.As(err, &pgErr) && pgErr.Code == "23503":
			return errNoCall
		case err != nil:
			return err
		}
		return audit.Record(ctx, q, t, "callback.open", "callback", out.ID.String(), map[string]any{"call_id": callID.String()})
	})
	return out, err
}

// AssignCallback assigns an open callback to a member (nil: nobody). Returns NotFound,
// or Conflict (callback_completed) for a completed one.
func (f *FollowUp) AssignCallback(ctx context.Context, t tenant.ID, id uuid.UUID, assignee *string) (dbsqlc.Callback, error) {
	if assignee != nil && !userIDPattern.MatchString(*assignee) {
		return dbsqlc.Callback{}, errAssigneeNotAUser
	}
	return f.changeCallback(ctx, t, id, "callback.assign", func(q *dbsqlc.Queries) (dbsqlc.Callback, error) {
		return q.AssignCallback(ctx, dbsqlc.AssignCallbackParams{UserID: string(t), ID: id, Assignee: assignee, AssignedBy: pgtext.Optional(audit.Actor(ctx))})
	})
}

// CompleteCallback completes an open callback with its outcome. Returns NotFound, or
// Conflict (callback_completed) for one completed already.
func (f *FollowUp) CompleteCallback(ctx context.Context, t tenant.ID, id uuid.UUID, outcome string, notes *string) (dbsqlc.Callback, error) {
	return f.changeCallback(ctx, t, id, "callback.complete", func(q *dbsqlc.Queries) (dbsqlc.Callback, error) {
		return q.CompleteCallback(ctx, dbsqlc.CompleteCallbackParams{UserID: string(t), ID: id, Outcome: &outcome, OutcomeNotes: notes, CompletedBy: pgtext.Optional(audit.Actor(ctx))})
	})
}

// changeCallback changes an open callback with change and audits it as action.
func (f *FollowUp) changeCallback(ctx context.Context, t tenant.ID, id uuid.UUID, action string, change func(*dbsqlc.Queries) (dbsqlc.Callback, error)) (dbsqlc.Callback, error) {
	var out dbsqlc.Callback
	err := f.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = change(q)
		if errors.Is(err, pgx.ErrNoRows) {
			// Either no such callback, or one completed already: tell which.
			if _, err := q.GetCallback(ctx, dbsqlc.GetCallbackParams{UserID: string(t), ID: id}); errors.Is(err, pgx.ErrNoRows) {
				return errNoCallback
			}
			return errCallbackDone
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, t, action, "callback", id.String(), nil)
	})
	return out, err
}

// CallbackRules are a clinic's rules for opening callbacks by themselves.
type CallbackRules = dbsqlc.CallbackRule

// DefaultCallbackRules are the rules of a clinic that set none.
var DefaultCallbackRules = CallbackRules{OnFailed: true, ShortCallSeconds: ptr(int32(20)), OnVoicemail: true, OnAfterHours: true, RequestedField: ptr("callbackRequested")}

// Rules returns the clinic's callback rules (the defaults when it set none).
func (f *FollowUp) Rules(ctx context.Context, t tenant.ID) (CallbackRules, error) {
	out := DefaultCallbackRules
	err := f.db.Read(ctx, t, func(q *dbsqlc.Queries) error {
		r, err := q.GetCallbackRules(ctx, string(t))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		out = r
		return err
	})
	return out, err
}

// PutRules replaces the clinic's callback rules.
func (f *FollowUp) PutRules(ctx context.Context, t tenant.ID, r CallbackRules) (CallbackRules, error) {
	var out CallbackRules
	err := f.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.PutCallbackRules(ctx, dbsqlc.PutCallbackRulesParams{UserID: string(t), OnFailed: r.OnFailed,
			ShortCallSeconds: r.ShortCallSeconds, OnVoicemail: r.OnVoicemail, OnAfterHours: r.OnAfterHours,
			RequestedField: r.RequestedField, UpdatedBy: pgtext.Optional(audit.Actor(ctx))})
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, t, "callback_rules.update", "callback_rules", "", nil)
	})
	return out, err
}
