package calls

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// Event is one change of a call, as live updates stream it.
type Event struct {
	ID        int64     `json:"id"`
	CallID    uuid.UUID `json:"call_id"`
	Kind      string    `json:"kind"` // created, status_changed, report_stored
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// EventOf converts a stored event.
func EventOf(r dbsqlc.ListCallEventsAfterRow) Event {
	return Event{ID: r.ID, CallID: r.CallID, Kind: r.Kind, Status: r.Status, CreatedAt: r.CreatedAt}
}

// Hub fans out the call changes PostgreSQL announces (a trigger on calls records each
// change in call_events and notifies channel call_events on commit) to the live streams
// of this process. Every replica runs one, so every stream sees every change. A stream
// only ever receives its own tenant's events.
type Hub struct {
	connString string
	log        *slog.Logger

	mu     sync.Mutex
	subs   map[tenant.ID]map[*Subscription]struct{}
	closed bool
}

// Subscription receives one tenant's events until it is closed, by its owner or by the
// hub (when the stream cannot keep up, the hub's connection was lost, or the hub stops):
// Done then closes, and the client resumes from its Last-Event-ID.
type Subscription struct {
	C    chan Event
	Done chan struct{}
	hub  *Hub
	t    tenant.ID
	once sync.Once
}

// NewHub returns a hub that listens on its own connection to the pool's database.
func NewHub(pool *pgxpool.Pool, log *slog.Logger) *Hub {
	return &Hub{connString: pool.Config().ConnString(), log: log, subs: map[tenant.ID]map[*Subscription]struct{}{}}
}

// Subscribe starts receiving t's events.
func (h *Hub) Subscribe(t tenant.ID) *Subscription {
	s := &Subscription{C: make(chan Event, 256), Done: make(chan struct{}), hub: h, t: t}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.close()
		return s
	}
	if h.subs[t] == nil {
		h.subs[t] = map[*Subscription]struct{}{}
	}
	h.subs[t][s] = struct{}{}
	return s
}

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

// Run listens until ctx ends, reconnecting after a lost connection. Streams are closed on
// every reconnect, since events may have been missed meanwhile; they resume from the
// event log.
func (h *Hub) Run(ctx context.Context) {
	defer h.Close()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := h.listen(ctx)
		h.dropAll()
		if ctx.Err() != nil {
			return
		}
		h.log.WarnContext(ctx, "live updates: listening connection lost; reconnecting", slog.String("error", err.Error()))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (h *Hub) listen(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, h.connString)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN call_events"); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var ev struct {
			Event
			UserID string `json:"user_id"`
		}
		if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil {
			h.log.ErrorContext(ctx, "live updates: unreadable notification", slog.String("error", err.Error()))
			continue
		}
		h.publish(tenant.ID(ev.UserID), ev.Event)
	}
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
