package httpapi

import (
	"context"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/google/uuid"

	"github.com/switchboard-health/switchboard/api"
	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/routing"
)

// ListAssistants lists the clinic's assistants.
func (s *Server) ListAssistants(ctx context.Context, _ api.ListAssistantsRequestObject) (api.ListAssistantsResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.routing.Assistants(ctx, t)
	if err != nil {
		return nil, err
	}
	items := make([]api.Assistant, len(rows))
	for i, r := range rows {
		items[i] = assistantOf(r)
	}
	return api.ListAssistants200JSONResponse{Items: items}, nil
}

// RegisterAssistant makes a VAPI assistant the clinic's.
func (s *Server) RegisterAssistant(ctx context.Context, req api.RegisterAssistantRequestObject) (api.RegisterAssistantResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	row, err := s.routing.RegisterAssistant(ctx, t, req.Body.VapiAssistantId)
	if err != nil {
		return nil, err
	}
	return api.RegisterAssistant201JSONResponse(assistantOf(row)), nil
}

// DeleteAssistant stops the clinic using an assistant.
func (s *Server) DeleteAssistant(ctx context.Context, req api.DeleteAssistantRequestObject) (api.DeleteAssistantResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.routing.RemoveAssistant(ctx, t, req.AssistantId); err != nil {
		return nil, err
	}
	return api.DeleteAssistant204Response{}, nil
}

// GetRouting returns the clinic's routing.
func (s *Server) GetRouting(ctx context.Context, _ api.GetRoutingRequestObject) (api.GetRoutingResponseObject, error) {
	v, err := s.routingView(ctx, nil)
	return api.GetRouting200JSONResponse(v), err
}

// PutRouting replaces the clinic's routing.
func (s *Server) PutRouting(ctx context.Context, req api.PutRoutingRequestObject) (api.PutRoutingResponseObject, error) {
	v, err := s.putRouting(ctx, nil, *req.Body)
	return api.PutRouting200JSONResponse(v), err
}

// GetPhoneNumberRouting returns the routing a number's calls follow.
func (s *Server) GetPhoneNumberRouting(ctx context.Context, req api.GetPhoneNumberRoutingRequestObject) (api.GetPhoneNumberRoutingResponseObject, error) {
	v, err := s.routingView(ctx, &req.Id)
	return api.GetPhoneNumberRouting200JSONResponse(v), err
}

// PutPhoneNumberRouting gives a number routing of its own.
func (s *Server) PutPhoneNumberRouting(ctx context.Context, req api.PutPhoneNumberRoutingRequestObject) (api.PutPhoneNumberRoutingResponseObject, error) {
	v, err := s.putRouting(ctx, &req.Id, *req.Body)
	return api.PutPhoneNumberRouting200JSONResponse(v), err
}

// DeletePhoneNumberRouting returns a number to the clinic's routing.
func (s *Server) DeletePhoneNumberRouting(ctx context.Context, req api.DeletePhoneNumberRoutingRequestObject) (api.DeletePhoneNumberRoutingResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.routing.DeleteNumberPolicy(ctx, t, req.Id); err != nil {
		return nil, err
	}
	return api.DeletePhoneNumberRouting204Response{}, nil
}

func (s *Server) routingView(ctx context.Context, number *uuid.UUID) (api.RoutingPolicy, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return api.RoutingPolicy{}, err
	}
	v, err := s.routing.Policy(ctx, t, number)
	return routingPolicyOf(v), err
}

func (s *Server) putRouting(ctx context.Context, number *uuid.UUID, in api.RoutingPolicyInput) (api.RoutingPolicy, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return api.RoutingPolicy{}, err
	}
	v, err := s.routing.PutPolicy(ctx, t, number, storedOf(in))
	return routingPolicyOf(v), err
}

