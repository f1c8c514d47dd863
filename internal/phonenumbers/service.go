package phonenumbers

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/audit"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/twilio"
)

// Service registers and manages a tenant's phone numbers, and proves who owns them
// (verify.go): a registered number is a pending claim, which routes nothing until it is
// verified.
type Service struct {
	db     *tenant.DB
	region string
	verify *twilio.Verifications // nil when Twilio Verify is not configured
	log    *slog.Logger
}

// NewService returns a Service that reads numbers without a country code in region and
// proves claims through verify (which may be nil: then only the operator can).
func NewService(db *tenant.DB, region string, verify *twilio.Verifications, log *slog.Logger) *Service {
	return &Service{db: db, region: region, verify: verify, log: log}
}

// New is a number to register.
type New struct {
	PhoneNumber       string // as the user typed it
	Label             *string
	VapiAssistantID   *string
	VapiPhoneNumberID *string
}

// Optional is a field of a change: Set says whether the request named it, and a nil Value
// with Set clears it.
type Optional struct {
	Set   bool
	Value *string
}

// Change is what an update changes; unset fields keep their value.
type Change struct {
	Label             Optional
	VapiAssistantID   Optional
	VapiPhoneNumberID Optional
	IsActive          *bool
}

var errNotFound = errs.New(errs.CodeNotFound, "No phone number with that id.")

// List returns the tenant's numbers, newest first.
func (s *Service) List(ctx context.Context, t tenant.ID) ([]dbsqlc.PhoneNumber, error) {
	var out []dbsqlc.PhoneNumber
	err := s.db.Read(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.ListPhoneNumbers(ctx, string(t))
		return err
	})
	return out, err
}

// Get returns one of the tenant's numbers. Returns NotFound when the id is missing or
// belongs to another tenant.
func (s *Service) Get(ctx context.Context, t tenant.ID, id uuid.UUID) (dbsqlc.PhoneNumber, error) {
	var out dbsqlc.PhoneNumber
	err := s.db.Read(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.GetPhoneNumber(ctx, dbsqlc.GetPhoneNumberParams{UserID: string(t), ID: id})
		return notFound(err)
	})
	return out, err
}

// Create registers a number for the tenant as a pending claim, which routes nothing until
// it is verified. Returns Unprocessable (invalid_phone_number) for a number that is not
// valid, and Conflict (phone_number_taken) when this tenant has registered it already or
// another clinic has proven it owns it. Another clinic's pending claim is no conflict,
// and nothing tells that it exists.
func (s *Service) Create(ctx context.Context, t tenant.ID, in New) (dbsqlc.PhoneNumber, error) {
	e164, err := Normalize(in.PhoneNumber, s.region)
	if err != nil {
		return dbsqlc.PhoneNumber{}, err
	}
	taken, err := s.verifiedElsewhere(ctx, t, e164)
	if err != nil {
		return dbsqlc.PhoneNumber{}, err
	}
	if taken {
		return dbsqlc.PhoneNumber{}, errTakenByVerified
	}
	var out dbsqlc.PhoneNumber
	err = s.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.CreatePhoneNumber(ctx, dbsqlc.CreatePhoneNumberParams{
			UserID:            string(t),
			PhoneNumber:       e164,
			Label:             in.Label,
			VapiAssistantID:   in.VapiAssistantID,
			VapiPhoneNumberID: in.VapiPhoneNumberID,
		})
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "phone_numbers_user_number_key" {
			return errs.New(errs.CodePhoneNumberTaken, "You have registered this number already.")
		}
		if err != nil {
			return assistantIsTheClinics(err)
		}
		return audit.Record(ctx, q, t, "phone_number.create", "phone_number", out.ID.String(), nil)
	})
	return out, err
}

// Update changes one of the tenant's numbers. Returns NotFound like Get.
func (s *Service) Update(ctx context.Context, t tenant.ID, id uuid.UUID, c Change) (dbsqlc.PhoneNumber, error) {
	var out dbsqlc.PhoneNumber
	err := s.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.UpdatePhoneNumber(ctx, dbsqlc.UpdatePhoneNumberParams{
			UserID:               string(t),
			ID:                   id,
			SetLabel:             c.Label.Set,
			Label:                c.Label.Value,
			SetVapiAssistantID:   c.VapiAssistantID.Set,
			VapiAssistantID:      c.VapiAssistantID.Value,
			SetVapiPhoneNumberID: c.VapiPhoneNumberID.Set,
			VapiPhoneNumberID:    c.VapiPhoneNumberID.Value,
			IsActive:             c.IsActive,
		})
		if err != nil {
			return notFound(assistantIsTheClinics(err))
		}
		return audit.Record(ctx, q, t, "phone_number.update", "phone_number", id.String(), map[string]any{"fields": c.fields()})
	})
	return out, err
}

// fields names what a change sets, for the audit log.
func (c Change) fields() []string {
	var out []string
	for name, set := range map[string]bool{"label": c.Label.Set, "vapi_assistant_id": c.VapiAssistantID.Set,
		"vapi_phone_number_id": c.VapiPhoneNumberID.Set, "is_active": c.IsActive != nil} {
		if set {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Delete removes one of the tenant's numbers; its calls stay, without the reference.
// Returns NotFound like Get.
func (s *Service) Delete(ctx context.Context, t tenant.ID, id uuid.UUID) error {
	return s.db.Tx(ctx, t, func(q *dbsqlc.Queries) error {
		n, err := q.DeletePhoneNumber(ctx, dbsqlc.DeletePhoneNumberParams{UserID: string(t), ID: id})
		if err == nil && n == 0 {
			return errNotFound
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, t, "phone_number.delete", "phone_number", id.String(), nil)
	})
}

// assistantIsTheClinics answers a number that names an assistant the clinic has not
// registered (the foreign key to the clinic's assistants refuses it).
func assistantIsTheClinics(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.ConstraintName == "phone_numbers_assistant_fkey" {
		return errs.New(errs.CodeUnknownAssistant, "vapi_assistant_id is not one of the clinic's assistants; register it first (POST /api/assistants).")
	}
	return err
}

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return errNotFound
	}
	return err
}
