package httpapi_test

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/internal/testkit"
)

// Not parallel: it measures the process's heap while 100 000 calls stream out.
func TestExportStreamsCSVInConstantMemory(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	const n = 100_000
	// About 1 KB a row, so that holding the export in memory would show: ~100 MB.
	if _, err := b.pool.Exec(ctx, `
		SET session_replication_role = replica;
		INSERT INTO calls (user_id, status, started_at, caller_number, clinic_number, duration_seconds, ended_reason, summary, cost)
		SELECT 'user_clinic_a', 'ended', timestamptz '2026-01-01' + i * interval '1 minute', '+13127445000', '+12127365000',
		       i % 600, 'customer-ended-call', 'Call ' || i || ': ' || repeat(md5(i::text), 25), 0.01
		FROM generate_series(1, 100000) AS i;
		INSERT INTO calls (user_id, status, started_at, summary, caller_number, ended_reason)
		VALUES ('user_clinic_a', 'failed', timestamptz '2025-06-01', '=HYPERLINK("http://evil.example.com","click")', '@SUM(1+1)', '-2+3'),
		       ('user_clinic_b', 'ended', timestamptz '2026-01-01', 'not yours', '+13127445000', 'x');
		RESET session_replication_role;`); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.handler)
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/api/calls/export.csv", nil)
	req.Header.Set("Authorization", "Bearer "+b.token("user_clinic_a"))
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	counted := &countingReader{r: resp.Body}
	r := csv.NewReader(counted)
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil || strings.Join(header, ",") != strings.Join(csvHeader(), ",") {
		t.Fatalf("header %v, %v", header, err)
	}
	rows := 0
	var last []string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("row %d: %v", rows, err)
		}
		rows++
		if rows == 1 && (rec[5] != "+13127445000" || rec[3] != "ended") {
			t.Errorf("first row %v", rec)
		}
		last = append(last[:0], rec...)
	}
	close(stop)
	<-sampled
	if rows != n+1 {
		t.Fatalf("%d rows, want %d (clinic A's calls only)", rows, n+1)
	}
	// The oldest call comes last; its text cells would be formulas in a spreadsheet.
	if last[14] != `'=HYPERLINK("http://evil.example.com","click")` || last[5] != "'@SUM(1+1)" || last[11] != "'-2+3" {
		t.Errorf("formula cells not neutralised: summary %q, caller %q, reason %q", last[14], last[5], last[11])
	}
	grown := int64(peak.Load()) - int64(base.HeapInuse)
	t.Logf("exported %d MB; heap grew by at most %d MB", counted.n>>20, grown>>20)
	if counted.n < 80<<20 {
		t.Fatalf("only %d bytes exported; the test needs a large export", counted.n)
	}
	if grown > 40<<20 {
		t.Errorf("heap grew by %d MB while exporting %d MB: the export is not streamed", grown>>20, counted.n>>20)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func csvHeader() []string {
	return []string{
		"id", "started_at", "ended_at", "status", "direction", "caller_number", "clinic_number",
		"assistant_number", "matched_by", "phone_number_id", "duration_seconds", "ended_reason",
		"success_evaluation", "cost", "summary", "twilio_call_sid", "vapi_call_id",
		"handling", "handling_reason", "forwarded_to", "disposition", "tags",
	}
}

// An export never passes for complete when it is not: a failure before the first byte is
// a problem document, and one after it cuts the response short (and is logged), so the
// client sees an incomplete transfer rather than a shorter file.
func TestExportFailuresAreNeverACompleteLookingFile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	a := b.token("user_clinic_a")
	// About 1 KB a row and 30 000 rows: more than the sockets between the two ends hold, so
	// the server is still reading pages when the failure comes.
	if _, err := b.pool.Exec(ctx, `
		SET session_replication_role = replica;
		INSERT INTO calls (user_id, status, started_at, summary)
		SELECT 'user_clinic_a', 'ended', timestamptz '2026-01-01' + i * interval '1 minute', repeat(md5(i::text), 30)
		FROM generate_series(1, 30000) AS i;
		RESET session_replication_role;`); err != nil {
		t.Fatal(err)
	}
	revoke := func() {
		if _, err := b.pool.Exec(ctx, "REVOKE SELECT ON calls FROM switchboard_tenant"); err != nil {
			t.Fatal(err)
		}
	}
	grant := func() {
		if _, err := b.pool.Exec(ctx, "GRANT SELECT ON calls TO switchboard_tenant"); err != nil {
			t.Fatal(err)
		}
	}

	revoke()
	p := expect(t, b.do("GET", "/api/calls/export.csv", a, nil), 500).problem(t)
	if p["code"] != "internal_error" {
		t.Errorf("a failure before the first byte: %v", p)
	}
	grant()

	srv := httptest.NewServer(b.handler)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/calls/export.csv", nil)
	req.Header.Set("Authorization", "Bearer "+a)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 1)
	if _, err := io.ReadFull(resp.Body, first); err != nil || resp.StatusCode != 200 {
		t.Fatalf("export started with %d, %v", resp.StatusCode, err)
	}
	revoke()
	rest, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("an export that failed midway ended like a complete one (%d bytes)", len(rest)+1)
	}
	testkit.Eventually(t, 5*time.Second, "the aborted export is logged", func() bool {
		return strings.Contains(b.logs.String(), "export failed after it started")
	})
}
