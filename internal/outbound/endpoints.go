// Package outbound sends a clinic's events to its integrators: endpoints an admin
// registers (endpoints.go), each with a signing secret, and deliveries signed the
// Standard Webhooks way (webhook-id, webhook-timestamp, webhook-signature), sent from the
// outbox a trigger fills in the transaction of each change, with retries that River runs
// (deliver.go), to public addresses only (guard.go).
package outbound

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/audit"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/pgtext"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// EventTypes are the events an endpoint may subscribe to.
var EventTypes = []string{"call.started", "call.ended", "call.analysed", "call.routed", "callback.opened", "callback.completed"}

// RotationGrace is how long a rotated-out secret keeps signing beside the new one.
const RotationGrace = 24 * time.Hour

// Endpoints manages a clinic's webhook endpoints and shows their deliveries.
type Endpoints struct {
	db           *tenant.DB
	allowPrivate bool
}

// NewEndpoints returns the endpoints' store; allowPrivate accepts loopback and private
// URLs (tests, development).
func NewEndpoints(db *tenant.DB, allowPrivate bool) *Endpoints {
	return &Endpoints{db: db, allowPrivate: allowPrivate}
}

// Endpoint is a registered endpoint (with its secret).
type Endpoint = dbsqlc.WebhookEndpoint

// Change is what an update changes; nil fields keep their value.
type Change struct {
	URL         *string
	Description *string
	SetDesc     bool
	EventTypes  *[]string
	Enabled     *bool
}

var (
	errNoEndpoint = errs.New(errs.CodeNotFound, "No webhook endpoint with that id.")
	errNoDelivery = errs.New(errs.CodeNotFound, "No delivery with that id.")
)

// Create registers an endpoint with a new secret. Returns Unprocessable (invalid_endpoint)
// for a URL that cannot be delivered to or an unknown event type.
func (e *Endpoints) Create(ctx context.Context, t tenant.ID, url string, eventTypes []string, description *string) (Endpoint, error) {
	if err := e.check(ctx, url, eventTypes); err != nil {
		return Endpoint{}, err
	}
	secret, err := newSecret()
	if err != nil {
		return Endpoint{}, err
	}
	var out Endpoint
	err = e.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.CreateWebhookEndpoint(ctx, dbsqlc.CreateWebhookEndpointParams{UserID: string(t), Url: url,
			Description: description, EventTypes: orEmpty(eventTypes), Secret: secret, CreatedBy: pgtext.Optional(audit.Actor(ctx))})
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, t, "webhook_endpoint.create", "webhook_endpoint", out.ID.String(), nil)
	})
	return out, err
}

// List returns the clinic's endpoints, newest first.
func (e *Endpoints) List(ctx context.Context, t tenant.ID) ([]Endpoint, error) {
	var out []Endpoint
	err := e.db.Read(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.ListWebhookEndpoints(ctx, string(t))
		return err
	})
	return out, err
}

// Get returns one of the clinic's endpoints.
func (e *Endpoints) Get(ctx context.Context, t tenant.ID, id uuid.UUID) (Endpoint, error) {
	var out Endpoint
	err := e.db.Read(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.GetWebhookEndpoint(ctx, dbsqlc.GetWebhookEndpointParams{UserID: string(t), ID: id})
		return notFound(err, errNoEndpoint)
	})
	return out, err
}

// Update changes an endpoint: its URL, description, event types, or whether it is
// enabled (enabling one clears why it was disabled).
func (e *Endpoints) Update(ctx context.Context, t tenant.ID, id uuid.UUID, c Change) (Endpoint, error) {
	p := dbsqlc.UpdateWebhookEndpointParams{UserID: string(t), ID: id, Enabled: c.Enabled, SetDescription: c.SetDesc, Description: c.Description}
	if c.URL != nil {
		if err := e.check(ctx, *c.URL, nil); err != nil {
			return Endpoint{}, err
		}
		p.SetUrl, p.Url = true, *c.URL
	}
	if c.EventTypes != nil {
		if err := e.check(ctx, "", *c.EventTypes); err != nil {
			return Endpoint{}, err
		}
		p.SetEventTypes, p.EventTypes = true, orEmpty(*c.EventTypes)
	}
	var out Endpoint
	err := e.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.UpdateWebhookEndpoint(ctx, p)
		if err != nil {
			return notFound(err, errNoEndpoint)
		}
		return audit.Record(ctx, q, t, "webhook_endpoint.update", "webhook_endpoint", id.String(), nil)
	})
	return out, err
}

