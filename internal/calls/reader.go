package calls

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/vapi"
)

// Reader is what a clinic's dashboard reads of its calls: pages and searches (list.go),
// one call, statistics (stats.go), the export, the recording and the live-update history.
// Every read runs in the tenant's transaction.
type Reader struct {
	db             *tenant.DB
	vapi           *vapi.Client // for fresh recording URLs; may be nil
	log            *slog.Logger
	recordingHosts []string
}

// NewReader returns the Reader.
func NewReader(d Deps) *Reader {
	return &Reader{db: d.DB, vapi: d.VAPI, log: d.Log, recordingHosts: d.RecordingHosts}
}

var errNoRecording = errs.New(errs.CodeNoRecording, "This call has no recording.")

// Recording returns a URL the tenant's client may fetch the call's recording from: a fresh
// one from VAPI (whose recordings are private), else the one stored from the report.
// variant is "mono" or "stereo". Returns NotFound when the call is not the tenant's or has
// no recording.
func (s *Reader) Recording(ctx context.Context, t tenant.ID, id uuid.UUID, variant string) (string, error) {
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
		case ok && s.playable(loc):
			return loc, nil
		case ok:
			s.log.WarnContext(ctx, "VAPI gave a recording URL off the storage hosts; using the stored one",
				slog.String("call_id", id.String()))
		}
	}
	if stored == nil {
		return "", errNoRecording
	}
	if !s.playable(*stored) {
		return "", errUnplayable
	}
	return *stored, nil
}

var errUnplayable = errs.New(errs.CodeNoRecording, "This call's recording is not at an address Switchboard sends clients to (https on the providers' storage hosts).")

// playable reports whether clients may be sent to raw: https, without credentials, on one
// of the storage hosts (a host, or "*.domain" for its subdomains). A stored URL comes
// from a provider's payload; sending a clinic's browser anywhere else would make the
// redirect an open one.
func (s *Reader) playable(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, h := range s.recordingHosts {
		if suffix, ok := strings.CutPrefix(h, "*."); ok && strings.HasSuffix(host, "."+suffix) || host == h {
			return true
		}
	}
	return false
}

// ExportPageSize is how many calls an export reads per transaction.
const ExportPageSize = MaxLimit

// Export is an export under way: every call matching a filter, page by page, newest
// first. Each page is read in its own short transaction, so an export of any size holds
// no connection between pages and only one page in memory. Its first page is read when
// it starts, so that what fails before anything is sent is an error the client can still
// be told.
type Export struct {
	r    *Reader
	t    tenant.ID
	f    Filter
	page Page
}

// StartExport reads the first page of an export of the tenant's calls matching f (Limit
// and Cursor aside). Returns Invalid for a filter List refuses.
func (s *Reader) StartExport(ctx context.Context, t tenant.ID, f Filter) (*Export, error) {
	f.Limit, f.Cursor = ExportPageSize, ""
	page, err := s.List(ctx, t, f)
	if err != nil {
		return nil, err
	}
	return &Export{r: s, t: t, f: f, page: page}, nil
}

// Each hands every page to emit, the first one included, and stops at emit's first error
// or the first page it cannot read.
func (e *Export) Each(ctx context.Context, emit func([]dbsqlc.CallSummary) error) error {
	for {
		if err := emit(e.page.Calls); err != nil {
			return err
		}
		if e.page.NextCursor == "" {
			return nil
		}
		e.f.Cursor = e.page.NextCursor
		page, err := e.r.List(ctx, e.t, e.f)
		if err != nil {
			return err
		}
		e.page = page
	}
}

// EventsAfter emits the tenant's settled call events that follow the event with id
// after, in the order live streams deliver them: what a reconnecting stream missed. It
// returns that event's position; an event not kept (older than a day) or not the
// tenant's is before every kept one, so everything kept follows it.
func (s *Reader) EventsAfter(ctx context.Context, t tenant.ID, after int64, emit func(Event) error) (Position, error) {
	from := Position{ID: after}
	err := s.db.Read(ctx, t, func(q *dbsqlc.Queries) error {
		p, err := q.CallEventPosition(ctx, dbsqlc.CallEventPositionParams{UserID: string(t), ID: after})
		if err == nil {
			from = Position{p.Xid, p.ID}
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return nil
	})
	if err != nil {
		return from, err
	}
	for at := from; ; {
		var rows []dbsqlc.ListCallEventsAfterRow
		err := s.db.Read(ctx, t, func(q *dbsqlc.Queries) (err error) {
			rows, err = q.ListCallEventsAfter(ctx, dbsqlc.ListCallEventsAfterParams{UserID: string(t), AfterXid: at.XID, AfterID: at.ID, RowLimit: 500})
			return err
		})
		if err != nil {
			return from, err
		}
		for _, r := range rows {
			ev := eventOf(r)
			if err := emit(ev); err != nil {
				return from, err
			}
			at = ev.At
		}
		if len(rows) < 500 {
			return from, nil
		}
	}
}