// storedOf reads the API's routing; a field left out takes its default.
func storedOf(in api.RoutingPolicyInput) routing.Stored {
	st := routing.Stored{
		ClinicName: in.ClinicName, TimeZone: in.TimeZone, AfterHoursAssistantID: in.AfterHoursAssistantId,
		OnCallNumber: in.OnCallNumber, FallbackNumber: in.FallbackNumber, VoicemailGreeting: in.VoicemailGreeting,
	}
	if in.ClosedAction != nil {
		st.ClosedAction = routing.ClosedAction(*in.ClosedAction)
	}
	if in.SpamPolicy != nil {
		st.SpamPolicy = routing.SpamPolicy(*in.SpamPolicy)
	}
	if in.WeeklyHours != nil {
		for _, w := range *in.WeeklyHours {
			st.WeeklyHours = append(st.WeeklyHours, routing.StoredWindow{Day: string(w.Day), Open: w.Open, Close: w.Close})
		}
	}
	if in.Closures != nil {
		for _, c := range *in.Closures {
			st.Closures = append(st.Closures, routing.StoredClosure{From: c.From.Format(time.DateOnly), To: c.To.Format(time.DateOnly), Note: c.Note})
		}
	}
	return st
}

func routingPolicyOf(v routing.View) api.RoutingPolicy {
	st := v.Stored
	out := api.RoutingPolicy{
		Scope: api.RoutingPolicyScope(v.Scope), ClinicName: st.ClinicName, TimeZone: st.TimeZone,
		ClosedAction: api.ClosedAction(st.ClosedAction), AfterHoursAssistantId: st.AfterHoursAssistantID,
		OnCallNumber: st.OnCallNumber, FallbackNumber: st.FallbackNumber, VoicemailGreeting: st.VoicemailGreeting,
		SpamPolicy: api.SpamPolicy(st.SpamPolicy), OpenNow: v.OpenNow, NextOpenAt: v.NextOpen, UpdatedAt: utc(v.UpdatedAt),
		WeeklyHours: make([]api.OpeningWindow, len(st.WeeklyHours)), Closures: make([]api.Closure, len(st.Closures)),
	}
	for i, w := range st.WeeklyHours {
		out.WeeklyHours[i] = api.OpeningWindow{Day: api.Weekday(w.Day), Open: w.Open, Close: w.Close}
	}
	for i, c := range st.Closures {
		from, _ := time.Parse(time.DateOnly, c.From)
		to, _ := time.Parse(time.DateOnly, c.To)
		out.Closures[i] = api.Closure{From: openapi_types.Date{Time: from}, To: openapi_types.Date{Time: to}, Note: c.Note}
	}
	return out
}

// ListBlockedCallers lists the clinic's blocked callers.
func (s *Server) ListBlockedCallers(ctx context.Context, _ api.ListBlockedCallersRequestObject) (api.ListBlockedCallersResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.routing.BlockedCallers(ctx, t)
	if err != nil {
		return nil, err
	}
	items := make([]api.BlockedCaller, len(rows))
	for i, r := range rows {
		items[i] = blockedCallerOf(r)
	}
	return api.ListBlockedCallers200JSONResponse{Items: items}, nil
}

// BlockCaller declines a number's calls.
func (s *Server) BlockCaller(ctx context.Context, req api.BlockCallerRequestObject) (api.BlockCallerResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	row, err := s.routing.Block(ctx, t, req.Body.PhoneNumber, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.BlockCaller201JSONResponse(blockedCallerOf(row)), nil
}

// UnblockCaller lets a number's calls route again.
func (s *Server) UnblockCaller(ctx context.Context, req api.UnblockCallerRequestObject) (api.UnblockCallerResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.routing.Unblock(ctx, t, req.Id); err != nil {
		return nil, err
	}
	return api.UnblockCaller204Response{}, nil
}

func assistantOf(r dbsqlc.Assistant) api.Assistant {
	return api.Assistant{VapiAssistantId: r.VapiAssistantID, Name: r.Name, CreatedAt: r.CreatedAt.UTC()}
}

func blockedCallerOf(r dbsqlc.BlockedCaller) api.BlockedCaller {
	return api.BlockedCaller{Id: r.ID, PhoneNumber: r.PhoneNumber, Reason: r.Reason, CreatedAt: r.CreatedAt.UTC()}
}
