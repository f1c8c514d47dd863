package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// streamLoad opens one live stream (GET /api/calls/events) for each tenant, then sends
// end-of-call reports for random tenants at rate a second for duration, and measures for
// each report the time from its sending (its handling and commit included) to its call's
// first event on its tenant's stream. An event on a stream whose tenant has no report
// waiting is misrouted; a report whose event has not come 2 s after the last was sent is
// missing. Both count as errors.
func streamLoad(target string, tenants []tenantFixture, rate float64, duration time.Duration, report func(tenantFixture, int64) *http.Request) (loadResult, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	streams := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: len(tenants), DisableCompression: true}}
	waiting := make([]pendingReports, len(tenants))
	var misrouted atomic.Int64
	var opened sync.WaitGroup
	var openErr atomic.Value
	for i, t := range tenants {
		opened.Add(1)
		go func() {
			err := readStream(ctx, streams, target, t, &opened, func() {
				if !waiting[i].arrived() {
					misrouted.Add(1)
				}
			})
			if err != nil && ctx.Err() == nil {
				openErr.Store(err)
			}
		}()
	}
	opened.Wait()
	if err, _ := openErr.Load().(error); err != nil {
		return loadResult{}, err
	}

	reports := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, DisableCompression: true}}
	var sent, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	for at := start; at.Before(start.Add(duration)); at = at.Add(interval) {
		time.Sleep(time.Until(at))
		i := rand.IntN(len(tenants))
		n := sent.Add(1)
		wg.Go(func() {
			waiting[i].send(at)
			resp, err := reports.Do(report(tenants[i], n))
			if err != nil || resp.StatusCode >= 300 {
				failed.Add(1)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	// Events come within the hub's poll interval; 2 s is twenty of them.
	time.Sleep(2 * time.Second)
	cancel()
	var latencies []time.Duration
	missing := int64(0)
	for i := range waiting {
		latencies = append(latencies, waiting[i].latencies...)
		missing += int64(len(waiting[i].due))
	}
	slices.Sort(latencies)
	r := loadResult{Requests: sent.Load(), Errors: failed.Load() + misrouted.Load() + missing, Seconds: duration.Seconds(),
		P50ms: percentileMS(latencies, 0.50), P99ms: percentileMS(latencies, 0.99), Misrouted: misrouted.Load(), Missing: missing}
	r.RPS = float64(len(latencies)) / r.Seconds
	return r, nil
}

// pendingReports are a tenant's reports sent and not yet seen on its stream, oldest
// first, and the latencies of those seen.
type pendingReports struct {
	mu        sync.Mutex
	due       []time.Time
	latencies []time.Duration
}

func (p *pendingReports) send(at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.due = append(p.due, at)
}

// arrived takes the oldest report waiting for an event; false when none waits.
func (p *pendingReports) arrived() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.due) == 0 {
		return false
	}
	p.latencies = append(p.latencies, time.Since(p.due[0]))
	p.due = p.due[1:]
	return true
}

// readStream opens t's live stream, marks opened done once it is answered, and calls
// newCall for the first event of every call until ctx ends.
func readStream(ctx context.Context, client *http.Client, target string, t tenantFixture, opened *sync.WaitGroup, newCall func()) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", target+"/api/calls/events", nil)
	req.Header.Set("Authorization", "Bearer "+t.Token)
	resp, err := client.Do(req)
	opened.Done()
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("stream of %s: %s", t.UserID, resp.Status)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev struct {
			CallID string `json:"call_id"`
		}
		if json.Unmarshal([]byte(data), &ev) == nil && ev.CallID != "" && !seen[ev.CallID] {
			seen[ev.CallID] = true
			newCall()
		}
	}
	return sc.Err()
}

func percentileMS(l []time.Duration, p float64) float64 {
	if len(l) == 0 {
		return 0
	}
	return float64(l[int(p*float64(len(l)-1))].Microseconds()) / 1000
}
