package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/internal/calls"
)

// measureMixed measures the Twilio hand-off at the harness's rate while end-of-call
// reports are sent as fast as they are answered (what the machine sustains) and the search
// indexer works through them: a call being answered must not wait behind them. A failed
// hand-off is counted, not fatal.
func (h *harness) measureMixed(ctx context.Context, pool *pgxpool.Pool, sb *server, fixtures []tenantFixture) (row, error) {
	type result struct {
		r   *loadResult
		err error
	}
	ingest := make(chan result, 1)
	go func() {
		r, err := h.load("vapi", sb, fixtures, h.conns, 0)
		ingest <- result{r, err}
	}()
	twilio, err := h.loadCounting("twilio", sb, fixtures, 16, h.twilioRate)
	in := <-ingest
	if err == nil {
		err = in.err
	}
	if err != nil {
		return row{}, err
	}
	var stale int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM call_details WHERE search_stale").Scan(&stale); err != nil {
		return row{}, err
	}
	if _, err := waitForIndexer(ctx, pool); err != nil {
		return row{}, err
	}
	return row{name: fmt.Sprintf("Twilio inbound, %g calls/s, beside reports as fast as answered: own time p99 ms", h.twilioRate), sb: twilio,
		ratio: twilio.OwnP99ms, target: "≤ 5 ms, none failed", met: twilio.OwnP99ms <= 5 && twilio.OwnP99ms > 0 && twilio.Errors == 0,
		note: fmt.Sprintf("own p50 %.2f ms; %d of %d hand-offs failed; reports meanwhile %.0f/s (%d connections); %d reports waiting for the search indexer when the load ended",
			twilio.OwnP50ms, twilio.Errors, twilio.Requests, in.r.RPS, h.conns, stale)}, nil
}

// streamsRate is how many reports a second the live-streams scenario sends.
const streamsRate = 50

// measureStreams opens a live stream for every tenant and measures how soon a report's
// change reaches its clinic's stream, and the server's peak resident set with them open.
func (h *harness) measureStreams(pool *pgxpool.Pool, sb *server, fixtures []tenantFixture) ([]row, error) {
	peak := h.sampleRSS(sb)
	r, err := h.loadCounting("streams", sb, fixtures, len(fixtures), streamsRate)
	mb := float64(peak()) / 1024
	if err != nil {
		return nil, err
	}
	// What comes next must not share the machine with indexing these reports.
	if _, err := waitForIndexer(context.Background(), pool); err != nil {
		return nil, err
	}
	streams := fmt.Sprintf("%d live streams (one a clinic), reports at %d/s", len(fixtures), streamsRate)
	return []row{
		{name: streams + ": from sending a report to its event on its clinic's stream, p99 ms", sb: r, ratio: r.P99ms,
			target: "none lost or misrouted", met: r.Errors == 0 && r.P99ms > 0,
			note: fmt.Sprintf("p50 %.1f ms; the hub reads the event log every %s; %d reports, %d failed or lost, %d events on another clinic's stream",
				r.P50ms, calls.PollInterval, r.Requests, r.Errors-r.Misrouted, r.Misrouted)},
		{name: streams + ": server RSS, MB", sb: r, ratio: mb, target: "≤ 100 MB", met: mb <= 100},
	}, nil
}

// sampleRSS samples srv's resident set every 50 ms until the returned function is
// called, which returns the peak in KB.
func (h *harness) sampleRSS(srv *server) func() int64 {
	stop := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		var max int64
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				peak <- max
				return
			case <-tick.C:
				if kb := rssKB(srv.cmd.Process.Pid); kb > max {
					max = kb
				}
			}
		}
	}()
	return func() int64 {
		close(stop)
		return <-peak
	}
}
