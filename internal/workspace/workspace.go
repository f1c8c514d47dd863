// Package workspace moves a clinic that signed up alone into its team: the numbers, calls
// and history of a user's personal workspace become an organisation's.
package workspace

import (
	"context"
	"errors"
	"strings"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/audit"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// Moved is the receipt of a move.
type Moved struct {
	PhoneNumbers, Calls, WebhookEvents, Assistants, BlockedCallers int64
	// DroppedSettings counts the workspace's clinic-wide settings (its routing, its callback
	// rules) dropped because the organisation has its own; numbers' own routing always moves.
	DroppedSettings int64
}

// Move moves every row of the personal workspace from (a user id) into the organisation
// to, in one durable transaction, and records the move in the organisation's audit log.
// It refuses (phone_number_taken, nothing moved) when the organisation holds one of the
// workspace's numbers already.
func Move(ctx context.Context, db *tenant.DB, from, to tenant.ID) (Moved, error) {
	if !strings.HasPrefix(string(from), "user_") || !strings.HasPrefix(string(to), "org_") {
		return Moved{}, errors.New("move a personal workspace (user_…) into an organisation (org_…)")
	}
	var moved Moved
	err := db.Atomically(ctx, 0, func(s *tenant.Session) error {
		q := s.Service()
		taken, err := q.WorkspaceConflicts(ctx, dbsqlc.WorkspaceConflictsParams{FromTenant: string(from), ToTenant: string(to)})
		if err != nil {
			return err
		}
		if len(taken) > 0 {
			return errs.New(errs.CodePhoneNumberTaken, "The organisation holds "+strings.Join(taken, ", ")+" already; delete one of the two before moving.")
		}
		row, err := q.MoveWorkspace(ctx, dbsqlc.MoveWorkspaceParams{FromTenant: string(from), ToTenant: string(to)})
		if err != nil {
			return err
		}
		moved = Moved(row)
		return audit.Record(ctx, s.Last(), to, "workspace.move", "workspace", string(from),
			map[string]any{"phone_numbers": row.PhoneNumbers, "calls": row.Calls, "assistants": row.Assistants,
				"blocked_callers": row.BlockedCallers, "dropped_settings": row.DroppedSettings})
	})
	return moved, err
}
