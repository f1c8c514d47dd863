package httpapi

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/switchboard-health/switchboard/api"
	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/routing"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// GetCallStats returns the tenant's call statistics.
func (s *Server) GetCallStats(ctx context.Context, req api.GetCallStatsRequestObject) (api.GetCallStatsResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	tz := ""
	if req.Params.Tz != nil {
		tz = *req.Params.Tz
	}
	st, err := s.calls.Stats(ctx, t, req.Params.Since, req.Params.Until, tz)
	if err != nil {
		return nil, err
	}
	out := api.GetCallStats200JSONResponse{
		Since:    st.Since,
		Until:    st.Until,
		TimeZone: st.TimeZone,
		Totals: api.CallTotals{
			Calls:                  int(st.Totals.Calls),
			Ended:                  int(st.Totals.Ended),
			Failed:                 int(st.Totals.Failed),
			InProgress:             int(st.Totals.Calls - st.Totals.Ended - st.Totals.Failed),
			AnswerRate:             st.AnswerRate(),
			TotalDurationSeconds:   int(st.Totals.TotalDurationSeconds),
			AverageDurationSeconds: st.Totals.AverageDurationSeconds,
			TotalCost:              st.Totals.TotalCost,
		},
	}
	for _, status := range calls.Statuses {
		out.ByStatus = append(out.ByStatus, api.StatusCount{Status: api.CallStatus(status), Calls: int(st.ByStatus[status])})
	}
	out.ByDisposition, out.ByHandling = dispositionCounts(st.ByDisposition), handlingCounts(st.ByHandling)
	out.ByEndedReason, out.ByHour = endedReasonCounts(st.ByEndedReason), hourStats(st.ByHour)
	out.ByTag = make([]api.TagCount, len(st.ByTag))
	for i, r := range st.ByTag {
		out.ByTag[i] = api.TagCount{Tag: r.Tag, Calls: int(r.Calls)}
	}
	out.PerDay = make([]api.DayStat, len(st.PerDay))
	for i, d := range st.PerDay {
		out.PerDay[i] = api.DayStat{Date: openapi_types.Date{Time: d.Day}, Calls: int(d.Calls), Minutes: d.Minutes}
	}
	out.PerPhoneNumber = make([]api.PhoneNumberStat, len(st.PerPhoneNumber))
	for i, p := range st.PerPhoneNumber {
		out.PerPhoneNumber[i] = api.PhoneNumberStat{
			PhoneNumberId: p.PhoneNumberID, PhoneNumber: p.PhoneNumber,
			Calls: int(p.Calls), Answered: int(p.Answered), Minutes: p.Minutes,
		}
	}
	return out, nil
}

// GetCallAnalytics returns what the dashboard's analytics page draws.
func (s *Server) GetCallAnalytics(ctx context.Context, req api.GetCallAnalyticsRequestObject) (api.GetCallAnalyticsResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	var rangeName, tz string
	if req.Params.Range != nil {
		rangeName = string(*req.Params.Range)
	}
	if req.Params.Tz != nil {
		tz = *req.Params.Tz
	}
	a, err := s.calls.Analytics(ctx, t, rangeName, req.Params.Since, req.Params.Until, tz)
	if err != nil {
		return nil, err
	}
	tot := a.Totals
	out := api.GetCallAnalytics200JSONResponse{
		Since: a.Since, Until: a.Until, TimeZone: a.TimeZone,
		Totals: api.AnalyticsTotals{Calls: int(tot.Calls), AverageDurationSeconds: tot.AverageDurationSeconds,
			MedianDurationSeconds: tot.MedianDurationSeconds, TotalCost: tot.TotalCost},
		Rates: api.AnalyticsRates{SuccessRate: calls.Rate(tot.Succeeded, tot.Judged), ForwardRate: calls.Rate(tot.Forwarded, tot.Calls),
			VoicemailRate: calls.Rate(tot.Voicemail, tot.Calls), DropRate: calls.Rate(tot.Dropped, tot.Calls)},
		DurationBuckets: []api.DurationBucket{{Bucket: "<1m", Calls: int(tot.Under1m)}, {Bucket: "1-2m", Calls: int(tot.From1mTo2m)},
			{Bucket: "2-3m", Calls: int(tot.From2mTo3m)}, {Bucket: "3-5m", Calls: int(tot.From3mTo5m)},
			{Bucket: "5-10m", Calls: int(tot.From5mTo10m)}, {Bucket: ">10m", Calls: int(tot.Over10m)}},
		ByDisposition: dispositionCounts(a.ByDisposition), ByHandling: handlingCounts(a.ByHandling),
		ByEndedReason: endedReasonCounts(a.ByEndedReason), ByHour: hourStats(a.ByHour),
		Callbacks: api.CallbackCounts{Opened: int(a.Callbacks.Opened), Completed: int(a.Callbacks.Completed)},
	}
	for _, d := range a.ByWeekday {
		out.ByWeekday = append(out.ByWeekday, api.WeekdayStat{Weekday: int(d.Weekday), Calls: int(d.Calls)})
	}
	for _, w := range a.ByWeek {
		out.ByWeek = append(out.ByWeek, api.WeekStat{WeekStart: openapi_types.Date{Time: w.WeekStart}, Calls: int(w.Calls)})
	}
	for _, m := range a.ByMonth {
		out.ByMonth = append(out.ByMonth, api.MonthStat{Month: openapi_types.Date{Time: m.Month}, Calls: int(m.Calls), Cost: m.Cost,
			CostBreakdown: api.CostBreakdown{Transport: m.Transport, Stt: m.Stt, Llm: m.Llm, Tts: m.Tts, Vapi: m.Vapi}})
	}
	return out, nil
}

