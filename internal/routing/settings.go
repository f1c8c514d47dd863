package routing

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/audit"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/pgtext"
	"github.com/switchboard-health/switchboard/internal/phonenumbers"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/vapi"
)

// Settings keeps what a clinic sets about its routing: its assistants, its routing
// policies (the clinic's and its numbers' own) and its blocked callers. Every change is
// audited in its own transaction.
type Settings struct {
	db     *tenant.DB
	vapi   *vapi.Client
	region string
	now    func() time.Time
}

// NewSettings returns the clinic settings store; vapi checks that assistants exist, now
// says whether a clinic is open (time.Now when nil).
func NewSettings(db *tenant.DB, v *vapi.Client, region string, now func() time.Time) *Settings {
	if now == nil {
		now = time.Now
	}
	return &Settings{db: db, vapi: v, region: region, now: now}
}

var (
	errNoNumber          = errs.New(errs.CodeNotFound, "No phone number with that id.")
	errNoAssistant       = errs.New(errs.CodeNotFound, "No assistant with that id is the clinic's.")
	errNoBlockedCaller   = errs.New(errs.CodeNotFound, "No blocked caller with that id.")
	errNoOwnRouting      = errs.New(errs.CodeNotFound, "That number has no routing of its own.")
	errUnknownAssistant  = errs.New(errs.CodeUnknownAssistant, "after_hours_assistant_id is not one of the clinic's assistants; register it first (POST /api/assistants).")
	errVAPIUnknown       = errs.New(errs.CodeUnknownAssistant, "VAPI has no assistant with that id.")
	errAssistantTaken    = errs.New(errs.CodeAssistantTaken, "That assistant is registered already.")
	errAlreadyBlocked    = errs.New(errs.CodeAlreadyBlocked, "That caller is blocked already.")
	errVAPIUnavailable   = errs.New(errs.CodeUnavailable, "VAPI could not be asked about the assistant; try again.")
	errVAPINotConfigured = errs.New(errs.CodeUnavailable, "This server has no VAPI key to check assistants with.")
)

// Assistants lists the clinic's assistants, newest first.
func (s *Settings) Assistants(ctx context.Context, t tenant.ID) ([]dbsqlc.Assistant, error) {
	var out []dbsqlc.Assistant
	err := s.db.Read(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.ListAssistants(ctx, string(t))
		return err
	})
	return out, err
}

// RegisterAssistant makes VAPI assistant id the clinic's, once VAPI says it exists.
// Returns Unprocessable (unknown_assistant) when VAPI does not know it, Conflict
// (assistant_taken) when any clinic registered it already.
func (s *Settings) RegisterAssistant(ctx context.Context, t tenant.ID, id string) (dbsqlc.Assistant, error) {
	if s.vapi == nil {
		return dbsqlc.Assistant{}, errVAPINotConfigured
	}
	a, found, err := s.vapi.GetAssistant(ctx, id)
	switch {
	case err != nil:
		return dbsqlc.Assistant{}, errs.NewCause(errs.CodeUnavailable, errVAPIUnavailable.Message, err)
	case !found:
		return dbsqlc.Assistant{}, errVAPIUnknown
	}
	var out dbsqlc.Assistant
	err = s.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.CreateAssistant(ctx, dbsqlc.CreateAssistantParams{VapiAssistantID: id, UserID: string(t), Name: pgtext.Optional(a.Name), CreatedBy: pgtext.Optional(audit.Actor(ctx))})
		// Another clinic's (the lookup's key) or this clinic's own (either of its keys).
		if violates(err, "assistant_owners_pkey", "assistants_pkey", "assistants_vapi_assistant_id_user_id_key") {
			return errAssistantTaken
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, t, "assistant.register", "assistant", id, nil)
	})
	return out, err
}

// RemoveAssistant stops the clinic using an assistant: numbers and policies naming it
// lose it (the database clears them), so their calls take the fallback.
func (s *Settings) RemoveAssistant(ctx context.Context, t tenant.ID, id string) error {
	return s.remove(ctx, t, func(q *dbsqlc.Queries) (int64, error) {
		return q.DeleteAssistant(ctx, dbsqlc.DeleteAssistantParams{UserID: string(t), VapiAssistantID: id})
	}, errNoAssistant, "assistant.remove", "assistant", id)
}

