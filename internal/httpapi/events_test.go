package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/internal/providertest"
	"github.com/switchboard-health/switchboard/internal/testkit"

	"github.com/switchboard-health/switchboard/internal/calls"
)

type sseEvent struct {
	id, event string
	data      map[string]any
}

// sseClient reads a live stream's events and comment lines.
type sseClient struct {
	t        *testing.T
	events   chan sseEvent
	comments chan string
	cancel   context.CancelFunc
}

func (b *bundle) stream(srv *httptest.Server, token, lastEventID string) *sseClient {
	b.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/calls/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		b.t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		b.t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{t: b.t, events: make(chan sseEvent, 100), comments: make(chan string, 100), cancel: cancel}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.id != "" || ev.event != "" {
					c.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				c.comments <- line
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.data)
			}
		}
	}()
	b.t.Cleanup(cancel)
	return c
}

func (c *sseClient) next() sseEvent {
	c.t.Helper()
	select {
	case ev := <-c.events:
		return ev
	case <-time.After(5 * time.Second):
		c.t.Fatal("no event within 5 s")
		return sseEvent{}
	}
}

// nextStaffChange is the stream's next event that is not a call's creation: a stream opened
// just after calls were made may still deliver their creation, which became visible
// before it subscribed but after the stream's starting point.
func (c *sseClient) nextStaffChange() sseEvent {
	c.t.Helper()
	for {
		if ev := c.next(); ev.event != "created" {
			return ev
		}
	}
}

// nextCreated fails the test unless the stream's next event is the creation of callID.
func (c *sseClient) nextCreated(callID string) {
	c.t.Helper()
	if ev := c.next(); ev.event != "created" || ev.data["call_id"] != callID {
		c.t.Fatalf("streamed %+v, want the creation of call %s", ev, callID)
	}
}

// newCall makes an inbound call to the tenant's line through Twilio's webhook and returns
// its id.
func (b *bundle) newCall(token, sid, line string) string {
	b.t.Helper()
	isTwiML(b.t, b.twilio("/api/webhooks/twilio", providertest.InboundForm(sid, patientNumber, sharedLine, line)))
	for _, c := range b.callsOf(token) {
		if c["twilio_call_sid"] == sid {
			return c["id"].(string)
		}
	}
	b.t.Fatalf("call %s not recorded", sid)
	return ""
}

func (c *sseClient) none(wait time.Duration) {
	c.t.Helper()
	select {
	case ev := <-c.events:
		c.t.Fatalf("unexpected event %+v", ev)
	case <-time.After(wait):
	}
}

func TestLiveUpdatesStreamOwnChangesAndResume(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close) // after the streams, which are closed by their own cleanups
	a, bb := b.token("user_clinic_a"), b.token("user_clinic_b")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")

	streamA := b.stream(srv, a, "")
	streamB := b.stream(srv, bb, "")
	// Heartbeats keep proxies from closing an idle stream.
	select {
	case <-streamA.comments:
	case <-time.After(2 * time.Second):
		t.Fatal("no comment line on the stream")
	}

	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_LIVE", patientNumber, sharedLine, clinicALine)))
	created := streamA.next()
	callID := b.callsOf(a)[0]["id"].(string)
	if created.event != "created" || created.data["call_id"] != callID || created.data["status"] != "initiated" {
		t.Fatalf("first event %+v", created)
	}
	expect(t, b.twilio("/api/webhooks/twilio/status", url.Values{"CallSid": {"CA_LIVE"}, "CallStatus": {"in-progress"}}), 204)
	status := streamA.next()
	if status.event != "status_changed" || status.data["status"] != "in_progress" {
		t.Fatalf("second event %+v", status)
	}
	meta := b.vapi.Calls()[0].Body["metadata"].(map[string]any)
	expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-call-1", meta)), 200)
	report := streamA.next()
	if report.event != "report_stored" || report.data["status"] != "ended" {
		t.Fatalf("third event %+v", report)
	}
	// A repeated report changes nothing, so it announces nothing: the next event on the
	// stream is the next change, a new call.
	expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-call-1", meta)), 200)
	markA := b.newCall(a, "CA_LIVE_MARK_A", clinicALine)
	streamA.nextCreated(markA)
	// Clinic B saw none of it: the first event on its stream is its own first call.
	b.registerLine(bb, clinicBLine, "asst_b", "vpn_b")
	markB := b.newCall(bb, "CA_LIVE_MARK_B", clinicBLine)
	streamB.nextCreated(markB)

	// A client that reconnects with Last-Event-ID gets what followed that event, and only
	// its own: clinic B's call, made meanwhile, is not among them.
	streamA.cancel()
	resumed := b.stream(srv, a, created.id)
	for _, want := range []sseEvent{status, report} {
		if got := resumed.next(); got.id != want.id || got.event != want.event {
			t.Errorf("resumed %s/%s, want %s/%s", got.id, got.event, want.id, want.event)
		}
	}
	resumed.nextCreated(markA)
	markA2 := b.newCall(a, "CA_LIVE_MARK_A2", clinicALine)
	resumed.nextCreated(markA2)
	// Clinic B resuming from zero gets its own calls and nothing of clinic A's.
	resumedB := b.stream(srv, bb, "0")
	resumedB.nextCreated(markB)
	markB2 := b.newCall(bb, "CA_LIVE_MARK_B2", clinicBLine)
	resumedB.nextCreated(markB2)

	req, _ := http.NewRequest("GET", srv.URL+"/api/calls/events", nil)
	req.Header.Set("Authorization", "Bearer "+a)
	req.Header.Set("Last-Event-ID", "yesterday")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("bad Last-Event-ID: status %d", resp.StatusCode)
	}
}

