package phonenumbers

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// Service registers and manages a tenant's phone numbers.
type Service struct {
	db     *tenant.DB
	region string
}

// NewService returns a Service that reads numbers without a country code in region.
func NewService(db *tenant.DB, region string) *Service {
	return &Service{db: db, region: region}
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

// Create registers a number for the tenant. Returns Unprocessable (invalid_phone_number)
// for a number that is not valid, and Conflict (phone_number_taken) when any tenant holds
// it already; the answer does not say which.
func (s *Service) Create(ctx context.Context, t tenant.ID, in New) (dbsqlc.PhoneNumber, error) {
	e164, err := Normalize(in.PhoneNumber, s.region)
	if err != nil {
		return dbsqlc.PhoneNumber{}, err
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
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "phone_numbers_phone_number_key" {
			return errs.New(errs.CodePhoneNumberTaken, "This phone number is already registered.")
		}
		return err
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
		return notFound(err)
	})
	return out, err
}

// Delete removes one of the tenant's numbers; its calls stay, without the reference.
// Returns NotFound like Get.
func (s *Service) Delete(ctx context.Context, t tenant.ID, id uuid.UUID) error {
	return s.db.Tx(ctx, t, func(q *dbsqlc.Queries) error {
		n, err := q.DeletePhoneNumber(ctx, dbsqlc.DeletePhoneNumberParams{UserID: string(t), ID: id})
		if err == nil && n == 0 {
			return errNotFound
		}
		return err
	})
}

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return errNotFound
	}
	return err
}
