package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The SPA, served from an origin of its own, calls the API from a real browser: its
// preflight is answered, the call succeeds and the request id can be read. A page of an
// origin that is not allowed gets nothing: the browser keeps the answer from it.
func TestTheSPACallsTheAPIFromItsOwnOrigin(t *testing.T) {
	t.Parallel()
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!doctype html><title>SPA</title>")
	})
	spa, stranger := httptest.NewServer(page), httptest.NewServer(page)
	defer spa.Close()
	defer stranger.Close()
	b := setup(t, setupOptions{origins: []string{spa.URL}})
	api := httptest.NewServer(b.handler)
	defer api.Close()
	ctx := newBrowser(t)

	// The Authorization header makes the browser send a preflight first.
	call := fmt.Sprintf(`fetch(%q + "/api/phone-numbers", {method: "POST",
		headers: {"Authorization": "Bearer " + %q, "Content-Type": "application/json"},
		body: JSON.stringify({phone_number: "(212) 736-5000"})})
		.then(r => r.status + " " + (r.headers.get("X-Request-Id") || "no-id"))
		.catch(e => "blocked")`, api.URL, b.token("user_spa"))
	fetchFrom := func(origin string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(origin+"/")); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](call, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := fetchFrom(spa.URL); !strings.HasPrefix(got, "201 ") || strings.HasSuffix(got, "no-id") {
		t.Errorf("from the SPA's origin: %q, want 201 with a readable request id", got)
	}
	if got := fetchFrom(stranger.URL); got != "blocked" {
		t.Errorf("from another origin: %q, want the browser to block it", got)
	}

	// The preflight itself, as the browser sent it.
	req := httptest.NewRequest("OPTIONS", "/api/calls", nil)
	req.Header.Set("Origin", spa.URL)
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "authorization")
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Origin") != spa.URL ||
		!strings.Contains(strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers")), "authorization") {
		t.Errorf("preflight: %d %v", rec.Code, rec.Header())
	}
}
