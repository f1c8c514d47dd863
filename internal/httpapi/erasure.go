package httpapi

import (
	"context"

	"github.com/switchboard-health/switchboard/api"
)

// EraseCaller removes everything the clinic holds about one caller number.
func (s *Server) EraseCaller(ctx context.Context, req api.EraseCallerRequestObject) (api.EraseCallerResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.eraser.Erase(ctx, t, req.Body.PhoneNumber)
	if err != nil {
		return nil, err
	}
	return api.EraseCaller200JSONResponse{Calls: int(r.Calls), Transcripts: int(r.Transcripts), Recordings: int(r.Recordings),
		WebhookDeliveries: int(r.WebhookDeliveries), BlockedCallers: int(r.BlockedCallers), LiveEvents: int(r.LiveEvents),
		InboxPayloads: int(r.InboxPayloads), ErasedAt: r.ErasedAt}, nil
}
