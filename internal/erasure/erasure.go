// Package erasure erases what Switchboard holds about one caller: a patient's right to
// have their data removed. One request removes the caller's calls with their transcripts,
// messages, search vectors, recordings' URLs, callbacks and pending webhook deliveries,
// the clinic's block of the number, the calls' live-update history, and the content of
// the raw webhooks about them, all in one transaction, and returns a receipt.
package erasure

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/audit"
	"github.com/switchboard-health/switchboard/internal/phonenumbers"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// Receipt is what an erasure removed.
type Receipt struct {
	Calls, Transcripts, Recordings, WebhookDeliveries, BlockedCallers, LiveEvents, InboxPayloads int64
	ErasedAt                                                                                     time.Time
}

// Eraser erases callers' data.
type Eraser struct {
	db     *tenant.DB
	region string
}

// New returns an Eraser that reads numbers without a country code in region.
func New(db *tenant.DB, region string) *Eraser { return &Eraser{db: db, region: region} }

// Erase removes everything tenant t holds about the caller number (any common form).
// Returns Unprocessable (invalid_phone_number) for a number that cannot call. The audit
// entry counts what was removed and names the number only by a digest.
func (e *Eraser) Erase(ctx context.Context, t tenant.ID, number string) (Receipt, error) {
	e164, err := phonenumbers.Normalize(number, e.region)
	if err != nil {
		return Receipt{}, err
	}
	var r Receipt
	err = e.db.Atomically(ctx, 0, func(s *tenant.Session) error {
		r = Receipt{}
		var ids []uuid.UUID
		err := s.As(t, func(q *dbsqlc.Queries) error {
			calls, err := q.CallsOfCaller(ctx, dbsqlc.CallsOfCallerParams{UserID: string(t), CallerNumber: &e164})
			if err != nil {
				return err
			}
			for _, c := range calls {
				ids = append(ids, c.ID)
				r.Recordings += count(c.HadRecording)
				r.Transcripts += count(c.HadTranscript)
			}
			gone, err := q.DeleteCalls(ctx, dbsqlc.DeleteCallsParams{UserID: string(t), Ids: ids})
			if err != nil {
				return err
			}
			r.Calls, r.WebhookDeliveries = gone.Calls, gone.WebhookDeliveries
			if r.BlockedCallers, err = q.DeleteBlockedCallerByNumber(ctx, dbsqlc.DeleteBlockedCallerByNumberParams{UserID: string(t), PhoneNumber: e164}); err != nil {
				return err
			}
			return audit.Record(ctx, q, t, "caller.erase", "caller", digest(e164), map[string]any{
				"calls": r.Calls, "transcripts": r.Transcripts, "recordings": r.Recordings})
		})
		if err != nil {
			return err
		}
		logs, err := s.Last().EraseCallLogs(ctx, dbsqlc.EraseCallLogsParams{UserID: string(t), Ids: ids})
		r.LiveEvents, r.InboxPayloads = logs.LiveEvents, logs.InboxPayloads
		return err
	})
	r.ErasedAt = time.Now().UTC()
	return r, err
}

// digest names a number in the audit log without writing it: the first 16 hex digits of
// its SHA-256.
func digest(e164 string) string {
	sum := sha256.Sum256([]byte(e164))
	return "sha256:" + hex.EncodeToString(sum[:8])
}

func count(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
