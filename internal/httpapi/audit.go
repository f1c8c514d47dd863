package httpapi

import (
	"context"
	"encoding/json"

	"github.com/switchboard-health/switchboard/api"
	"github.com/switchboard-health/switchboard/internal/audit"
)

// ListAuditEvents returns one page of the tenant's audit log.
func (s *Server) ListAuditEvents(ctx context.Context, req api.ListAuditEventsRequestObject) (api.ListAuditEventsResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	p := req.Params
	f := audit.Filter{Action: p.Action, Actor: p.Actor, TargetID: p.TargetId, Since: p.Since, Until: p.Until}
	if p.Limit != nil {
		f.Limit = *p.Limit
	}
	if p.Cursor != nil {
		f.Cursor = *p.Cursor
	}
	page, err := s.audit.List(ctx, t, f)
	if err != nil {
		return nil, err
	}
	out := api.ListAuditEvents200JSONResponse{Items: make([]api.AuditEvent, len(page.Events))}
	for i, e := range page.Events {
		detail := map[string]any{}
		_ = json.Unmarshal(e.Detail, &detail)
		out.Items[i] = api.AuditEvent{
			Id: e.ID, CreatedAt: e.CreatedAt.UTC(), Actor: e.Actor, Action: e.Action, TargetType: e.TargetType,
			TargetId: e.TargetID, Detail: detail, RequestId: e.RequestID, ClientAddress: e.ClientAddress, UserAgent: e.UserAgent,
		}
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return out, nil
}
