// Package metrics holds Switchboard's Prometheus metrics: what an operator watches at
// night. The HTTP layer, the webhooks and the VAPI client record into it; the inbox, the
// spool and the connection pool are read when /metrics is scraped.
package metrics

import (
	"context"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
)

// Metrics is the registry and the instruments recorded into.
type Metrics struct {
	registry *prometheus.Registry

	httpDuration *prometheus.HistogramVec
	webhooks     *prometheus.CounterVec
	vapiDuration *prometheus.HistogramVec
}

// Sources are read on every scrape. Any may be nil.
type Sources struct {
	Pool *pgxpool.Pool
	// Inbox returns how many webhook events wait to be applied (pending or failed) and the
	// age of the oldest failed one.
	Inbox func(ctx context.Context) (backlog int64, oldestFailed time.Duration, err error)
	// Spool returns how many VAPI messages wait on local disk.
	Spool func() int
}

// New registers every metric.
func New(src Sources) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_http_request_duration_seconds",
			Help:    "HTTP requests by route pattern, method and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_webhook_events_total",
			Help: "Webhook deliveries by provider and outcome: accepted, duplicate, rejected_signature, unattributed, ignored, spooled, failed.",
		}, []string{"provider", "outcome"}),
		vapiDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_vapi_request_duration_seconds",
			Help:    "Calls to VAPI's API by operation and result (ok or error).",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 4, 8, 14},
		}, []string{"operation", "result"}),
	}
	m.registry.MustRegister(m.httpDuration, m.webhooks, m.vapiDuration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src.Pool != nil {
		m.registry.MustRegister(poolCollector{src.Pool})
	}
	if src.Inbox != nil || src.Spool != nil {
		m.registry.MustRegister(&inboxCollector{src: src})
	}
	return m
}

// knownMethods are the methods that get a label of their own.
var knownMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true,
}

// ObserveHTTP records one request.
func (m *Metrics) ObserveHTTP(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched" // never the raw path: it would make one series per URL
	}
	if !knownMethods[method] {
		method = "other" // a client may send any token as a method: one series each would grow without end
	}
	m.httpDuration.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// Webhook counts one delivery's outcome.
func (m *Metrics) Webhook(provider, outcome string) {
	m.webhooks.WithLabelValues(provider, outcome).Inc()
}

// ObserveVAPI records one call to VAPI.
func (m *Metrics) ObserveVAPI(operation string, d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.vapiDuration.WithLabelValues(operation, result).Observe(d.Seconds())
}

// Write writes every metric in Prometheus' text format.
func (m *Metrics) Write(w io.Writer) error {
	families, err := m.registry.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}

var (
	poolDesc = map[string]*prometheus.Desc{
		"total":    prometheus.NewDesc("switchboard_db_pool_connections", "Connections in the pool, by state.", []string{"state"}, nil),
		"max":      prometheus.NewDesc("switchboard_db_pool_max_connections", "The pool's size limit.", nil, nil),
		"acquires": prometheus.NewDesc("switchboard_db_pool_acquires_total", "Connections handed out.", nil, nil),
		"waited":   prometheus.NewDesc("switchboard_db_pool_acquire_wait_seconds_total", "Time spent waiting for a free connection.", nil, nil),
		"empty":    prometheus.NewDesc("switchboard_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", nil, nil),
	}
	backlogDesc = prometheus.NewDesc("switchboard_inbox_backlog", "Webhook events stored but not yet applied (pending or failed).", nil, nil)
	oldestDesc  = prometheus.NewDesc("switchboard_inbox_oldest_failed_seconds", "Age of the oldest failed webhook event; 0 when none.", nil, nil)
	upDesc      = prometheus.NewDesc("switchboard_inbox_readable", "1 when the inbox could be read for this scrape, 0 when the database did not answer.", nil, nil)
	spoolDesc   = prometheus.NewDesc("switchboard_spool_messages", "VAPI messages waiting on local disk for the database.", nil, nil)
)

type poolCollector struct{ pool *pgxpool.Pool }

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range poolDesc {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolDesc["total"], prometheus.GaugeValue, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(poolDesc["total"], prometheus.GaugeValue, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(poolDesc["total"], prometheus.GaugeValue, float64(s.ConstructingConns()), "constructing")
	ch <- prometheus.MustNewConstMetric(poolDesc["max"], prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolDesc["acquires"], prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolDesc["waited"], prometheus.CounterValue, s.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(poolDesc["empty"], prometheus.CounterValue, float64(s.EmptyAcquireCount()))
}

// inboxCollector reports the inbox and the spool. The inbox is read at most once per
// inboxTTL, whatever the scrape rate: a scrape must not cost the database a query each
// time (anyone who can reach /metrics could otherwise turn it into load).
type inboxCollector struct {
	src Sources

	mu      sync.Mutex
	read    time.Time // when the inbox was last read
	backlog int64
	oldest  time.Duration
	err     error
}

// inboxTTL is how long one reading of the inbox serves scrapes.
const inboxTTL = 15 * time.Second

func (c *inboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- backlogDesc
	ch <- oldestDesc
	ch <- upDesc
	ch <- spoolDesc
}

func (c *inboxCollector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Inbox != nil {
		backlog, oldest, err := c.inbox()
		up := 1.0
		if err != nil {
			up = 0
		} else {
			ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(backlog))
			ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, oldest.Seconds())
		}
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up)
	}
	if c.src.Spool != nil {
		ch <- prometheus.MustNewConstMetric(spoolDesc, prometheus.GaugeValue, float64(c.src.Spool()))
	}
}

// inbox returns the last reading of the inbox, reading it again once it is older than
// inboxTTL; concurrent scrapes share one reading.
func (c *inboxCollector) inbox() (int64, time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.read.IsZero() || time.Since(c.read) >= inboxTTL {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c.backlog, c.oldest, c.err = c.src.Inbox(ctx)
		c.read = time.Now()
	}
	return c.backlog, c.oldest, c.err
}
