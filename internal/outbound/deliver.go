package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/pgtext"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// Version is the version of the events' body; a change that breaks receivers gets a new one.
const Version = "2026-12-01"

// Deliverer sends deliveries: one attempt each time Deliver is called (River calls it,
// and retries what fails).
type Deliverer struct {
	db           *tenant.DB
	client       *http.Client
	call         func(dbsqlc.CallSummary) any // the call as the API represents it
	disableAfter time.Duration
	log          *slog.Logger
	now          func() time.Time
}

// DelivererConfig is what a Deliverer needs.
type DelivererConfig struct {
	DB *tenant.DB
	// Call turns a call into the representation the API returns, for events' bodies.
	Call func(dbsqlc.CallSummary) any
	// AllowPrivate lets deliveries reach loopback and private addresses (tests,
	// development; OUTBOUND_WEBHOOKS_ALLOW_PRIVATE).
	AllowPrivate bool
	// Timeout bounds one attempt (default 10 s).
	Timeout time.Duration
	// DisableAfter disables an endpoint that has failed every attempt for this long
	// (default 72 h: the span of the retries).
	DisableAfter time.Duration
	Log          *slog.Logger
}

// NewDeliverer returns a Deliverer.
func NewDeliverer(c DelivererConfig) *Deliverer {
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.DisableAfter == 0 {
		c.DisableAfter = 72 * time.Hour
	}
	return &Deliverer{db: c.DB, client: newClient(c.AllowPrivate, c.Timeout), call: c.Call,
		disableAfter: c.DisableAfter, log: c.Log, now: time.Now}
}

// Outcome is what became of one attempt.
type Outcome int

// Outcomes.
const (
	// Delivered: the endpoint answered 2xx.
	Delivered Outcome = iota
	// Wait: an earlier delivery about the same call to the same endpoint is still on its
	// way; try this one again shortly (events about a call arrive in order).
	Wait
	// Retry: the attempt failed; try again later.
	Retry
	// Gone: nothing to send any more (the endpoint was deleted or disabled, or this was
	// the last attempt).
	Gone
)

// maxResponse bounds what is read and kept of an endpoint's answer.
const maxResponse = 4096

// Deliver makes one attempt at delivery id; last says it is the last one River makes.
func (d *Deliverer) Deliver(ctx context.Context, id uuid.UUID, last bool) (Outcome, error) {
	row, body, err := d.load(ctx, id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Gone, nil // its endpoint was deleted, and the delivery with it
	case err != nil:
		return Retry, err
	case !row.Enabled:
		return Gone, d.dead(ctx, id, "the endpoint is disabled")
	case row.Status == "succeeded" || row.Status == "dead":
		return Gone, nil
	case row.Waiting:
		return Wait, nil
	}
	status, answer, sendErr := d.send(ctx, row, body)
	return d.record(ctx, row, body, last, status, answer, sendErr)
}