// A change that commits after a later one is still streamed, and a stream resumed from an
// event gets every change that became visible after it. Event ids are taken when a
// change is made, so neither can go by ids: here two changes commit in the opposite
// order of their ids, each time.
func TestLiveUpdatesKeepChangesThatCommitLate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)
	a := b.token("user_clinic_a")
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	stream := b.stream(srv, a, "")
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_LATE_1", patientNumber, sharedLine, clinicALine)))
	if ev := stream.next(); ev.event != "created" {
		t.Fatalf("first event %+v", ev)
	}
	ctx := context.Background()
	// setStatus changes the first call in a transaction that stays open until the
	// returned commit; early makes the transaction start (take its id) before the change.
	setStatus := func(status string, early bool) (commit func()) {
		t.Helper()
		tx, err := b.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if early {
			if _, err := tx.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
				t.Fatal(err)
			}
		}
		change := func() {
			if _, err := tx.Exec(ctx, "UPDATE calls SET status = $1 WHERE twilio_call_sid = 'CA_LATE_1'", status); err != nil {
				t.Fatal(err)
			}
		}
		if !early {
			change()
		}
		return func() {
			if early {
				change()
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The status change takes its event id first and commits after another call's
	// creation: both are streamed, the status change first (its transaction is older).
	commit := setStatus("ringing", false)
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_LATE_2", patientNumber, sharedLine, clinicALine)))
	stream.none(3 * calls.PollInterval) // nothing goes out past the open transaction
	commit()
	for _, want := range []string{"status_changed", "created"} {
		if ev := stream.next(); ev.event != want {
			t.Fatalf("streamed %+v, want %s", ev, want)
		}
	}

	// The transaction starts first but makes its change after another call's creation
	// committed: the change gets the higher id and still comes first.
	commit = setStatus("in_progress", true)
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_LATE_3", patientNumber, sharedLine, clinicALine)))
	commit()
	changed, created := stream.next(), stream.next()
	if changed.event != "status_changed" || created.event != "created" || atoi(t, changed.id) <= atoi(t, created.id) {
		t.Fatalf("streamed %+v then %+v, want the status change (higher id) first", changed, created)
	}
	// Resuming from the change gives the creation that followed it, lower id and all.
	resumed := b.stream(srv, a, changed.id)
	if got := resumed.next(); got.id != created.id {
		t.Fatalf("resumed with %+v, want event %s", got, created.id)
	}
	resumed.none(3 * calls.PollInterval)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A clinic holds a bounded number of live streams on one server: one more is a 429 it can
// act on, other clinics are not affected, and closing a stream frees its place.
func TestLiveStreamsPerClinicAreBounded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)
	a, bb := b.token("user_clinic_a"), b.token("user_clinic_b")
	var streams []*sseClient
	for range streamsPerTenant {
		streams = append(streams, b.stream(srv, a, ""))
	}
	p := expect(t, b.do("GET", "/api/calls/events", a, nil), 429).problem(t)
	if p["code"] != "too_many_streams" {
		t.Errorf("one stream too many: %v", p)
	}
	b.stream(srv, bb, "") // another clinic is not affected
	streams[0].cancel()
	testkit.Eventually(t, 5*time.Second, "a closed stream frees its place", func() bool {
		req := httptest.NewRequest("GET", "/api/calls/events", nil)
		req.Header.Set("Authorization", "Bearer "+a)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rec := &firstWrite{ResponseRecorder: httptest.NewRecorder(), wrote: make(chan struct{})}
		go b.handler.ServeHTTP(rec, req.WithContext(ctx))
		<-rec.wrote
		return rec.Code == 200
	})
}

// firstWrite signals the first write of an answer that never ends by itself (a stream).
type firstWrite struct {
	*httptest.ResponseRecorder
	wrote chan struct{}
	once  sync.Once
}

func (f *firstWrite) WriteHeader(code int) {
	f.ResponseRecorder.WriteHeader(code)
	f.once.Do(func() { close(f.wrote) })
}

// A client that missed more than a stream replays is told to reset (refetch what it
// shows) instead of being sent a day of changes, and the stream goes on from now.
func TestAStreamFarBehindIsToldToReset(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)
	a := b.token("user_clinic_a")
	// Clinic B's stream shows when the hub has read past clinic A's burst: B's marker
	// comes after it.
	other := b.stream(srv, b.token("user_clinic_b"), "")
	var first int64
	err := b.pool.QueryRow(context.Background(), `
		INSERT INTO call_events (user_id, call_id, kind, status)
		SELECT 'user_clinic_a', gen_random_uuid(), 'status_changed', 'ringing' FROM generate_series(1, $1)
		RETURNING id`, calls.MaxReplay+2).Scan(&first)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.pool.Exec(context.Background(), `INSERT INTO call_events (user_id, call_id, kind, status)
		VALUES ('user_clinic_b', gen_random_uuid(), 'created', 'initiated')`); err != nil {
		t.Fatal(err)
	}
	if ev := other.next(); ev.data["status"] != "initiated" {
		t.Fatalf("clinic B's marker: %+v", ev)
	}
	resumed := b.stream(srv, a, strconv.FormatInt(first, 10))
	if ev := resumed.next(); ev.event != "reset" {
		t.Fatalf("first event %+v, want reset", ev)
	}
	b.registerLine(a, clinicALine, "asst_a", "vpn_a")
	resumed.nextCreated(b.newCall(a, "CA_AFTER_RESET", clinicALine))
}