// Rotate gives an endpoint a new secret; the old one keeps signing beside it for
// RotationGrace.
func (e *Endpoints) Rotate(ctx context.Context, t tenant.ID, id uuid.UUID) (Endpoint, error) {
	secret, err := newSecret()
	if err != nil {
		return Endpoint{}, err
	}
	var out Endpoint
	err = e.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.RotateWebhookSecret(ctx, dbsqlc.RotateWebhookSecretParams{UserID: string(t), ID: id, Secret: secret, GraceUntil: ptr(time.Now().Add(RotationGrace))})
		if err != nil {
			return notFound(err, errNoEndpoint)
		}
		return audit.Record(ctx, q, t, "webhook_endpoint.rotate_secret", "webhook_endpoint", id.String(), nil)
	})
	return out, err
}

// Delete removes an endpoint and its deliveries.
func (e *Endpoints) Delete(ctx context.Context, t tenant.ID, id uuid.UUID) error {
	return e.db.Tx(ctx, t, func(q *dbsqlc.Queries) error {
		n, err := q.DeleteWebhookEndpoint(ctx, dbsqlc.DeleteWebhookEndpointParams{UserID: string(t), ID: id})
		if err == nil && n == 0 {
			return errNoEndpoint
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, q, t, "webhook_endpoint.delete", "webhook_endpoint", id.String(), nil)
	})
}

// SendTest queues a webhook.test event to the endpoint.
func (e *Endpoints) SendTest(ctx context.Context, t tenant.ID, id uuid.UUID) (dbsqlc.WebhookDelivery, error) {
	body, err := json.Marshal(envelope{Type: "webhook.test", Version: Version, Timestamp: time.Now().UTC(), Data: map[string]any{}})
	if err != nil {
		return dbsqlc.WebhookDelivery{}, err
	}
	var out dbsqlc.WebhookDelivery
	err = e.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		if _, err := q.GetWebhookEndpoint(ctx, dbsqlc.GetWebhookEndpointParams{UserID: string(t), ID: id}); err != nil {
			return notFound(err, errNoEndpoint)
		}
		out, err = q.CreateTestDelivery(ctx, dbsqlc.CreateTestDeliveryParams{UserID: string(t), EndpointID: id, Payload: body})
		return err
	})
	return out, err
}

// Deliveries returns a page of an endpoint's deliveries, newest first, before the
// delivery with id before (uuid.Max: from the newest; ids are time-ordered).
func (e *Endpoints) Deliveries(ctx context.Context, t tenant.ID, endpoint, before uuid.UUID, limit int) ([]dbsqlc.WebhookDelivery, error) {
	p := dbsqlc.ListWebhookDeliveriesParams{UserID: string(t), EndpointID: endpoint, BeforeID: before, RowLimit: int32(limit)}
	var out []dbsqlc.WebhookDelivery
	err := e.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		if _, err := q.GetWebhookEndpoint(ctx, dbsqlc.GetWebhookEndpointParams{UserID: string(t), ID: endpoint}); err != nil {
			return notFound(err, errNoEndpoint)
		}
		out, err = q.ListWebhookDeliveries(ctx, p)
		return err
	})
	return out, err
}

// Redeliver queues a delivery's event again, with the same body and message id.
func (e *Endpoints) Redeliver(ctx context.Context, t tenant.ID, id uuid.UUID) (dbsqlc.WebhookDelivery, error) {
	var out dbsqlc.WebhookDelivery
	err := e.db.Tx(ctx, t, func(q *dbsqlc.Queries) (err error) {
		out, err = q.Redeliver(ctx, dbsqlc.RedeliverParams{UserID: string(t), ID: id})
		if err != nil {
			return notFound(err, errNoDelivery)
		}
		return audit.Record(ctx, q, t, "webhook_delivery.redeliver", "webhook_delivery", id.String(), nil)
	})
	return out, err
}

// check refuses a URL that cannot be delivered to (url "" is not checked) and event types
// that are not ours.
func (e *Endpoints) check(ctx context.Context, url string, eventTypes []string) error {
	if url != "" {
		if err := checkURL(ctx, url, e.allowPrivate); err != nil {
			return errs.NewCause(errs.CodeInvalidEndpoint, "url: "+err.Error()+".", err)
		}
	}
	for _, et := range eventTypes {
		if !slices.Contains(EventTypes, et) {
			return errs.New(errs.CodeInvalidEndpoint, "event_types: "+et+" is not an event type.")
		}
	}
	return nil
}

// newSecret makes a signing secret in the Standard Webhooks form: whsec_ and 32 random
// bytes in base64.
func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:]), nil
}

func notFound(err, nf error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return nf
	}
	return err
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func ptr[T any](v T) *T { return &v }
