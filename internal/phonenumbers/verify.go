package phonenumbers

import (
	"context"
	"errors"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/audit"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/twilio"
)

// Verification states of a number.
const (
	StatusPending  = "pending"
	StatusVerified = "verified"
)

// Ways a claim is proven.
const (
	byCode     = "code"
	byOperator = "operator"
)

var (
	errTakenByVerified = errs.New(errs.CodePhoneNumberTaken, "Another clinic has proven that it owns this number.")
	errAlreadyVerified = errs.New(errs.CodeAlreadyVerified, "This number is verified already.")
	errNoVerify        = errs.New(errs.CodeUnavailable, "Number verification is not configured on this server; ask the operator to verify the number.")
	errRefused         = errs.New(errs.CodeVerificationRefused, "Twilio Verify will not send a code to this number that way now. A landline cannot receive an SMS: try the call channel; after several attempts, wait ten minutes.")
	errInvalidCode     = errs.New(errs.CodeInvalidCode, "That is not the code sent to this number, or the code expired; check it, or start a new verification.")
)

// StartVerification sends a one-time code to one of the tenant's pending numbers, by SMS
// or by a call ("sms" or "call"), so that the clinic can prove it answers the line.
// Returns NotFound like Get, Conflict when the number is verified (already_verified) or
// another clinic's claim of it is (phone_number_taken), Unprocessable when Twilio Verify
// refuses, and Unavailable when Verify is not configured or cannot be reached.
func (s *Service) StartVerification(ctx context.Context, t tenant.ID, id uuid.UUID, channel string) (dbsqlc.PhoneNumber, error) {
	pn, err := s.pendingClaim(ctx, t, id)
	if err != nil {
		return pn, err
	}
	if err := s.verify.Start(pn.PhoneNumber, channel); err != nil {
		return pn, s.verifyError(ctx, err)
	}
	return pn, nil
}

// CheckVerification checks the code the clinic received and, when it is the one sent,
// makes the tenant's claim the verified one: from then on the number routes calls.
// Returns errors as StartVerification does, and Unprocessable (invalid_verification_code)
// for a wrong or expired code.
func (s *Service) CheckVerification(ctx context.Context, t tenant.ID, id uuid.UUID, code string) (dbsqlc.PhoneNumber, error) {
	pn, err := s.pendingClaim(ctx, t, id)
	if err != nil {
		return pn, err
	}
	approved, err := s.verify.Check(pn.PhoneNumber, code)
	if errors.Is(err, twilio.ErrNoPendingCode) || (err == nil && !approved) {
		return pn, errInvalidCode
	}
	if err != nil {
		return pn, s.verifyError(ctx, err)
	}
	return s.markVerified(ctx, t, id, byCode)
}

// MarkVerified makes the tenant's claim of number verified without a code: for numbers
// the operator provisioned (`switchboard verify-number`). Returns NotFound when the tenant
// has not registered the number, and Conflict (phone_number_taken) when another clinic's
// claim is verified.
func (s *Service) MarkVerified(ctx context.Context, t tenant.ID, number string) (dbsqlc.PhoneNumber, error) {
	e164, err := Normalize(number, s.region)
	if err != nil {
		return dbsqlc.PhoneNumber{}, err
	}
	var pn dbsqlc.PhoneNumber
	err = s.db.Read(ctx, t, func(q *dbsqlc.Queries) (err error) {
		pn, err = q.GetPhoneNumberByNumber(ctx, dbsqlc.GetPhoneNumberByNumberParams{UserID: string(t), PhoneNumber: e164})
		return notFound(err)
	})
	if err != nil {
		return pn, err
	}
	return s.markVerified(ctx, t, pn.ID, byOperator)
}

// pendingClaim returns the tenant's number when a code may prove it: Verify is configured,
// the claim is pending, and no other clinic's claim is verified.
func (s *Service) pendingClaim(ctx context.Context, t tenant.ID, id uuid.UUID) (dbsqlc.PhoneNumber, error) {
	pn, err := s.Get(ctx, t, id)
	switch {
	case err != nil:
		return pn, err
	case pn.VerificationStatus == StatusVerified:
		return pn, errAlreadyVerified
	case s.verify == nil:
		return pn, errNoVerify
	}
	taken, err := s.verifiedElsewhere(ctx, t, pn.PhoneNumber)
	if err == nil && taken {
		err = errTakenByVerified
	}
	return pn, err
}

func (s *Service) markVerified(ctx context.Context, t tenant.ID, id uuid.UUID, by string) (dbsqlc.PhoneNumber, error) {
	var pn dbsqlc.PhoneNumber
	err := s.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		pn, err = q.MarkPhoneNumberVerified(ctx, dbsqlc.MarkPhoneNumberVerifiedParams{UserID: string(t), ID: id, VerifiedBy: &by})
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "verified_numbers_pkey" {
			return errTakenByVerified
		}
		if err != nil {
			return notFound(err)
		}
		return audit.Record(ctx, q, t, "phone_number.verify", "phone_number", id.String(), map[string]any{"by": by})
	})
	return pn, err
}

// verifiedElsewhere reports whether another clinic's claim of number is verified. It
// asks as the service, since no tenant sees another's claims, and learns only yes or no.
func (s *Service) verifiedElsewhere(ctx context.Context, t tenant.ID, number string) (bool, error) {
	var taken bool
	err := s.db.Service(ctx, func(q *dbsqlc.Queries) (err error) {
		taken, err = q.IsNumberVerifiedElsewhere(ctx, dbsqlc.IsNumberVerifiedElsewhereParams{PhoneNumber: number, UserID: string(t)})
		return err
	})
	return taken, err
}

func (s *Service) verifyError(ctx context.Context, err error) error {
	if errors.Is(err, twilio.ErrRefused) {
		s.log.InfoContext(ctx, "Twilio Verify refused", slog.String("error", err.Error()))
		return errRefused
	}
	return errs.NewCause(errs.CodeUnavailable, "Twilio Verify cannot be reached; try again shortly.", err)
}
