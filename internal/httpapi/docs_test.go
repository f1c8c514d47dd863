package httpapi_test

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/switchboard-health/switchboard/internal/testkit"
)

// The API reference renders in a real browser from the served contract, with everything
// it needs coming from this server.
func TestDocsPageRendersTheOperations(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := httptest.NewServer(b.handler)
	defer srv.Close()
	ctx := newBrowser(t)

	// Every request the page starts, less those the page's Content-Security-Policy stops
	// before they leave the browser, and which of them have ended (loaded or failed).
	var mu sync.Mutex
	requested := map[network.RequestID]string{}
	ended := map[network.RequestID]bool{}
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			requested[e.RequestID] = e.Request.URL
		case *network.EventLoadingFinished:
			ended[e.RequestID] = true
		case *network.EventLoadingFailed:
			ended[e.RequestID] = true
			if e.BlockedReason == network.BlockedReasonCsp {
				delete(requested, e.RequestID)
			}
		}
	}); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}

	// chromedp enables the network domain itself, so requests are reported from the start.
	// Redoc shows one tag's operations at a time, each tag at its own #/<tag> route.
	pages := map[string][]string{
		"phone-numbers": {"Register a phone number", "List the clinic's phone numbers", "Delete a phone number"},
		"calls":         {"List the clinic's calls", "Call statistics", "Export calls as CSV", "Live call updates", "Play a call's recording"},
		"webhooks":      {"Twilio inbound voice call", "Twilio call status callback", "VAPI server message"},
	}
	for tag, ops := range pages {
		err := chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/docs#/"+tag),
			chromedp.WaitVisible(chromedp.Search(`//*[contains(text(), "`+ops[0]+`")]`)),
		)
		if err != nil {
			t.Fatalf("the docs page did not render the %s operations: %v", tag, err)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range ops {
			if !strings.Contains(text, op) {
				t.Errorf("#/%s lacks %q", tag, op)
			}
		}
	}
	// Every request the page started has ended, so none is still to be reported as
	// stopped by the Content-Security-Policy.
	testkit.Eventually(t, 10*time.Second, "the page's requests end", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for id := range requested {
			if !ended[id] {
				return false
			}
		}
		return true
	})
	mu.Lock()
	defer mu.Unlock()
	for _, u := range requested {
		if !strings.HasPrefix(u, srv.URL) && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
			t.Errorf("the docs page fetched %s: everything must come from this server", u)
		}
	}
}
