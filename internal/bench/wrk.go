package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// wrkScript makes wrk (Debian's package) send the requests listed in the file
// BENCH_REQUESTS, one a line ("path<TAB>bearer token", the token may be empty), in turn,
// and print its figures as one JSON line. wrk is written in C and needs a fraction of the
// CPU Go's client does, so the load generator is not what limits a read's throughput.
const wrkScript = `
local reqs = {}
local n = 0
init = function(args)
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    local path, token = line:match("^([^\t]*)\t?(.*)$")
    local headers = {Host = wrk.host .. ":" .. wrk.port}
    if token ~= "" then headers["Authorization"] = "Bearer " .. token end
    reqs[#reqs + 1] = wrk.format("GET", path, headers)
  end
  n = math.random(#reqs)
end
request = function()
  n = n % #reqs + 1
  return reqs[n]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\nBENCH {"requests":%d,"errors":%d,"seconds":%.3f,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99)))
end
`

// wrk drives srv with wrk over conns connections for the harness's duration, each request
// the next of reqs ("path\ttoken"), and records the CPU time srv, PostgreSQL and wrk
// itself spent (wrk's in the result's note, as its share of one core: its headroom).
func (h *harness) wrk(srv *server, label string, reqs []string, conns int) (*loadResult, error) {
	if _, err := exec.LookPath("wrk"); err != nil {
		return nil, fmt.Errorf("the reads are driven by wrk: install it (apt-get install wrk)")
	}
	script := filepath.Join(h.dir, "bench.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o600); err != nil {
		return nil, err
	}
	list := filepath.Join(h.dir, "requests.txt")
	if err := os.WriteFile(list, []byte(strings.Join(reqs, "\n")+"\n"), 0o600); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "  wrk %s against %s with %d connections for %s\n", label, srv.base, conns, h.duration)
	serverCPU, pgCPU := cpuSeconds(srv.cmd.Process.Pid), h.postgresCPU()
	cmd := exec.Command("wrk", "-t2", "-c"+strconv.Itoa(conns), "-d"+h.duration.String(), "--timeout", "60s", "-s", script, srv.base)
	cmd.Env = append(os.Environ(), "BENCH_REQUESTS="+list)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("wrk %s: %w", label, err)
	}
	serverCPU, pgCPU = cpuSeconds(srv.cmd.Process.Pid)-serverCPU, h.postgresCPU()-pgCPU
	var w struct {
		Requests, Errors int64
		Seconds          float64
		P50us            float64 `json:"p50_us"`
		P99us            float64 `json:"p99_us"`
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "BENCH "); ok {
			if err := json.Unmarshal([]byte(line), &w); err != nil {
				return nil, err
			}
		}
	}
	if w.Errors > 0 {
		return nil, fmt.Errorf("wrk %s: %d requests, %d failed:\n%s", label, w.Requests, w.Errors, out)
	}
	if w.Requests == 0 {
		// Not one answer within the run: a result of its own (a target missed by far), not
		// a failure of the bench.
		return &loadResult{Seconds: w.Seconds, P50ms: w.Seconds * 1000, P99ms: w.Seconds * 1000}, nil
	}
	r := &loadResult{Requests: w.Requests, Seconds: w.Seconds, RPS: float64(w.Requests) / w.Seconds,
		P50ms: w.P50us / 1000, P99ms: w.P99us / 1000,
		ServerCPUms: serverCPU * 1000 / float64(w.Requests), PostgresCPUms: pgCPU * 1000 / float64(w.Requests)}
	r.GeneratorCPU = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds() / w.Seconds
	return r, nil
}

// generatorNote says how much of a core the load generator used: its headroom.
func generatorNote(sb, floor *loadResult) string {
	return fmt.Sprintf("wrk used %.0f%% of a core against Switchboard, %.0f%% against the floor", sb.GeneratorCPU*100, floor.GeneratorCPU*100)
}
