package metrics

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Scrapes, however frequent, read the inbox at most once per inboxTTL.
func TestScrapesDoNotEachQueryTheInbox(t *testing.T) {
	t.Parallel()
	reads := 0
	m := New(Sources{Inbox: func(context.Context) (int64, time.Duration, error) {
		reads++
		return 7, time.Minute, nil
	}})
	for range 50 {
		var b strings.Builder
		if err := m.Write(&b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "switchboard_inbox_backlog 7") {
			t.Fatalf("scrape lacks the backlog:\n%s", b.String())
		}
	}
	if reads != 1 {
		t.Fatalf("50 scrapes read the inbox %d times, want once", reads)
	}
}

// An invented HTTP method gets no label of its own.
func TestUnknownMethodsShareALabel(t *testing.T) {
	t.Parallel()
	m := New(Sources{})
	for _, method := range []string{"GET", "FOO", "BAR"} {
		m.ObserveHTTP("/api/calls", method, 200, time.Millisecond)
	}
	var b strings.Builder
	if err := m.Write(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `method="other"`) || strings.Contains(b.String(), `method="FOO"`) || !strings.Contains(b.String(), `method="GET"`) {
		t.Fatalf("labels:\n%s", b.String())
	}
}
