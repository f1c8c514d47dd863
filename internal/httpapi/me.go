package httpapi

import (
	"context"

	"github.com/switchboard-health/switchboard/api"
)

// GetMe says whom the session acts for, who acts, and what they may do.
func (s *Server) GetMe(ctx context.Context, _ api.GetMeRequestObject) (api.GetMeResponseObject, error) {
	p, err := principalOf(ctx)
	if err != nil {
		return nil, err
	}
	out := api.GetMe200JSONResponse{UserId: p.Actor, Permissions: make([]api.Permission, len(p.Permissions))}
	out.Tenant.Id, out.Tenant.Kind = string(p.Tenant), api.MeTenantKind(p.Kind)
	if p.Role != "" {
		out.Role = &p.Role
	}
	for i, perm := range p.Permissions {
		out.Permissions[i] = api.Permission(perm)
	}
	return out, nil
}
