package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// dashboardConns is how many connections drive each dashboard read: fewer than the list's,
// since a year's statistics or a whole export takes far longer than a page.
const dashboardConns = 8

// exportConns is how many whole exports run at once: two, as staff download an export
// now and then; eight exports of a 100 000-call clinic did not end within the run.
const exportConns = 2

func listRequests(fixtures []tenantFixture) []string {
	reqs := make([]string, len(fixtures))
	for i, f := range fixtures {
		reqs[i] = "/api/calls?limit=50\t" + f.Token
	}
	return reqs
}

func floorListRequests(fixtures []tenantFixture) []string {
	reqs := make([]string, len(fixtures))
	for i, f := range fixtures {
		reqs[i] = "/calls?tenant=" + url.QueryEscape(f.UserID) + "\t"
	}
	return reqs
}

// clinicRead is one dashboard read of one clinic: Switchboard's requests and the floor's.
type clinicRead struct {
	name      string
	sb, floor []string
	rows      int64 // rows a response carries, for a throughput in rows (the export)
}

// measureDashboard measures, for the large clinic and a typical one, the reads the
// dashboard makes besides the list: a word search, a digit search, the statistics over
// 90 days and over a year in New York's zone, the call detail, and the whole export; each
// against its floor, with wrk.
func (h *harness) measureDashboard(ctx context.Context, pool *pgxpool.Pool, sb, floor *server, fixtures []tenantFixture, label string) ([]row, error) {
	var out []row
	for _, f := range fixtures[:2] {
		reads, calls, err := clinicReads(ctx, pool, f)
		if err != nil {
			return nil, err
		}
		clinic := fmt.Sprintf("%s calls, a clinic with %d", label, calls)
		for _, r := range reads {
			conns := dashboardConns
			if r.rows > 0 {
				conns = exportConns
			}
			s, err := h.wrk(sb, r.name, r.sb, conns)
			if err != nil {
				return nil, err
			}
			fl, err := h.wrk(floor, "floor "+r.name, r.floor, conns)
			if err != nil {
				return nil, err
			}
			tput, p99 := s.RPS/max(fl.RPS, 1e-9), s.P99ms/max(fl.P99ms, 1e-9)
			note := generatorNote(s, fl)
			if s.Requests == 0 || fl.Requests == 0 {
				note = fmt.Sprintf("no answer within the run's %s (Switchboard %d answers, the floor %d): p99 shown as the run's length", h.duration, s.Requests, fl.Requests)
			}
			if r.rows > 0 {
				note = fmt.Sprintf("%.0f rows a second (the floor %.0f), %d exports at once; %s", s.RPS*float64(r.rows), fl.RPS*float64(r.rows), conns, note)
			}
			if r.rows > 0 {
				first, err := h.firstRows(sb, floor, clinic, r)
				if err != nil {
					return nil, err
				}
				out = append(out, first)
			}
			out = append(out,
				row{name: r.name + ", " + clinic + ": throughput", sb: s, floor: fl, ratio: tput, target: "≥ 0.75", met: tput >= 0.75, note: note},
				row{name: r.name + ", " + clinic + ": p99", sb: s, floor: fl, ratio: p99, target: "≤ 1.50", met: p99 <= 1.5})
		}
	}
	return out, nil
}

