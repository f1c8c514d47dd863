package httpapi

import (
	"context"

	"github.com/google/uuid"

	"github.com/switchboard-health/switchboard/api"
	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/outbound"
)

// ListWebhookEndpoints lists the clinic's endpoints.
func (s *Server) ListWebhookEndpoints(ctx context.Context, _ api.ListWebhookEndpointsRequestObject) (api.ListWebhookEndpointsResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.endpoints.List(ctx, t)
	if err != nil {
		return nil, err
	}
	out := api.ListWebhookEndpoints200JSONResponse{Items: make([]api.WebhookEndpoint, len(rows))}
	for i, r := range rows {
		out.Items[i] = endpointOf(r)
	}
	return out, nil
}

// CreateWebhookEndpoint registers an endpoint and shows its secret.
func (s *Server) CreateWebhookEndpoint(ctx context.Context, req api.CreateWebhookEndpointRequestObject) (api.CreateWebhookEndpointResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	var types []string
	if req.Body.EventTypes != nil {
		types = eventTypes(*req.Body.EventTypes)
	}
	e, err := s.endpoints.Create(ctx, t, req.Body.Url, types, req.Body.Description)
	if err != nil {
		return nil, err
	}
	return api.CreateWebhookEndpoint201JSONResponse(withSecret(e)), nil
}

// GetWebhookEndpoint returns one endpoint.
func (s *Server) GetWebhookEndpoint(ctx context.Context, req api.GetWebhookEndpointRequestObject) (api.GetWebhookEndpointResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.endpoints.Get(ctx, t, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetWebhookEndpoint200JSONResponse(endpointOf(e)), nil
}

// UpdateWebhookEndpoint changes an endpoint.
func (s *Server) UpdateWebhookEndpoint(ctx context.Context, req api.UpdateWebhookEndpointRequestObject) (api.UpdateWebhookEndpointResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	c := outbound.Change{URL: req.Body.Url, Enabled: req.Body.Enabled, SetDesc: req.Body.Description.IsSpecified()}
	if c.SetDesc && !req.Body.Description.IsNull() {
		d := req.Body.Description.MustGet()
		c.Description = &d
	}
	if req.Body.EventTypes != nil {
		types := eventTypes(*req.Body.EventTypes)
		c.EventTypes = &types
	}
	e, err := s.endpoints.Update(ctx, t, req.Id, c)
	if err != nil {
		return nil, err
	}
	return api.UpdateWebhookEndpoint200JSONResponse(endpointOf(e)), nil
}

// DeleteWebhookEndpoint removes an endpoint.
func (s *Server) DeleteWebhookEndpoint(ctx context.Context, req api.DeleteWebhookEndpointRequestObject) (api.DeleteWebhookEndpointResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.endpoints.Delete(ctx, t, req.Id); err != nil {
		return nil, err
	}
	return api.DeleteWebhookEndpoint204Response{}, nil
}

// RotateWebhookSecret gives an endpoint a new secret.
func (s *Server) RotateWebhookSecret(ctx context.Context, req api.RotateWebhookSecretRequestObject) (api.RotateWebhookSecretResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.endpoints.Rotate(ctx, t, req.Id)
	if err != nil {
		return nil, err
	}
	return api.RotateWebhookSecret200JSONResponse(withSecret(e)), nil
}

// SendTestWebhook queues a test event.
func (s *Server) SendTestWebhook(ctx context.Context, req api.SendTestWebhookRequestObject) (api.SendTestWebhookResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.endpoints.SendTest(ctx, t, req.Id)
	if err != nil {
		return nil, err
	}
	return api.SendTestWebhook202JSONResponse(deliveryOf(d)), nil
}

// ListWebhookDeliveries returns a page of an endpoint's deliveries.
func (s *Server) ListWebhookDeliveries(ctx context.Context, req api.ListWebhookDeliveriesRequestObject) (api.ListWebhookDeliveriesResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	limit, before := 50, uuid.Max
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	if req.Params.Cursor != nil {
		before = *req.Params.Cursor
	}
	rows, err := s.endpoints.Deliveries(ctx, t, req.Id, before, limit+1)
	if err != nil {
		return nil, err
	}
	out := api.ListWebhookDeliveries200JSONResponse{Items: []api.WebhookDelivery{}}
	for i, r := range rows {
		if i == limit {
			next := rows[limit-1].ID.String()
			out.NextCursor = &next
			break
		}
		out.Items = append(out.Items, deliveryOf(r))
	}
	return out, nil
}

// RedeliverWebhook sends a delivery's event again.
func (s *Server) RedeliverWebhook(ctx context.Context, req api.RedeliverWebhookRequestObject) (api.RedeliverWebhookResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.endpoints.Redeliver(ctx, t, req.Id)
	if err != nil {
		return nil, err
	}
	return api.RedeliverWebhook202JSONResponse(deliveryOf(d)), nil
}

// WebhookCall is a call as events carry it: as GET /api/calls lists it.
func WebhookCall(c dbsqlc.CallSummary) any { return callSummaryOf(c) }

func eventTypes(in []api.EventType) []string {
	out := make([]string, len(in))
	for i, e := range in {
		out[i] = string(e)
	}
	return out
}

func endpointOf(e outbound.Endpoint) api.WebhookEndpoint {
	types := make([]api.EventType, len(e.EventTypes))
	for i, t := range e.EventTypes {
		types[i] = api.EventType(t)
	}
	return api.WebhookEndpoint{Id: e.ID, Url: e.Url, Description: e.Description, EventTypes: types, Enabled: e.Enabled,
		DisabledReason: e.DisabledReason, FailingSince: utc(e.FailingSince), CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC()}
}

func withSecret(e outbound.Endpoint) api.WebhookEndpointWithSecret {
	v := endpointOf(e)
	return api.WebhookEndpointWithSecret{Id: v.Id, Url: v.Url, Description: v.Description, EventTypes: v.EventTypes, Enabled: v.Enabled,
		DisabledReason: v.DisabledReason, FailingSince: v.FailingSince, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, Secret: e.Secret}
}

func deliveryOf(d dbsqlc.WebhookDelivery) api.WebhookDelivery {
	out := api.WebhookDelivery{Id: d.ID, EndpointId: d.EndpointID, EventType: d.EventType, CallId: d.CallID,
		Status: api.WebhookDeliveryStatus(d.Status), Attempts: int(d.Attempts), ResponseBody: d.ResponseBody, Error: d.Error,
		RedeliveryOf: d.RedeliveryOf, CreatedAt: d.CreatedAt.UTC(), LastAttemptAt: utc(d.LastAttemptAt), DeliveredAt: utc(d.DeliveredAt)}
	if d.ResponseStatus != nil {
		out.ResponseStatus = ptr(int(*d.ResponseStatus))
	}
	return out
}
