// Package calls holds the whole life of a call, behind three doors:
//
//   - Reader: what a clinic's dashboard reads (the list and search, one call, statistics,
//     the export, the recording, the live-update history).
//   - Intake: the provider messages that make up a call (Twilio's inbound call and status
//     callbacks, VAPI's server messages): each is kept in the inbox, applied to the call
//     of the tenant Switchboard's own records say owns it, and answered.
//   - Jobs: the background work (reprocessing the inbox, draining the spool, reconciling
//     calls left open, indexing transcripts for search, pruning live-update history).
//
// Intake and Jobs apply events through one recorder (recorder.go), so an event is applied
// the same way whether it arrives live or is reprocessed. The Hub (events.go) streams
// call changes to live clients. Every door reaches the database through tenant.DB.
package calls

import (
	"log/slog"
	"time"

	"github.com/switchboard-health/switchboard/internal/spool"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/twilio"
	"github.com/switchboard-health/switchboard/internal/vapi"
)

// Deps are what the doors are built from; each uses only what it needs.
type Deps struct {
	DB *tenant.DB
	// CallerDB, when not nil, is where Twilio's voice and dial webhooks are recorded: a
	// pool of its own, so that reports, reads and background work holding every
	// connection of DB never keep a caller on the line waiting for one.
	CallerDB *tenant.DB
	VAPI     *vapi.Client // may be nil for a Reader: recordings then use the stored URL
	Spool    *spool.Spool // where VAPI messages wait while the database is down; may be nil
	Region   string       // for reading numbers without a country code
	Log      *slog.Logger
	// RecordingHosts are where clients may be sent to play a recording (RECORDING_HOSTS).
	RecordingHosts []string
	// HandoffWait bounds how long a repeat of a voice webhook waits for the first
	// delivery's TwiML (default 10 s; Twilio gives up on a webhook after 15 s).
	HandoffWait time.Duration
	// Now is the clock routing decides by (whether a clinic is open); time.Now when nil.
	Now func() time.Time
	// Recordings fetches voicemails from Twilio for a Reader; nil plays none.
	Recordings *twilio.Recordings
}

func (d Deps) recorder() *recorder {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &recorder{db: d.DB, region: d.Region, log: d.Log, now: d.Now}
}
