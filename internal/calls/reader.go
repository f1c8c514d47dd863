package calls

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/audit"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/twilio"
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
	voicemails     *twilio.Recordings // may be nil: voicemails are then not played
}

// NewReader returns the Reader.
func NewReader(d Deps) *Reader {
	return &Reader{db: d.DB, vapi: d.VAPI, log: d.Log, recordingHosts: d.RecordingHosts, voicemails: d.Recordings}
}

var errNoRecording = errs.New(errs.CodeNoRecording, "This call has no recording.")

var errRecordingPurged = errs.New(errs.CodeRecordingPurged, "This call's recording was removed when the clinic's retention window for recordings ended.")

// Playback is how a client plays a recording: a URL to redirect to, or a voicemail's
// audio streamed through the server (Media, which the caller closes).
type Playback struct {
	URL   string
	Media *twilio.Media
}

// Recording returns how the tenant's client plays the call's recording: VAPI's at a fresh
// URL from VAPI (whose recordings are private), else the one stored from the report; a
// voicemail (variant "voicemail", or "mono" for a call that has only a voicemail) fetched
// from Twilio with the account's credentials and streamed. variant is "mono", "stereo" or
// "voicemail". Returns NotFound when the call is not the tenant's or has no recording.
func (s *Reader) Recording(ctx context.Context, t tenant.ID, id uuid.UUID, variant string) (Playback, error) {
	row, err := s.get(ctx, t, id, "call.recording")
	if err != nil {
		return Playback{}, err
	}
	c := row.CallSummary
	if c.RecordingPurgedAt != nil {
		// Not even VAPI is asked: the clinic's window says the recording is no longer to be played.
		return Playback{}, errRecordingPurged
	}
	if variant == "voicemail" || variant == "mono" && c.VoicemailRecordingSid != nil && c.RecordingUrl == nil && c.VapiCallID == nil {
		return s.voicemail(ctx, c)
	}
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
			return Playback{URL: loc}, nil
		case ok:
			s.log.WarnContext(ctx, "VAPI gave a recording URL off the storage hosts; using the stored one",
				slog.String("call_id", id.String()))
		}
	}
	if stored == nil {
		return Playback{}, errNoRecording
	}
	if !s.playable(*stored) {
		return Playback{}, errUnplayable
	}
	return Playback{URL: *stored}, nil
}

// voicemail fetches the call's voicemail from Twilio.
func (s *Reader) voicemail(ctx context.Context, c dbsqlc.CallSummary) (Playback, error) {
	if c.VoicemailRecordingSid == nil {
		return Playback{}, errNoRecording
	}
	if s.voicemails == nil {
		return Playback{}, errs.New(errs.CodeUnavailable, "This server has no Twilio account to fetch voicemails with.")
	}
	m, err := s.voicemails.Open(ctx, *c.VoicemailRecordingSid)
	if errors.Is(err, twilio.ErrNoRecording) {
		return Playback{}, errNoRecording
	}
	if err != nil {
		return Playback{}, errs.NewCause(errs.CodeUnavailable, "Twilio could not be asked for the voicemail; try again.", err)
	}
	return Playback{Media: &m}, nil
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
	sent int // calls handed out so far
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
// or the first page it cannot read. Then it records the export in the tenant's audit log:
// how many calls it handed out, and whether that was all of them.
func (e *Export) Each(ctx context.Context, emit func([]dbsqlc.CallSummary) error) error {
	err := e.each(ctx, emit)
	// A fresh context: an export cut short by its client is recorded too.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	// Committed as a read's audit entry is (tenant.DB.Read): without waiting for the disk.
	rerr := e.r.db.Redoable(actx, e.t, func(q *dbsqlc.Queries) error {
		return audit.Record(actx, q, e.t, "calls.export", "calls", "", map[string]any{"calls": e.sent, "complete": err == nil})
	})
	return errors.Join(err, rerr)
}

func (e *Export) each(ctx context.Context, emit func([]dbsqlc.CallSummary) error) error {
	for {
		if err := emit(e.page.Calls); err != nil {
			return err
		}
		e.sent += len(e.page.Calls)
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

// MaxReplay is how many missed events a resumed live stream is sent at most. A client
// further behind is told to reset (refetch what it shows) instead: replaying a day of a
// busy clinic's changes would hold a connection for long and tell the client less than a
// fresh page does.
const MaxReplay = 500

// Replay is what a resuming live stream is sent before it goes on live.
type Replay struct {
	Events []Event  // the events the client missed, in order
	From   Position // where the stream goes on from: events at or before it are not sent
	Reset  bool     // the client missed more than MaxReplay events: it refetches instead
}

// EventsAfter returns what a client that last saw the tenant's event with id after
// missed: the settled events after it, in the order live streams deliver them, at most
// MaxReplay of them, read in two single-statement reads. An event not kept (older than a
// day) or not the tenant's is before every kept one, so everything kept follows it. A
// client further behind is told to reset, and the stream goes on from the horizon: what
// settled before it, the client's refetch holds.
func (s *Reader) EventsAfter(ctx context.Context, t tenant.ID, after int64) (Replay, error) {
	r := Replay{From: Position{ID: after}}
	err := s.db.Read(ctx, t, func(q *dbsqlc.Queries) error {
		p, err := q.CallEventPosition(ctx, dbsqlc.CallEventPositionParams{UserID: string(t), ID: after})
		if err == nil {
			r.From = Position{p.Xid, p.ID}
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	var rows []dbsqlc.ListCallEventsAfterRow
	err = s.db.Read(ctx, t, func(q *dbsqlc.Queries) (err error) {
		rows, err = q.ListCallEventsAfter(ctx, dbsqlc.ListCallEventsAfterParams{UserID: string(t), AfterXid: r.From.XID, AfterID: r.From.ID, RowLimit: MaxReplay + 1})
		return err
	})
	if err != nil || len(rows) > MaxReplay {
		r.Reset = err == nil
		return r, cmp.Or(err, s.horizon(ctx, t, &r.From))
	}
	r.Events = make([]Event, len(rows))
	for i, row := range rows {
		r.Events[i] = eventOf(row)
	}
	return r, nil
}

// horizon sets at to the position below which every event has settled.
func (s *Reader) horizon(ctx context.Context, t tenant.ID, at *Position) error {
	return s.db.Read(ctx, t, func(q *dbsqlc.Queries) error {
		horizon, err := q.CallEventsHorizon(ctx)
		*at = Position{XID: horizon}
		return err
	})
}