// clinicReads builds a clinic's dashboard reads: its call ids, a caller's digits, the
// statistics' bounds.
func clinicReads(ctx context.Context, pool *pgxpool.Pool, f tenantFixture) ([]clinicRead, int64, error) {
	var calls int64
	var digits string
	if err := pool.QueryRow(ctx, `SELECT count(*), right(min(caller_number), 7) FROM calls WHERE user_id = $1`, f.UserID).Scan(&calls, &digits); err != nil {
		return nil, 0, err
	}
	ids, err := pool.Query(ctx, `SELECT call_id FROM call_details WHERE user_id = $1 LIMIT 200`, f.UserID)
	if err != nil {
		return nil, 0, err
	}
	var detail, floorDetail []string
	for ids.Next() {
		var id string
		if err := ids.Scan(&id); err != nil {
			return nil, 0, err
		}
		detail = append(detail, "/api/calls/"+id+"\t"+f.Token)
		floorDetail = append(floorDetail, "/call?tenant="+url.QueryEscape(f.UserID)+"&id="+id+"\t")
	}
	if err := ids.Err(); err != nil {
		return nil, 0, err
	}
	tenant := url.QueryEscape(f.UserID)
	one := func(path, token string) []string { return []string{path + "\t" + token} }
	stats := func(days int) clinicRead {
		since := url.QueryEscape(time.Now().Add(-time.Duration(days) * 24 * time.Hour).UTC().Format(time.RFC3339))
		return clinicRead{name: fmt.Sprintf("GET /api/calls/stats, %d days, America/New_York", days),
			sb:    one("/api/calls/stats?tz=America/New_York&since="+since, f.Token),
			floor: one(fmt.Sprintf("/stats?tenant=%s&days=%d&tz=America/New_York", tenant, days), "")}
	}
	return []clinicRead{
		{name: "GET /api/calls?q=orthodontist (a word)", sb: one("/api/calls?limit=50&q=orthodontist", f.Token),
			floor: one("/search?tenant="+tenant+"&q=orthodontist", "")},
		{name: "GET /api/calls?q=" + digits + " (a caller's digits)", sb: one("/api/calls?limit=50&q="+digits, f.Token),
			floor: one("/search?tenant="+tenant+"&q="+digits, "")},
		stats(90), stats(365),
		{name: "GET /api/calls/{id}", sb: detail, floor: floorDetail},
		{name: "GET /api/calls/export.csv (every call)", sb: one("/api/calls/export.csv", f.Token),
			floor: one("/export?tenant="+tenant, ""), rows: calls},
	}, calls, nil
}

// firstRows measures how soon an export's first rows arrive (the header and one call), by
// dashboardConns clients that each ask, read that much and hang up, for the run's length;
// against the floor's export the same way.
func (h *harness) firstRows(sb, floor *server, clinic string, r clinicRead) (row, error) {
	s, err := firstRowLatency(sb.base, r.sb[0], h.duration)
	if err != nil {
		return row{}, err
	}
	fl, err := firstRowLatency(floor.base, r.floor[0], h.duration)
	if err != nil {
		return row{}, err
	}
	p99 := s.P99ms / max(fl.P99ms, 1e-9)
	return row{name: r.name + ", " + clinic + ": its first row, p99", sb: s, floor: fl, ratio: p99, target: "≤ 1.50", met: p99 <= 1.5,
		note: fmt.Sprintf("p50 %.1f ms (the floor %.1f ms)", s.P50ms, fl.P50ms)}, nil
}

// firstRowLatency asks base for req ("path\ttoken") from dashboardConns clients for d and
// times each answer until its second line.
func firstRowLatency(base, req string, d time.Duration) (*loadResult, error) {
	path, token, _ := strings.Cut(req, "\t")
	var mu sync.Mutex
	var latencies []time.Duration
	var failed error
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range dashboardConns {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
			for time.Now().Before(deadline) {
				lat, err := firstLines(client, base+path, token, 2)
				mu.Lock()
				if err != nil {
					failed = err
				}
				latencies = append(latencies, lat)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if failed != nil {
		return nil, failed
	}
	slices.Sort(latencies)
	return &loadResult{Requests: int64(len(latencies)), Seconds: d.Seconds(), RPS: float64(len(latencies)) / d.Seconds(),
		P50ms: percentileMS(latencies, 0.5), P99ms: percentileMS(latencies, 0.99)}, nil
}

// firstLines asks for url and says how long its first n lines took to arrive; it hangs up
// without reading the rest (its client's connection is not reused).
func firstLines(client *http.Client, url, token string, n int) (time.Duration, error) {
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	lines := bufio.NewReader(resp.Body)
	for range n {
		if _, err := lines.ReadString('\n'); err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}
