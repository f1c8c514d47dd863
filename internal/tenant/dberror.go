package tenant

import (
	"context"
	"errors"
	"net"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-health/switchboard/internal/errs"
)

// DatabaseError classifies a database failure: a database that cannot be reached is
// Unavailable (a 503 the client may retry), a closed account or a removed member's session
// (refused by tenant_open) is Forbidden or Unauthorized, anything else is Internal. Errors that already
// carry a kind are returned unchanged.
func DatabaseError(err error) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) && e.Kind != errs.Internal {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errs.NewCause(errs.CodeUnavailable, "The request was cancelled or timed out.", err)
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr), pgconn.SafeToRetry(err):
		return errs.NewCause(errs.CodeUnavailable, "The database is unavailable; try again shortly.", err)
	case errors.As(err, &pgErr) && (pgErr.Code[:2] == "08" || pgErr.Code == "57P01" || pgErr.Code == "57P03"):
		// Connection exceptions, admin shutdown, cannot connect now.
		return errs.NewCause(errs.CodeUnavailable, "The database is unavailable; try again shortly.", err)
	case errors.As(err, &pgErr) && pgErr.Code == "SW003":
		return errs.NewCause(errs.CodeAccountClosed, "This account is closed: its Clerk organisation or user was deleted.", err)
	case errors.As(err, &pgErr) && pgErr.Code == "SW004":
		return errs.NewCause(errs.CodeUnauthorized, "This session was issued before you were removed from the organisation.", err)
	}
	if e != nil {
		return err
	}
	return errs.Wrap(err, "database error")
}
