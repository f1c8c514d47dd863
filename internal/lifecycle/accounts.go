package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/pgtext"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// Accounts closes accounts and ends memberships from Clerk's webhooks.
type Accounts struct {
	db    *tenant.DB
	hook  *svix.Webhook // nil: no signing secret, every delivery refused
	grace time.Duration
}

// NewAccounts returns Accounts verifying deliveries with Clerk's signing secret (Svix's
// "whsec_…"), deleting a closed account's data grace after it closed.
func NewAccounts(db *tenant.DB, signingSecret string, grace time.Duration) (*Accounts, error) {
	a := &Accounts{db: db, grace: grace}
	if signingSecret == "" {
		return a, nil
	}
	hook, err := svix.NewWebhook(signingSecret)
	if err != nil {
		return nil, errors.New("CLERK_WEBHOOK_SIGNING_SECRET is not a Svix signing secret (whsec_…)")
	}
	a.hook = hook
	return a, nil
}

// The outcomes of a delivery, for the request log.
const (
	OutcomeApplied   = "applied"
	OutcomeIgnored   = "ignored"
	OutcomeDuplicate = "duplicate"
)

// clerkEvent is what Switchboard reads of Clerk's event: its type, when it happened, and
// the ids it is about.
type clerkEvent struct {
	Type      string `json:"type"`
	Timestamp int64  `json:"timestamp"` // milliseconds since the epoch
	Data      struct {
		ID           string `json:"id"`
		Organization struct {
			ID string `json:"id"`
		} `json:"organization"`
		PublicUserData struct {
			UserID string `json:"user_id"`
		} `json:"public_user_data"`
	} `json:"data"`
}

// Receive verifies a Clerk webhook delivery (Svix's signature and timestamp, through
// Svix's library) before anything else reads it, keeps it by its message id, and applies
// it: organization.deleted and user.deleted close the tenant, organizationMembership.deleted
// ends the member's access; any other type is acknowledged and ignored. A repeat changes
// nothing. When applying fails the event stays kept, failed, and the error is returned so
// that Svix delivers it again.
func (a *Accounts) Receive(ctx context.Context, body []byte, h http.Header) (string, error) {
	if a.hook == nil {
		return "", errs.New(errs.CodeInvalidSignature, "Clerk webhooks are not accepted here: the server has no CLERK_WEBHOOK_SIGNING_SECRET.")
	}
	if err := a.hook.Verify(body, h); err != nil {
		return "", errs.NewCause(errs.CodeInvalidSignature, "The request's Svix signature does not match, or is too old.", err)
	}
	var ev clerkEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type == "" || ev.Timestamp <= 0 {
		return "", errs.New(errs.CodeValidationFailed, "The body is not a Clerk event.")
	}
	tenantID, memberID := ev.subjects()
	if h.Get("svix-id") == "" || !storable(tenantID, memberID, h.Get("svix-id"), ev.Type) {
		return "", errs.New(errs.CodeValidationFailed, "The event names ids Switchboard cannot keep.")
	}
	rec := dbsqlc.RecordClerkEventParams{SvixID: h.Get("svix-id"), EventType: ev.Type, TenantID: pgtext.Optional(tenantID),
		MemberID: pgtext.Optional(memberID), OccurredAt: time.UnixMilli(ev.Timestamp)}
	var status string
	if err := a.db.Service(ctx, func(q *dbsqlc.Queries) (err error) {
		status, err = q.RecordClerkEvent(ctx, rec)
		return err
	}); err != nil {
		return "", err
	}
	if status == "applied" || status == "ignored" {
		return OutcomeDuplicate, nil
	}
	outcome, err := a.apply(ctx, rec)
	if err != nil {
		msg := err.Error()
		_ = a.db.Service(context.WithoutCancel(ctx), func(q *dbsqlc.Queries) error {
			return q.FinishClerkEvent(context.WithoutCancel(ctx), dbsqlc.FinishClerkEventParams{SvixID: rec.SvixID, Status: "failed", Error: &msg})
		})
		return "", err
	}
	return outcome, nil
}

// subjects returns the tenant and the member an event is about, by its type.
func (ev clerkEvent) subjects() (tenantID, memberID string) {
	switch ev.Type {
	case "organization.deleted", "user.deleted":
		return ev.Data.ID, ""
	case "organizationMembership.deleted":
		return ev.Data.Organization.ID, ev.Data.PublicUserData.UserID
	}
	return "", ""
}

// apply applies a kept event and marks it, in one transaction.
func (a *Accounts) apply(ctx context.Context, ev dbsqlc.RecordClerkEventParams) (string, error) {
	outcome := OutcomeApplied
	err := a.db.Atomically(ctx, 0, func(s *tenant.Session) error {
		q := s.Service()
		var err error
		switch {
		case ev.TenantID == nil:
			outcome = OutcomeIgnored
		case ev.EventType == "organization.deleted" || ev.EventType == "user.deleted":
			_, err = q.CloseTenant(ctx, dbsqlc.CloseTenantParams{UserID: *ev.TenantID, Reason: ev.EventType, DeleteAfter: time.Now().Add(a.grace)})
			if err == nil && ev.EventType == "user.deleted" {
				_, err = q.UnassignDeletedUser(ctx, *ev.TenantID)
			}
		case ev.MemberID == nil:
			outcome = OutcomeIgnored
		default:
			_, err = q.RemoveMember(ctx, dbsqlc.RemoveMemberParams{UserID: *ev.TenantID, MemberID: *ev.MemberID, RemovedAt: ev.OccurredAt})
		}
		if err != nil {
			return err
		}
		return q.FinishClerkEvent(ctx, dbsqlc.FinishClerkEventParams{SvixID: ev.SvixID, Status: outcome})
	})
	return outcome, err
}

// storable reports whether every value can be stored and is of a sane length.
func storable(values ...string) bool {
	for _, v := range values {
		if len(v) > 255 || !pgtext.Storable(v) {
			return false
		}
	}
	return true
}
