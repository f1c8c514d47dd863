package httpapi

import (
	"context"

	"github.com/switchboard-health/switchboard/api"
	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/calls"
)

// ListCallbacks returns a page of the callback queue (or of completed callbacks).
func (s *Server) ListCallbacks(ctx context.Context, req api.ListCallbacksRequestObject) (api.ListCallbacksResponseObject, error) {
	p, err := principalOf(ctx)
	if err != nil {
		return nil, err
	}
	f := calls.CallbackFilter{Completed: req.Params.Status != nil && *req.Params.Status == api.ListCallbacksParamsStatusCompleted, Assignee: req.Params.Assignee}
	if f.Assignee != nil && *f.Assignee == "me" {
		f.Assignee = &p.Actor
	}
	if req.Params.Unassigned != nil {
		f.Unassigned = *req.Params.Unassigned
	}
	if req.Params.Limit != nil {
		f.Limit = *req.Params.Limit
	}
	if req.Params.Cursor != nil {
		f.Cursor = *req.Params.Cursor
	}
	page, err := s.followUp.Callbacks(ctx, p.Tenant, f)
	if err != nil {
		return nil, err
	}
	out := api.ListCallbacks200JSONResponse{Items: make([]api.Callback, len(page.Callbacks))}
	for i, c := range page.Callbacks {
		out.Items[i] = callbackOf(dbsqlc.Callback{ID: c.ID, UserID: c.UserID, CallID: c.CallID, Reason: c.Reason, Status: c.Status,
			Assignee: c.Assignee, Outcome: c.Outcome, OutcomeNotes: c.OutcomeNotes, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt,
			AssignedBy: c.AssignedBy, AssignedAt: c.AssignedAt, CompletedBy: c.CompletedBy, CompletedAt: c.CompletedAt})
		out.Items[i].Call = &api.CallbackCall{CallerNumber: c.CallerNumber, StartedAt: c.CallStartedAt.UTC(),
			Handling: (*api.Handling)(c.Handling), Disposition: (*api.Disposition)(c.Disposition)}
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return out, nil
}

// OpenCallback puts a call in the callback queue.
func (s *Server) OpenCallback(ctx context.Context, req api.OpenCallbackRequestObject) (api.OpenCallbackResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	var assignee *string
	if req.Body != nil {
		assignee = req.Body.Assignee
	}
	c, err := s.followUp.OpenCallback(ctx, t, req.Id, assignee)
	if err != nil {
		return nil, err
	}
	return api.OpenCallback201JSONResponse(callbackOf(c)), nil
}

// AssignCallback assigns an open callback.
func (s *Server) AssignCallback(ctx context.Context, req api.AssignCallbackRequestObject) (api.AssignCallbackResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.followUp.AssignCallback(ctx, t, req.Id, req.Body.Assignee)
	if err != nil {
		return nil, err
	}
	return api.AssignCallback200JSONResponse(callbackOf(c)), nil
}

// CompleteCallback completes an open callback with its outcome.
func (s *Server) CompleteCallback(ctx context.Context, req api.CompleteCallbackRequestObject) (api.CompleteCallbackResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.followUp.CompleteCallback(ctx, t, req.Id, string(req.Body.Outcome), req.Body.Notes)
	if err != nil {
		return nil, err
	}
	return api.CompleteCallback200JSONResponse(callbackOf(c)), nil
}

// GetCallbackRules returns the clinic's callback rules.
func (s *Server) GetCallbackRules(ctx context.Context, _ api.GetCallbackRulesRequestObject) (api.GetCallbackRulesResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.followUp.Rules(ctx, t)
	if err != nil {
		return nil, err
	}
	return api.GetCallbackRules200JSONResponse(rulesOf(r)), nil
}

// PutCallbackRules replaces the clinic's callback rules.
func (s *Server) PutCallbackRules(ctx context.Context, req api.PutCallbackRulesRequestObject) (api.PutCallbackRulesResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	in := calls.CallbackRules{OnFailed: req.Body.OnFailed, OnVoicemail: req.Body.OnVoicemail, OnAfterHours: req.Body.OnAfterHours,
		RequestedField: req.Body.RequestedField}
	if n := req.Body.ShortCallSeconds; n != nil {
		in.ShortCallSeconds = ptr(int32(*n))
	}
	r, err := s.followUp.PutRules(ctx, t, in)
	if err != nil {
		return nil, err
	}
	return api.PutCallbackRules200JSONResponse(rulesOf(r)), nil
}

func callbackOf(c dbsqlc.Callback) api.Callback {
	return api.Callback{
		Id: c.ID, CallId: c.CallID, Reason: api.CallbackReason(c.Reason), Status: api.CallbackStatus(c.Status),
		Assignee: c.Assignee, Outcome: (*api.CallbackOutcome)(c.Outcome), OutcomeNotes: c.OutcomeNotes,
		CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt.UTC(), AssignedBy: c.AssignedBy, AssignedAt: utc(c.AssignedAt),
		CompletedBy: c.CompletedBy, CompletedAt: utc(c.CompletedAt),
	}
}

func rulesOf(r calls.CallbackRules) api.CallbackRules {
	out := api.CallbackRules{OnFailed: r.OnFailed, OnVoicemail: r.OnVoicemail, OnAfterHours: r.OnAfterHours, RequestedField: r.RequestedField}
	if r.ShortCallSeconds != nil {
		out.ShortCallSeconds = ptr(int(*r.ShortCallSeconds))
	}
	return out
}