// envelope is an event's body.
type envelope struct {
	Type      string    `json:"type"`
	Version   string    `json:"version"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// load reads the delivery and its endpoint (as the service: the queue is every
// clinic's) and the body to send: the one fixed at an earlier attempt, or else the event
// with the call as it stands, read in the call's tenant transaction (and kept with this
// attempt's record).
func (d *Deliverer) load(ctx context.Context, id uuid.UUID) (dbsqlc.GetDeliveryToSendRow, []byte, error) {
	var row dbsqlc.GetDeliveryToSendRow
	err := d.db.Service(ctx, func(q *dbsqlc.Queries) (err error) {
		row, err = q.GetDeliveryToSend(ctx, id)
		return err
	})
	if err != nil || len(row.Payload) > 0 || row.Waiting || !row.Enabled {
		return row, row.Payload, err
	}
	ev := envelope{Type: row.EventType, Version: Version, Timestamp: row.CreatedAt.UTC(), Data: map[string]any{}}
	if row.CallID != nil {
		err = d.db.Read(ctx, tenant.ID(row.UserID), func(q *dbsqlc.Queries) error {
			c, err := q.GetCallSummaryForWebhook(ctx, dbsqlc.GetCallSummaryForWebhookParams{UserID: row.UserID, ID: *row.CallID})
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				// The call is gone since (erased): the event still says which it was.
				ev.Data = map[string]any{"call_id": row.CallID}
				return nil
			case err != nil:
				return err
			}
			ev.Data = map[string]any{"call": d.call(c)}
			return nil
		})
		if err != nil {
			return row, nil, err
		}
	}
	body, err := json.Marshal(ev)
	return row, body, err
}

// send posts body, signed with the endpoint's secret (and its previous one during the
// rotation's grace period), and returns the answer's status and its first bytes.
func (d *Deliverer) send(ctx context.Context, row dbsqlc.GetDeliveryToSendRow, body []byte) (int, string, error) {
	msgID := "msg_" + strings.ReplaceAll(row.MessageID.String(), "-", "")
	at := d.now()
	secrets := []string{row.Secret}
	if row.PreviousSecret != nil && row.PreviousSecretUntil != nil && at.Before(*row.PreviousSecretUntil) {
		secrets = append(secrets, *row.PreviousSecret)
	}
	var sigs []string
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			return 0, "", fmt.Errorf("a signing secret does not read: %w", err)
		}
		sig, err := wh.Sign(msgID, at, body)
		if err != nil {
			return 0, "", err
		}
		sigs = append(sigs, sig)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, row.Url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard-Webhooks/1")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", strings.Join(sigs, " "))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
	return resp.StatusCode, strings.ToValidUTF8(string(answer), "\uFFFD"), nil
}

// record keeps an attempt's result, and the endpoint's failure streak.
func (d *Deliverer) record(ctx context.Context, row dbsqlc.GetDeliveryToSendRow, body []byte, last bool, status int, answer string, sendErr error) (Outcome, error) {
	ok := sendErr == nil && status >= 200 && status < 300
	p := dbsqlc.RecordDeliveryAttemptParams{ID: row.ID, Payload: body, Status: "failed", ResponseBody: pgtext.Optional(truncate(answer, maxResponse))}
	if status != 0 {
		s := int32(status)
		p.ResponseStatus = &s
	}
	switch {
	case ok:
		p.Status = "succeeded"
	case last:
		p.Status = "dead"
	}
	if sendErr != nil {
		p.Error = pgtext.Optional(truncate(sendErr.Error(), 1000))
	} else if !ok {
		p.Error = pgtext.Optional(fmt.Sprintf("the endpoint answered %d", status))
	}
	err := d.db.Service(ctx, func(q *dbsqlc.Queries) error {
		if err := q.RecordDeliveryAttempt(ctx, p); err != nil {
			return err
		}
		if ok {
			return q.EndpointAnswered(ctx, row.EndpointID)
		}
		enabled, err := q.EndpointFailed(ctx, dbsqlc.EndpointFailedParams{ID: row.EndpointID,
			DisableAfter: pgInterval(d.disableAfter), Reason: pgtext.Optional("every delivery failed for " + d.disableAfter.String() + "; the last: " + deref(p.Error))})
		if err == nil && !enabled && row.Enabled {
			d.log.WarnContext(ctx, "webhook endpoint disabled after failing", slog.String("endpoint_id", row.EndpointID.String()))
		}
		return err
	})
	switch {
	case err != nil:
		return Retry, err
	case ok:
		return Delivered, nil
	case last:
		return Gone, nil
	}
	return Retry, errors.New(deref(p.Error))
}

// dead marks a delivery that will not be sent.
func (d *Deliverer) dead(ctx context.Context, id uuid.UUID, why string) error {
	return d.db.Service(ctx, func(q *dbsqlc.Queries) error {
		return q.MarkDeliveryDead(ctx, dbsqlc.MarkDeliveryDeadParams{ID: id, Error: &why})
	})
}

func truncate(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// pgInterval is d as a PostgreSQL interval.
func pgInterval(d time.Duration) pgtype.Interval {
	return pgtype.Interval{Microseconds: d.Microseconds(), Valid: true}
}

// DeliveryRetention is how long a finished delivery (succeeded or dead) is kept, with the
// body it sent, for the clinic to look at.
const DeliveryRetention = 30 * 24 * time.Hour

// Prune deletes finished deliveries older than DeliveryRetention, a thousand at a time,
// each batch its own short transaction; it returns how many it deleted.
func (d *Deliverer) Prune(ctx context.Context) (int64, error) {
	var total int64
	for {
		var n int64
		err := d.db.Service(ctx, func(q *dbsqlc.Queries) (err error) {
			n, err = q.PruneWebhookDeliveries(ctx, dbsqlc.PruneWebhookDeliveriesParams{CreatedBefore: d.now().Add(-DeliveryRetention), BatchSize: 1000})
			return err
		})
		total += n
		if err != nil || n < 1000 {
			return total, err
		}
	}
}