// remove deletes one of t's settings with del and audits it as action on the target;
// nothing deleted is notFound.
func (s *Settings) remove(ctx context.Context, t tenant.ID, del func(*dbsqlc.Queries) (int64, error), notFound error, action, targetType, targetID string) error {
	return s.db.Tx(ctx, t, func(q *dbsqlc.Queries) error {
		n, err := del(q)
		if err == nil && n == 0 {
			return notFound
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, t, action, targetType, targetID, nil)
	})
}

// View is a routing policy as the API shows it.
type View struct {
	Scope     string // clinic or phone_number
	Stored    Stored
	OpenNow   bool
	NextOpen  *time.Time
	UpdatedAt *time.Time // nil for the defaults
}

// Policy returns the routing calls to number follow (its own, else the clinic's), or the
// clinic's when number is nil. Returns NotFound for a number that is not the clinic's.
func (s *Settings) Policy(ctx context.Context, t tenant.ID, number *uuid.UUID) (View, error) {
	var row dbsqlc.RoutingPolicy
	var found bool
	// A transaction rather than a Read: a number's routing takes two statements.
	err := s.db.Tx(ctx, t, func(q *dbsqlc.Queries) error {
		if err := s.numberExists(ctx, q, t, number); err != nil {
			return err
		}
		var err error
		row, err = q.GetRoutingPolicy(ctx, dbsqlc.GetRoutingPolicyParams{UserID: string(t), PhoneNumberID: number})
		found = err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return View{}, err
	}
	if !found {
		return s.view(dbsqlc.RoutingPolicy{ClosedAction: string(ClosedVoicemail), SpamPolicy: string(SpamAllow)}, false)
	}
	return s.view(row, true)
}

// PutPolicy replaces the clinic's routing (number nil) or gives a number its own. Numbers
// are read in any common form and stored E.164. Returns Unprocessable for routing that
// cannot route (invalid_routing, invalid_phone_number, unknown_assistant) and NotFound
// for a number that is not the clinic's.
func (s *Settings) PutPolicy(ctx context.Context, t tenant.ID, number *uuid.UUID, in Stored) (View, error) {
	if err := s.normalize(&in); err != nil {
		return View{}, err
	}
	hours, _ := json.Marshal(orEmpty(in.WeeklyHours))
	closures, _ := json.Marshal(orEmpty(in.Closures))
	var row dbsqlc.RoutingPolicy
	err := s.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		if err := s.numberExists(ctx, q, t, number); err != nil {
			return err
		}
		row, err = q.PutRoutingPolicy(ctx, dbsqlc.PutRoutingPolicyParams{
			UserID: string(t), PhoneNumberID: number, ClinicName: in.ClinicName, TimeZone: in.TimeZone,
			WeeklyHours: hours, Closures: closures, ClosedAction: string(in.ClosedAction),
			AfterHoursAssistantID: in.AfterHoursAssistantID, OnCallNumber: in.OnCallNumber,
			FallbackNumber: in.FallbackNumber, VoicemailGreeting: in.VoicemailGreeting,
			SpamPolicy: string(in.SpamPolicy), UpdatedBy: pgtext.Optional(audit.Actor(ctx)),
		})
		if violates(err, "routing_policies_after_hours_assistant_id_user_id_fkey") {
			return errUnknownAssistant
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, t, "routing.update", scopeOf(number), targetOf(number), nil)
	})
	if err != nil {
		return View{}, err
	}
	return s.view(row, true)
}

// DeleteNumberPolicy returns a number to the clinic's routing. Returns NotFound when the
// number has no routing of its own (or is not the clinic's).
func (s *Settings) DeleteNumberPolicy(ctx context.Context, t tenant.ID, number uuid.UUID) error {
	return s.remove(ctx, t, func(q *dbsqlc.Queries) (int64, error) {
		return q.DeletePhoneNumberRouting(ctx, dbsqlc.DeletePhoneNumberRoutingParams{UserID: string(t), PhoneNumberID: &number})
	}, errNoOwnRouting, "routing.delete", "phone_number", number.String())
}

// normalize fills in's defaults, stores its numbers in E.164 and checks that it routes.
func (s *Settings) normalize(in *Stored) error {
	if in.ClosedAction == "" {
		in.ClosedAction = ClosedVoicemail
	}
	if in.SpamPolicy == "" {
		in.SpamPolicy = SpamAllow
	}
	for field, n := range map[string]**string{"on_call_number": &in.OnCallNumber, "fallback_number": &in.FallbackNumber} {
		if *n == nil {
			continue
		}
		e164, err := phonenumbers.Normalize(**n, s.region)
		if err != nil {
			e := errs.As(err)
			return errs.New(e.Code, field+": "+e.Message)
		}
		*n = &e164
	}
	return in.Check()
}

