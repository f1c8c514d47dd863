package calls

import (
	"context"
	"log/slog"

	"github.com/google/uuid"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

var errNoRecording = errs.E(errs.NotFound, "no_recording", "This call has no recording.")

// Recording returns a URL the tenant's client may fetch the call's recording from: a fresh
// one from VAPI (whose recordings are private), else the one stored from the report.
// variant is "mono" or "stereo". Returns NotFound when the call is not the tenant's or has
// no recording.
func (s *Service) Recording(ctx context.Context, t tenant.ID, id uuid.UUID, variant string) (string, error) {
	row, err := s.Get(ctx, t, id)
	if err != nil {
		return "", err
	}
	c := row.CallSummary
	stored := c.RecordingUrl
	if variant == "stereo" {
		stored = c.StereoRecordingUrl
	}
	if c.VapiCallID != nil && s.vapi != nil {
		loc, ok, err := s.vapi.RecordingURL(ctx, *c.VapiCallID, variant)
		switch {
		case err != nil:
			s.log.WarnContext(ctx, "VAPI did not give a recording URL; using the stored one",
				slog.String("call_id", id.String()), slog.String("error", err.Error()))
		case ok:
			return loc, nil
		}
	}
	if stored == nil {
		return "", errNoRecording
	}
	return *stored, nil
}

// ExportPageSize is how many calls an export reads per transaction.
const ExportPageSize = MaxLimit

// Export hands every call matching f (Limit and Cursor aside) to emit, page by page,
// newest first. Each page is read in its own short transaction, so an export of any size
// holds no connection between pages and only one page in memory.
func (s *Service) Export(ctx context.Context, t tenant.ID, f Filter, emit func([]dbsqlc.CallSummary) error) error {
	f.Limit, f.Cursor = ExportPageSize, ""
	for {
		page, err := s.List(ctx, t, f)
		if err != nil {
			return err
		}
		if err := emit(page.Calls); err != nil {
			return err
		}
		if page.NextCursor == "" {
			return nil
		}
		f.Cursor = page.NextCursor
	}
}

// EventsAfter returns the tenant's call events after the given id, oldest first: what a
// live stream that reconnects missed. Events are kept for a day.
func (s *Service) EventsAfter(ctx context.Context, t tenant.ID, after int64, emit func(dbsqlc.ListCallEventsAfterRow) error) error {
	for {
		var rows []dbsqlc.ListCallEventsAfterRow
		err := s.db.Read(ctx, t, func(q *dbsqlc.Queries) (err error) {
			rows, err = q.ListCallEventsAfter(ctx, dbsqlc.ListCallEventsAfterParams{UserID: string(t), AfterID: after, RowLimit: 500})
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
			after = r.ID
		}
		if len(rows) < 500 {
			return nil
		}
	}
}
