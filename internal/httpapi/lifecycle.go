package httpapi

import (
	"context"
	"strconv"

	"github.com/switchboard-health/switchboard/api"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/lifecycle"
)

// GetClinicSettings returns the clinic's settings, with the retention windows in force.
func (s *Server) GetClinicSettings(ctx context.Context, _ api.GetClinicSettingsRequestObject) (api.GetClinicSettingsResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.clinics.Get(ctx, t)
	if err != nil {
		return nil, err
	}
	return api.GetClinicSettings200JSONResponse(settingsStateOf(st)), nil
}

// PutClinicSettings replaces the clinic's settings.
func (s *Server) PutClinicSettings(ctx context.Context, req api.PutClinicSettingsRequestObject) (api.PutClinicSettingsResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	in := lifecycle.Settings{HIPAAMode: req.Body.HipaaMode}
	if r := req.Body.Retention; r != nil {
		in.Retention = lifecycle.Retention{Transcripts: days(r.TranscriptsDays), Recordings: days(r.RecordingsDays), Calls: days(r.CallsDays)}
	}
	st, err := s.clinics.Put(ctx, t, in)
	if err != nil {
		return nil, err
	}
	return api.PutClinicSettings200JSONResponse(settingsStateOf(st)), nil
}

// ListRetentionPurges returns one page of what the purge job removed of the clinic's.
func (s *Server) ListRetentionPurges(ctx context.Context, req api.ListRetentionPurgesRequestObject) (api.ListRetentionPurgesResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	limit, before := 50, int64(0)
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	if c := req.Params.Cursor; c != nil {
		if before, err = strconv.ParseInt(*c, 10, 64); err != nil || before <= 0 {
			return nil, errs.New(errs.CodeInvalidCursor, "The cursor is not one this API issued.")
		}
	}
	page, err := s.clinics.Purges(ctx, t, before, limit)
	if err != nil {
		return nil, err
	}
	out := api.ListRetentionPurges200JSONResponse{Items: make([]api.RetentionPurge, len(page))}
	for i, p := range page {
		out.Items[i] = api.RetentionPurge{Id: p.ID, PurgedAt: p.PurgedAt.UTC(), Transcripts: p.Transcripts,
			Recordings: p.Recordings, Calls: p.Calls, TranscriptsBefore: p.TranscriptsBefore.UTC(),
			RecordingsBefore: p.RecordingsBefore.UTC(), CallsBefore: p.CallsBefore.UTC()}
	}
	if len(page) == limit {
		next := strconv.FormatInt(page[len(page)-1].ID, 10)
		out.NextCursor = &next
	}
	return out, nil
}

func settingsStateOf(st lifecycle.State) api.ClinicSettingsState {
	return api.ClinicSettingsState{
		HipaaMode: st.HIPAAMode,
		Retention: api.RetentionSettings{TranscriptsDays: intOf(st.Retention.Transcripts),
			RecordingsDays: intOf(st.Retention.Recordings), CallsDays: intOf(st.Retention.Calls)},
		EffectiveRetention: api.RetentionWindows{TranscriptsDays: st.Effective.Transcripts,
			RecordingsDays: st.Effective.Recordings, CallsDays: st.Effective.Calls},
		LastPurgeRunAt: utc(st.LastRun),
	}
}

func days(d *int) *int32 {
	if d == nil {
		return nil
	}
	v := int32(*d)
	return &v
}

func intOf(d *int32) *int {
	if d == nil {
		return nil
	}
	v := int(*d)
	return &v
}
