package httpapi

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/switchboard-health/switchboard/api"
	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/errs"
)

// ListCalls returns one page of the tenant's calls.
func (s *Server) ListCalls(ctx context.Context, req api.ListCallsRequestObject) (api.ListCallsResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	f, err := filterOf(req.Params)
	if err != nil {
		return nil, err
	}
	page, err := s.calls.List(ctx, t, f)
	if err != nil {
		return nil, err
	}
	items := make([]api.CallSummary, len(page.Calls))
	for i, c := range page.Calls {
		items[i] = callSummaryOf(c)
	}
	out := api.ListCalls200JSONResponse{Items: items}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return out, nil
}

// GetCall returns one call with its transcript and messages.
func (s *Server) GetCall(ctx context.Context, req api.GetCallRequestObject) (api.GetCallResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	row, err := s.calls.Get(ctx, t, req.Id)
	if err != nil {
		return nil, err
	}
	sum := callSummaryOf(row.CallSummary)
	messages := row.Messages
	if len(messages) == 0 {
		messages = json.RawMessage("[]")
	}
	return api.GetCall200JSONResponse{
		Id:                       sum.Id,
		Status:                   sum.Status,
		Direction:                sum.Direction,
		CallerNumber:             sum.CallerNumber,
		ClinicNumber:             sum.ClinicNumber,
		AssistantNumber:          sum.AssistantNumber,
		MatchedBy:                sum.MatchedBy,
		PhoneNumberId:            sum.PhoneNumberId,
		TwilioCallSid:            sum.TwilioCallSid,
		VapiCallId:               sum.VapiCallId,
		StartedAt:                sum.StartedAt,
		EndedAt:                  sum.EndedAt,
		DurationSeconds:          sum.DurationSeconds,
		EndedReason:              sum.EndedReason,
		RecordingUrl:             sum.RecordingUrl,
		StereoRecordingUrl:       sum.StereoRecordingUrl,
		Summary:                  sum.Summary,
		SuccessEvaluation:        sum.SuccessEvaluation,
		StructuredData:           sum.StructuredData,
		Cost:                     sum.Cost,
		CreatedAt:                sum.CreatedAt,
		UpdatedAt:                sum.UpdatedAt,
		Handling:                 sum.Handling,
		HandlingReason:           sum.HandlingReason,
		ForwardedTo:              sum.ForwardedTo,
		VoicemailDurationSeconds: sum.VoicemailDurationSeconds,
		RecordingPurgedAt:        sum.RecordingPurgedAt,
		TranscriptPurgedAt:       utc(row.TranscriptPurgedAt),
		Disposition:              sum.Disposition,
		Tags:                     sum.Tags,
		Notes:                    row.Notes,
		Transcript:               row.Transcript,
		Messages:                 messages,
	}, nil
}

func callSummaryOf(c dbsqlc.CallSummary) api.CallSummary {
	out := api.CallSummary{
		Id:                 c.ID,
		Status:             api.CallStatus(c.Status),
		Direction:          api.CallDirection(c.Direction),
		CallerNumber:       c.CallerNumber,
		ClinicNumber:       c.ClinicNumber,
		AssistantNumber:    c.AssistantNumber,
		PhoneNumberId:      c.PhoneNumberID,
		TwilioCallSid:      c.TwilioCallSid,
		VapiCallId:         c.VapiCallID,
		StartedAt:          c.StartedAt.UTC(),
		EndedAt:            utc(c.EndedAt),
		EndedReason:        c.EndedReason,
		RecordingUrl:       c.RecordingUrl,
		StereoRecordingUrl: c.StereoRecordingUrl,
		Summary:            c.Summary,
		SuccessEvaluation:  c.SuccessEvaluation,
		Cost:               c.Cost,
		CreatedAt:          c.CreatedAt.UTC(),
		UpdatedAt:          c.UpdatedAt.UTC(),
		HandlingReason:     c.HandlingReason,
		ForwardedTo:        c.ForwardedTo,
		RecordingPurgedAt:  utc(c.RecordingPurgedAt),
		Disposition:        (*api.Disposition)(c.Disposition),
		Tags:               c.Tags,
	}
	if c.Handling != nil {
		h := api.Handling(*c.Handling)
		out.Handling = &h
	}
	if c.VoicemailDurationSeconds != nil {
		d := int(*c.VoicemailDurationSeconds)
		out.VoicemailDurationSeconds = &d
	}
	if c.MatchedBy != nil {
		m := api.MatchedBy(*c.MatchedBy)
		out.MatchedBy = &m
	}
	if c.DurationSeconds != nil {
		d := int(*c.DurationSeconds)
		out.DurationSeconds = &d
	}
	if len(c.StructuredData) > 0 {
		out.StructuredData = &c.StructuredData
	}
	return out
}

func utc[T interface{ UTC() T }](t *T) *T {
	if t == nil {
		return nil
	}
	v := (*t).UTC()
	return &v
}

// filterOf reads an operation's calls filters (the list's or the export's parameters)
// into a calls.Filter. Both parameter structs carry each filter under its query
// parameter's name, and calls.Filter's fields are tagged with the same names, so a filter
// added to the contract and to calls.Filter needs no line here; one the Filter lacks is an
// error, never a filter silently dropped (TestEveryCallsFilterIsRead).
func filterOf(params any) (calls.Filter, error) {
	var f calls.Filter
	b, err := json.Marshal(params)
	if err != nil {
		return f, errs.Wrap(err, "reading the calls filters")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		return f, errs.Wrap(err, "reading the calls filters")
	}
	return f, nil
}

// GetCallFollowUp returns a call's follow-up, its version as the ETag.
func (s *Server) GetCallFollowUp(ctx context.Context, req api.GetCallFollowUpRequestObject) (api.GetCallFollowUpResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	f, err := s.followUp.Get(ctx, t, req.Id)
	if err != nil {
		return nil, err
	}
	etag := calls.ETag(f.FollowUpVersion)
	return api.GetCallFollowUp200JSONResponse{Body: followUpOf(f), Headers: api.GetCallFollowUp200ResponseHeaders{ETag: &etag}}, nil
}

// UpdateCallFollowUp changes a call's follow-up made against the version If-Match names.
func (s *Server) UpdateCallFollowUp(ctx context.Context, req api.UpdateCallFollowUpRequestObject) (api.UpdateCallFollowUpResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	var ifMatch string
	if req.Params.IfMatch != nil {
		ifMatch = *req.Params.IfMatch
	}
	f, err := s.followUp.Update(ctx, t, req.Id, ifMatch, calls.FollowUpChange{
		Disposition: req.Body.Disposition, Notes: req.Body.Notes, Tags: req.Body.Tags,
	})
	if err != nil {
		return nil, err
	}
	etag := calls.ETag(f.FollowUpVersion)
	return api.UpdateCallFollowUp200JSONResponse{Body: followUpOf(f), Headers: api.UpdateCallFollowUp200ResponseHeaders{ETag: &etag}}, nil
}

func followUpOf(f calls.FollowUpOf) api.CallFollowUp {
	return api.CallFollowUp{
		CallId: f.ID, Disposition: (*api.Disposition)(f.Disposition), Notes: f.Notes, Tags: f.Tags,
		Version: int(f.FollowUpVersion), UpdatedBy: f.FollowUpBy, UpdatedAt: utc(f.FollowUpAt),
	}
}