func (s *Settings) numberExists(ctx context.Context, q *dbsqlc.Queries, t tenant.ID, number *uuid.UUID) error {
	if number == nil {
		return nil
	}
	_, err := q.GetPhoneNumber(ctx, dbsqlc.GetPhoneNumberParams{UserID: string(t), ID: *number})
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoNumber
	}
	return err
}

// view shows row with where its hours stand now.
func (s *Settings) view(row dbsqlc.RoutingPolicy, stored bool) (View, error) {
	v := View{Scope: "clinic", Stored: storedOf(row)}
	if row.PhoneNumberID != nil {
		v.Scope = "phone_number"
	}
	if stored {
		v.UpdatedAt = &row.UpdatedAt
	}
	p, err := v.Stored.Policy()
	if err != nil {
		return View{}, errs.Wrap(err, "a stored routing policy does not read")
	}
	d := Decide(p, Call{}, s.now())
	v.OpenNow = d.Open
	if !d.NextOpen.IsZero() {
		next := d.NextOpen.UTC()
		v.NextOpen = &next
	}
	return v, nil
}

func storedOf(r dbsqlc.RoutingPolicy) Stored {
	st := Stored{
		ClinicName: r.ClinicName, TimeZone: r.TimeZone, ClosedAction: ClosedAction(r.ClosedAction),
		AfterHoursAssistantID: r.AfterHoursAssistantID, OnCallNumber: r.OnCallNumber,
		FallbackNumber: r.FallbackNumber, VoicemailGreeting: r.VoicemailGreeting, SpamPolicy: SpamPolicy(r.SpamPolicy),
		WeeklyHours: []StoredWindow{}, Closures: []StoredClosure{},
	}
	if len(r.WeeklyHours) > 0 {
		_ = json.Unmarshal(r.WeeklyHours, &st.WeeklyHours)
	}
	if len(r.Closures) > 0 {
		_ = json.Unmarshal(r.Closures, &st.Closures)
	}
	return st
}

// BlockedCallers lists the clinic's blocked callers, newest first.
func (s *Settings) BlockedCallers(ctx context.Context, t tenant.ID) ([]dbsqlc.BlockedCaller, error) {
	var out []dbsqlc.BlockedCaller
	err := s.db.Read(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.ListBlockedCallers(ctx, string(t))
		return err
	})
	return out, err
}

// Block declines number's calls from now on. Returns Unprocessable (invalid_phone_number)
// for a number that cannot call, Conflict (already_blocked) for one blocked already.
func (s *Settings) Block(ctx context.Context, t tenant.ID, number string, reason *string) (dbsqlc.BlockedCaller, error) {
	e164, err := phonenumbers.Normalize(number, s.region)
	if err != nil {
		return dbsqlc.BlockedCaller{}, err
	}
	var out dbsqlc.BlockedCaller
	err = s.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.CreateBlockedCaller(ctx, dbsqlc.CreateBlockedCallerParams{UserID: string(t), PhoneNumber: e164, Reason: reason, CreatedBy: pgtext.Optional(audit.Actor(ctx))})
		if violates(err, "blocked_callers_user_id_phone_number_key") {
			return errAlreadyBlocked
		}
		if err != nil {
			return err
		}
		// The entry names the block, not the caller's number.
		return audit.Record(ctx, q, t, "caller.block", "blocked_caller", out.ID.String(), nil)
	})
	return out, err
}

// Unblock lets a blocked caller's calls route again. Returns NotFound for an id that is
// not one of the clinic's blocks.
func (s *Settings) Unblock(ctx context.Context, t tenant.ID, id uuid.UUID) error {
	return s.remove(ctx, t, func(q *dbsqlc.Queries) (int64, error) {
		return q.DeleteBlockedCaller(ctx, dbsqlc.DeleteBlockedCallerParams{UserID: string(t), ID: id})
	}, errNoBlockedCaller, "caller.unblock", "blocked_caller", id.String())
}

// violates reports whether err is the violation of one of constraints.
func violates(err error, constraints ...string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && slices.Contains(constraints, pgErr.ConstraintName)
}

func scopeOf(number *uuid.UUID) string {
	if number == nil {
		return "routing"
	}
	return "phone_number"
}

func targetOf(number *uuid.UUID) string {
	if number == nil {
		return ""
	}
	return number.String()
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
