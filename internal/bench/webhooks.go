package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// webhookBacklog is how many events the webhook scenario delivers.
const webhookBacklog = 5000

// deliveryWorkers is how many deliveries River works at once (background's webhooks queue),
// and so how many connections the floor posts with.
const deliveryWorkers = 20

// measureWebhooks measures outbound webhook delivery: Switchboard delivering a backlog of
// events (outbox, River, the call read and the body built, signing, the attempt recorded)
// to a receiver on loopback, against a floor that POSTs a body of the same size, signed
// once, to the same receiver from as many goroutines as River has delivery workers. The
// server runs in development mode, the only one in which deliveries may reach loopback.
func (h *harness) measureWebhooks(ctx context.Context, pool *pgxpool.Pool, dbURL string) (row, error) {
	var received atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()

	floor := postFloor(rcv.URL, h.duration)
	received.Store(0)

	sb, err := h.startSwitchboard(dbURL, "APP_ENV=development", "OUTBOUND_WEBHOOKS_ALLOW_PRIVATE=true")
	if err != nil {
		return row{}, err
	}
	defer sb.stop()
	if _, err := pool.Exec(ctx, `INSERT INTO webhook_endpoints (user_id, url, secret)
		SELECT DISTINCT user_id, $1, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' FROM phone_numbers`, rcv.URL); err != nil {
		return row{}, err
	}
	fmt.Fprintf(os.Stderr, "  webhooks: %d events to %s\n", webhookBacklog, rcv.URL)
	serverCPU, pgCPU := cpuSeconds(sb.cmd.Process.Pid), h.postgresCPU()
	start := time.Now()
	if _, err := pool.Exec(ctx, `INSERT INTO webhook_deliveries (user_id, endpoint_id, event_type, call_id)
		SELECT c.user_id, e.id, 'call.ended', c.id FROM calls c JOIN webhook_endpoints e ON e.user_id = c.user_id
		ORDER BY c.started_at DESC LIMIT $1`, webhookBacklog); err != nil {
		return row{}, err
	}
	for received.Load() < webhookBacklog {
		if time.Since(start) > 2*time.Minute {
			return row{}, fmt.Errorf("webhooks: %d of %d delivered in 2 minutes; deliveries: %s", received.Load(), webhookBacklog, deliveryStates(ctx, pool))
		}
		time.Sleep(20 * time.Millisecond) // polling a counter, not standing in for an event
	}
	elapsed := time.Since(start)
	sbResult := &loadResult{Requests: webhookBacklog, Seconds: elapsed.Seconds(), RPS: webhookBacklog / elapsed.Seconds(),
		ServerCPUms:   (cpuSeconds(sb.cmd.Process.Pid) - serverCPU) * 1000 / webhookBacklog,
		PostgresCPUms: (h.postgresCPU() - pgCPU) * 1000 / webhookBacklog}
	ratio := sbResult.RPS / floor.RPS
	return row{name: fmt.Sprintf("Outbound webhooks, a backlog of %d events: deliveries/s", webhookBacklog), sb: sbResult, floor: floor, ratio: ratio,
		note: fmt.Sprintf("all %d delivered in %s, from the commit that queued them; the floor posts with %d connections, as River works with %d", webhookBacklog, elapsed.Round(10*time.Millisecond), deliveryWorkers, deliveryWorkers)}, nil
}

// postFloor POSTs a 1.5 KB JSON body with Standard Webhooks headers to url from
// deliveryWorkers goroutines for d, each sending its next request when the last is answered.
func postFloor(url string, d time.Duration) *loadResult {
	body := bytes.Repeat([]byte("x"), 1500)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: deliveryWorkers}}
	var mu sync.Mutex
	var latencies []time.Duration
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for range deliveryWorkers {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(deadline) {
				t0 := time.Now()
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("webhook-id", "msg_floor")
				req.Header.Set("webhook-timestamp", "1764669600")
				req.Header.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
					mine = append(mine, time.Since(t0))
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	r := &loadResult{Requests: int64(len(latencies)), Seconds: d.Seconds(), RPS: float64(len(latencies)) / d.Seconds()}
	if n := len(latencies); n > 0 {
		r.P50ms = float64(latencies[n/2].Microseconds()) / 1000
		r.P99ms = float64(latencies[n*99/100].Microseconds()) / 1000
	}
	return r
}

// deliveryStates says where deliveries stand, for a scenario that did not finish.
func deliveryStates(ctx context.Context, pool *pgxpool.Pool) string {
	rows, err := pool.Query(ctx, "SELECT status, coalesce(error, ''), count(*) FROM webhook_deliveries GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10")
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var status, e string
		var n int
		_ = rows.Scan(&status, &e, &n)
		out = append(out, fmt.Sprintf("%d %s %q", n, status, e))
	}
	return strings.Join(out, "; ")
}