func dispositionCounts(m map[string]int64) []api.DispositionCount {
	out := make([]api.DispositionCount, len(calls.Dispositions))
	for i, d := range calls.Dispositions {
		out[i] = api.DispositionCount{Disposition: api.Disposition(d), Calls: int(m[d])}
	}
	return out
}

func handlingCounts(m map[routing.Handling]int64) []api.HandlingCount {
	out := make([]api.HandlingCount, len(routing.Handlings))
	for i, h := range routing.Handlings {
		out[i] = api.HandlingCount{Handling: api.Handling(h), Calls: int(m[h])}
	}
	return out
}

func endedReasonCounts(rows []dbsqlc.CallsByEndedReasonRow) []api.EndedReasonCount {
	out := make([]api.EndedReasonCount, len(rows))
	for i, r := range rows {
		out[i] = api.EndedReasonCount{EndedReason: r.EndedReason, Calls: int(r.Calls)}
	}
	return out
}

func hourStats(rows []dbsqlc.CallsByHourRow) []api.HourStat {
	out := make([]api.HourStat, len(rows))
	for i, h := range rows {
		out[i] = api.HourStat{Hour: int(h.Hour), Calls: int(h.Calls)}
	}
	return out
}

// ExportCalls streams the tenant's calls matching the filters as CSV.
func (s *Server) ExportCalls(ctx context.Context, req api.ExportCallsRequestObject) (api.ExportCallsResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	f, err := filterOf(req.Params)
	if err != nil {
		return nil, err
	}
	// Once the first byte is out the status is 200 whatever happens: the first page is
	// read before, so that a bad filter or an unreachable database is still a problem.
	export, err := s.calls.StartExport(ctx, t, f)
	if err != nil {
		return nil, err
	}
	return csvExport{ctx: ctx, s: s, export: export}, nil
}

var csvHeader = []string{
	"id", "started_at", "ended_at", "status", "direction", "caller_number", "clinic_number",
	"assistant_number", "matched_by", "phone_number_id", "duration_seconds", "ended_reason",
	"success_evaluation", "cost", "summary", "twilio_call_sid", "vapi_call_id",
	"handling", "handling_reason", "forwarded_to", "disposition", "tags",
}

type csvExport struct {
	ctx    context.Context
	s      *Server
	export *calls.Export
}

