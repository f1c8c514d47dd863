// Package lifecycle decides how long a clinic's data is kept and applies it: the clinic's
// settings (HIPAA mode, retention windows), the purge job that removes what has expired,
// and the closing of accounts whose Clerk organisation or user was deleted.
package lifecycle

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/audit"
	"github.com/switchboard-health/switchboard/internal/pgtext"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// Windows are retention windows in days, counted from a call's start: how long its
// transcript and messages, its recordings, and the call record itself are kept. 0 keeps
// none.
type Windows struct {
	Transcripts, Recordings, Calls int
}

// Defaults are the windows of a clinic that set none: a year of transcripts, 90 days of
// recordings, and six years of call records (HIPAA's retention period for documentation).
var Defaults = Windows{Transcripts: 365, Recordings: 90, Calls: 6 * 365}

// Strictest are the windows of a clinic in HIPAA mode, whatever it set: the shortest each
// setting allows, and no recordings at all.
var Strictest = Windows{Transcripts: 7, Recordings: 0, Calls: 30}

// Retention is what a clinic set; nil is the default.
type Retention struct {
	Transcripts, Recordings, Calls *int32
}

// Effective returns the windows in force.
func (r Retention) Effective(hipaa bool) Windows {
	if hipaa {
		return Strictest
	}
	pick := func(set *int32, def int) int {
		if set == nil {
			return def
		}
		return int(*set)
	}
	return Windows{
		Transcripts: pick(r.Transcripts, Defaults.Transcripts),
		Recordings:  pick(r.Recordings, Defaults.Recordings),
		Calls:       pick(r.Calls, Defaults.Calls),
	}
}

// Settings is the clinic's own: HIPAA mode and its retention windows.
type Settings struct {
	HIPAAMode bool
	Retention Retention
}

// State is the settings with what follows from them.
type State struct {
	Settings
	Effective Windows
	// LastRun is when the purge job last finished a run; nil before the first.
	LastRun *time.Time
}

// Clinics reads and writes clinics' settings.
type Clinics struct{ db *tenant.DB }

// NewClinics returns the clinics' settings over db.
func NewClinics(db *tenant.DB) *Clinics { return &Clinics{db: db} }

// Get returns tenant t's settings, the defaults when it set none.
func (c *Clinics) Get(ctx context.Context, t tenant.ID) (State, error) {
	var st State
	err := c.db.Tx(ctx, t, func(q *dbsqlc.Queries) error {
		row, err := q.GetClinicSettings(ctx, string(t))
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		st = stateOf(row)
		run, err := q.LastRetentionRun(ctx)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		st.LastRun = run.FinishedAt
		return err
	})
	return st, err
}

// Put replaces tenant t's settings, audited with what they now are.
func (c *Clinics) Put(ctx context.Context, t tenant.ID, s Settings) (State, error) {
	var st State
	err := c.db.Tx(ctx, t, func(q *dbsqlc.Queries) error {
		row, err := q.PutClinicSettings(ctx, dbsqlc.PutClinicSettingsParams{
			UserID: string(t), HipaaMode: s.HIPAAMode, TranscriptRetentionDays: s.Retention.Transcripts,
			RecordingRetentionDays: s.Retention.Recordings, CallRetentionDays: s.Retention.Calls,
			UpdatedBy: pgtext.Optional(audit.Actor(ctx)),
		})
		if err != nil {
			return err
		}
		st = stateOf(row)
		return audit.Record(ctx, q, t, "clinic_settings.update", "clinic_settings", "", map[string]any{
			"hipaa_mode": s.HIPAAMode, "transcripts_days": s.Retention.Transcripts,
			"recordings_days": s.Retention.Recordings, "calls_days": s.Retention.Calls})
	})
	return st, err
}

func stateOf(row dbsqlc.ClinicSetting) State {
	s := Settings{HIPAAMode: row.HipaaMode, Retention: Retention{
		Transcripts: row.TranscriptRetentionDays, Recordings: row.RecordingRetentionDays, Calls: row.CallRetentionDays}}
	return State{Settings: s, Effective: s.Retention.Effective(s.HIPAAMode)}
}

// Purges returns tenant t's purge records, newest first, before the one with id before
// (0: from the newest), at most limit.
func (c *Clinics) Purges(ctx context.Context, t tenant.ID, before int64, limit int) ([]dbsqlc.RetentionPurge, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	var out []dbsqlc.RetentionPurge
	err := c.db.Read(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.ListRetentionPurges(ctx, dbsqlc.ListRetentionPurgesParams{UserID: string(t), BeforeID: before, RowLimit: int32(limit)})
		return err
	})
	return out, err
}

// CheckOpen returns account_closed (Forbidden) when tenant t's account is closed, and
// Unauthorized when the person acting was removed from it since their session began: for
// a request, such as opening a live stream, that reads nothing from the database first.
func (c *Clinics) CheckOpen(ctx context.Context, t tenant.ID) error {
	return c.db.Read(ctx, t, func(q *dbsqlc.Queries) error {
		_, err := q.TenantOpen(ctx)
		return err
	})
}
