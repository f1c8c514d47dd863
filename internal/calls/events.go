package calls

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// Event is one change of a call, as live updates stream it.
type Event struct {
	ID        int64     `json:"id"`
	CallID    uuid.UUID `json:"call_id"`
	Kind      string    `json:"kind"` // created, status_changed, report_stored, follow_up_changed
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	// At is the event's place in the order streams deliver events.
	At Position `json:"-"`
}

// Position orders events as they become visible: by the transaction that wrote them,
// then by id (see 00007_settled_call_events.sql). Event ids alone do not: an id is taken
// when a change is made, and a later id may commit first. The zero Position comes
// before every event.
type Position struct{ XID, ID int64 }

// Before reports whether p comes before q.
func (p Position) Before(q Position) bool {
	return p.XID < q.XID || (p.XID == q.XID && p.ID < q.ID)
}

// eventOf converts a stored event.
func eventOf(r dbsqlc.ListCallEventsAfterRow) Event {
	return Event{ID: r.ID, CallID: r.CallID, Kind: r.Kind, Status: r.Status, CreatedAt: r.CreatedAt, At: Position{r.Xid, r.ID}}
}

// Hub fans out call changes to the live streams of this process. A trigger on calls
// records each change in call_events; the hub reads that log every PollInterval, up to
// the horizon below which it no longer changes, and hands each new event to the streams
// of its tenant. Every replica runs one, so every stream sees every change, in the order
// of the events' positions. A stream only ever receives its own tenant's events.
type Hub struct {
	connString string
	log        *slog.Logger
	perTenant  int // streams one tenant may hold

	mu     sync.Mutex
	subs   map[tenant.ID]map[*Subscription]struct{}
	closed bool

	at      Position // the last event handed out, or the horizon while no stream listens
	failing bool     // the last read failed; logged once until one succeeds
}

// PollInterval is how often the hub reads the event log: the delay a live update adds.
const PollInterval = 100 * time.Millisecond

// Subscription receives one tenant's events until it is closed, by its owner or by the
// hub (when the stream cannot keep up, or the hub stops): Done then closes, and the
// client resumes from its Last-Event-ID.
type Subscription struct {
	C    chan Event
	Done chan struct{}
	hub  *Hub
	t    tenant.ID
	once sync.Once
}

// NewHub returns a hub that reads the event log, as the service's role, on a connection of
// its own to the pool's database: live updates neither wait for the pool nor make the
// requests wait. perTenant bounds each tenant's streams (0: StreamsPerTenant).
func NewHub(pool *pgxpool.Pool, log *slog.Logger, perTenant int) *Hub {
	if perTenant <= 0 {
		perTenant = StreamsPerTenant
	}
	return &Hub{connString: pool.Config().ConnString(), log: log, perTenant: perTenant, subs: map[tenant.ID]map[*Subscription]struct{}{}}
}

// Subscribe starts receiving t's events. Returns TooMany (too_many_streams) when the
// tenant holds as many streams as the hub allows.
func (h *Hub) Subscribe(t tenant.ID) (*Subscription, error) {
	s := &Subscription{C: make(chan Event, subscriptionBuffer), Done: make(chan struct{}), hub: h, t: t}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.close()
		return s, nil
	}
	if len(h.subs[t]) >= h.perTenant {
		return nil, errTooManyStreams
	}
	if h.subs[t] == nil {
		h.subs[t] = map[*Subscription]struct{}{}
	}
	h.subs[t][s] = struct{}{}
	return s, nil
}

// subscriptionBuffer is how many events a stream may fall behind before the hub ends it
// (it resumes from its Last-Event-ID, losing nothing). Each buffer is allocated whole
// when a stream opens: 64 events are 6 KB a stream; 256 made 1 000 open streams cost
// 25 MB.
const subscriptionBuffer = 64

// StreamsPerTenant is how many live streams one tenant may hold open on one replica by
// default: a clinic's staff each keep one, and a client that opens stream after stream
// (a reconnect loop) must not take the replica's memory and the hub's time from others.
const StreamsPerTenant = 50

var errTooManyStreams = errs.New(errs.CodeTooManyStreams, "This clinic has as many live streams open as one server keeps; close one (each browser tab keeps one) and retry.")

// Close stops receiving.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	delete(s.hub.subs[s.t], s)
	if len(s.hub.subs[s.t]) == 0 {
		delete(s.hub.subs, s.t)
	}
	s.hub.mu.Unlock()
	s.close()
}

func (s *Subscription) close() { s.once.Do(func() { close(s.Done) }) }

// Run reads the event log every PollInterval until ctx ends, and then closes every
// stream. A failed read (the database is unreachable) is tried again at the next tick,
// from the same position, so streams stay open and miss nothing.
func (h *Hub) Run(ctx context.Context) {
	defer h.Close()
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close(context.WithoutCancel(ctx))
		}
	}()
	for {
		// Bounded, so that a connection lost without a word is given up and made anew.
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var err error
		if conn == nil {
			conn, err = pgx.Connect(pctx, h.connString)
		}
		if err == nil {
			if err = h.poll(pctx, dbsqlc.New(conn)); err != nil {
				_ = conn.Close(context.WithoutCancel(ctx))
				conn = nil
			}
		}
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !h.failing:
			h.log.WarnContext(ctx, "live updates: reading the event log failed; retrying", slog.String("error", err.Error()))
		case err == nil && h.failing:
			h.log.InfoContext(ctx, "live updates: reading the event log again")
		}
		h.failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// poll hands out the events settled since the last poll. While no stream listens it only
// moves to the horizon, so that a stream that subscribes gets what settles after it did.
func (h *Hub) poll(ctx context.Context, q *dbsqlc.Queries) error {
	if !h.listened() {
		// The horizon is read before asking once more whether anyone listens: a stream
		// that subscribes after that question gets every change of a transaction that had
		// not ended when the horizon was read, so none is skipped.
		horizon, err := q.CallEventsHorizon(ctx)
		if err != nil {
			return err
		}
		if !h.listened() {
			h.at = Position{XID: horizon}
			return nil
		}
	}
	const page = 500
	for {
		rows, err := q.ListSettledCallEvents(ctx, dbsqlc.ListSettledCallEventsParams{AfterXid: h.at.XID, AfterID: h.at.ID, RowLimit: page})
		if err != nil {
			return err
		}
		for _, r := range rows {
			h.at = Position{r.Xid, r.ID}
			h.publish(tenant.ID(r.UserID), Event{ID: r.ID, CallID: r.CallID, Kind: r.Kind, Status: r.Status, CreatedAt: r.CreatedAt, At: h.at})
		}
		if len(rows) < page {
			return nil
		}
	}
}

func (h *Hub) listened() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs) > 0
}

func (h *Hub) publish(t tenant.ID, ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[t] {
		select {
		case s.C <- ev:
		default:
			// Too slow to keep up: end its stream rather than block everyone; it resumes.
			delete(h.subs[t], s)
			s.close()
		}
	}
}

func (h *Hub) dropAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for t, subs := range h.subs {
		for s := range subs {
			s.close()
		}
		delete(h.subs, t)
	}
}

// Close ends every stream and refuses new ones; for shutdown.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.dropAll()
}