func (e csvExport) VisitExportCallsResponse(w http.ResponseWriter) error {
	// An export of a large tenant outlasts the server's write timeout; its length is bounded
	// by the data, not by the client.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="calls.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	record := make([]string, len(csvHeader))
	err := e.export.Each(e.ctx, func(page []dbsqlc.CallSummary) error {
		for _, c := range page {
			record = append(record[:0],
				c.ID.String(), c.StartedAt.UTC().Format(time.RFC3339), timeCell(c.EndedAt), c.Status, c.Direction,
				cell(c.CallerNumber), cell(c.ClinicNumber), cell(c.AssistantNumber), cell(c.MatchedBy),
				uuidCell(c.PhoneNumberID), intCell(c.DurationSeconds), cell(c.EndedReason),
				cell(c.SuccessEvaluation), floatCell(c.Cost), cell(c.Summary), cell(c.TwilioCallSid), cell(c.VapiCallID),
				cell(c.Handling), cell(c.HandlingReason), cell(c.ForwardedTo), cell(c.Disposition),
				strings.Join(c.Tags, ";"))
			if err := cw.Write(record); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil && e.ctx.Err() == nil {
		// The status is out: the only honest answer left is a response cut short, which the
		// client sees as an incomplete transfer, never as a complete file.
		e.s.log.ErrorContext(e.ctx, "export failed after it started; response aborted", slog.String("error", err.Error()))
		panic(http.ErrAbortHandler)
	}
	return err
}

// e164 is a whole phone number, which a spreadsheet reads as a number, not a formula.
var e164 = regexp.MustCompile(`^\+[0-9]{1,15}$`)

// cell writes text that came from callers, VAPI or Twilio. A cell a spreadsheet would
// evaluate as a formula (starting with = + - @, a tab or a carriage return) is prefixed
// with an apostrophe, OWASP's advice against CSV injection.
func cell(v *string) string {
	if v == nil || *v == "" {
		return ""
	}
	s := *v
	if strings.ContainsRune("=+-@\t\r", rune(s[0])) && !e164.MatchString(s) {
		return "'" + s
	}
	return s
}

func timeCell(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func intCell(v *int32) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(int(*v))
}

func floatCell(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func uuidCell(v *openapi_types.UUID) string {
	if v == nil {
		return ""
	}
	return v.String()
}

// GetCallRecording redirects to a fresh URL of the call's recording, or streams its
// voicemail.
func (s *Server) GetCallRecording(ctx context.Context, req api.GetCallRecordingRequestObject) (api.GetCallRecordingResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	variant := "mono"
	if req.Params.Variant != nil {
		variant = string(*req.Params.Variant)
	}
	play, err := s.calls.Recording(ctx, t, req.Id, variant)
	if err != nil {
		return nil, err
	}
	if m := play.Media; m != nil {
		return api.GetCallRecording200AudiompegResponse{Body: m.Body, ContentLength: max(m.Length, 0)}, nil
	}
	return api.GetCallRecording302Response{Headers: api.GetCallRecording302ResponseHeaders{Location: &play.URL}}, nil
}

// StreamCallEvents streams the tenant's call changes as Server-Sent Events.
func (s *Server) StreamCallEvents(ctx context.Context, req api.StreamCallEventsRequestObject) (api.StreamCallEventsResponseObject, error) {
	t, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	e := eventStream{ctx: ctx, s: s}
	var after int64
	if id := req.Params.LastEventID; id != nil && *id != "" {
		after, err = strconv.ParseInt(*id, 10, 64)
		if err != nil || after < 0 {
			return nil, errs.New(errs.CodeValidationFailed, "Last-Event-ID must be the id of an event this stream sent.")
		}
	}
	// The subscription itself reads nothing from the database, so a closed account or a
	// removed member is refused here.
	if err := s.clinics.CheckOpen(ctx, t); err != nil {
		return nil, err
	}
	// Subscribed before the backlog is read, so nothing falls between the two.
	if e.sub, err = s.hub.Subscribe(t); err != nil {
		return nil, err
	}
	if req.Params.LastEventID != nil && *req.Params.LastEventID != "" {
		if err := e.replay(t, after); err != nil {
			e.sub.Close()
			return nil, err
		}
	}
	return e, nil
}

type eventStream struct {
	ctx context.Context
	s   *Server
	sub *calls.Subscription
	// replayed is what a resuming client missed, sent first, or the reset it is told
	// instead.
	replayed calls.Replay
}

// replay reads what a resuming client missed, before the stream answers, so that a
// failure is still a problem document. Few replays run at once, so that many clients
// reconnecting together (after a deploy) do not take the connections requests need.
func (e *eventStream) replay(t tenant.ID, after int64) error {
	select {
	case e.s.replays <- struct{}{}:
		defer func() { <-e.s.replays }()
	case <-e.ctx.Done():
		return e.ctx.Err()
	}
	var err error
	e.replayed, err = e.s.calls.EventsAfter(e.ctx, t, after)
	return err
}

func (e eventStream) VisitStreamCallEventsResponse(w http.ResponseWriter) error {
	defer e.sub.Close()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream lives as long as its client
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no") // tells nginx-style proxies not to buffer the stream
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, "retry: 3000\n: connected\n\n"); err != nil {
		return err
	}
	if e.replayed.Reset {
		// Too far behind to catch up by replaying: the client refetches what it shows,
		// and the stream goes on from now.
		if _, err := io.WriteString(w, "event: reset\ndata: {\"reason\":\"too_far_behind\"}\n\n"); err != nil {
			return err
		}
	}
	// Events go out in the order of their positions; one at or before the last sent was
	// sent already (the backlog and the subscription overlap) or precedes the resumed one.
	last := e.replayed.From
	send := func(ev calls.Event) error {
		if !last.Before(ev.At) {
			return nil
		}
		data, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.ID, ev.Kind, data); err != nil {
			return err
		}
		last = ev.At
		return nil
	}
	for _, ev := range e.replayed.Events {
		if err := send(ev); err != nil {
			return err
		}
	}
	if err := rc.Flush(); err != nil {
		return err
	}
	return e.follow(w, rc, send)
}

// follow sends the subscription's events as they come, with a heartbeat comment between
// them, until the client leaves or the hub ends the subscription.
func (e eventStream) follow(w io.Writer, rc *http.ResponseController, send func(calls.Event) error) error {
	heartbeat := time.NewTicker(e.s.heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return nil
		case <-e.sub.Done:
			return nil
		case ev := <-e.sub.C:
			if err := send(ev); err != nil {
				return err
			}
		case <-heartbeat.C:
			if _, err := io.WriteString(w, ": heartbeat\n\n"); err != nil {
				return err
			}
		}
		if err := rc.Flush(); err != nil {
			return err
		}
	}
}
