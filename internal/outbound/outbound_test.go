package outbound

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

// verifyByHand checks a Standard Webhooks signature the way the specification describes
// it, independently of any library: HMAC-SHA256 with the secret's base64 key over
// "id.timestamp.body", base64, as "v1,<sig>" among the space-separated signatures.
func verifyByHand(secret string, h http.Header, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

// The specification's published test vector: the implementation deliveries sign with
// produces it, and the hand-rolled verifier the tests rely on accepts it.
func TestTheSpecificationsVector(t *testing.T) {
	wh, err := standardwebhooks.NewWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := wh.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil || sig != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Fatalf("signed the vector %q, %v", sig, err)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	if !verifyByHand("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h, []byte(`{"test": 2432232314}`)) {
		t.Fatal("the specification's vector does not verify")
	}
}

// receiver is an integrator's endpoint on loopback: it answers with the statuses it is
// given in turn (then 200) and keeps what it received.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []received
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Clone(), body})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, strings.Repeat("x", 10000)) // longer than what is kept
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

type world struct {
	db        *tenant.DB
	endpoints *Endpoints
	deliverer *Deliverer
}

func newWorld(t *testing.T, allowPrivateDelivery bool, disableAfter time.Duration) world {
	pool := testpg.New(t)
	db := tenant.NewDB(pool)
	return world{db: db, endpoints: NewEndpoints(db, true), deliverer: NewDeliverer(DelivererConfig{
		DB: db, AllowPrivate: allowPrivateDelivery, DisableAfter: disableAfter, Timeout: 2 * time.Second,
		Log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Call: func(c dbsqlc.CallSummary) any { return map[string]any{"id": c.ID, "status": c.Status} },
	})}
}

// call records a call for user_a and returns its id; its events become deliveries.
func (w world) call(t *testing.T) uuid.UUID {
	var c dbsqlc.Call
	err := w.db.Tx(context.Background(), "user_a", func(q *dbsqlc.Queries) (err error) {
		c, err = q.InsertCall(context.Background(), dbsqlc.InsertCallParams{UserID: "user_a", Status: "initiated", Direction: "inbound", StartedAt: time.Now()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func (w world) deliveries(t *testing.T, endpoint uuid.UUID) []dbsqlc.WebhookDelivery {
	out, err := w.endpoints.Deliveries(context.Background(), "user_a", endpoint, uuid.Max, 100)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A delivery is signed so that the specification's libraries verify it, carries the call
// as the API shows it, and keeps its body and message id across attempts and
// redeliveries; a rotated secret keeps signing beside the new one.
func TestDeliveriesAreSignedAndKeepTheirBody(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, true, time.Hour)
	rcv := newReceiver(t, http.StatusInternalServerError)
	ep, err := w.endpoints.Create(ctx, "user_a", rcv.URL, []string{"call.started"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	callID := w.call(t)
	ds := w.deliveries(t, ep.ID)
	if len(ds) != 1 || ds[0].EventType != "call.started" || *ds[0].CallID != callID {
		t.Fatalf("deliveries %+v", ds)
	}
	if out, err := w.deliverer.Deliver(ctx, ds[0].ID, false); out != Retry || err == nil {
		t.Fatalf("a 500: %v, %v", out, err)
	}
	if out, err := w.deliverer.Deliver(ctx, ds[0].ID, false); out != Delivered || err != nil {
		t.Fatalf("the retry: %v, %v", out, err)
	}
	got := rcv.received()
	if len(got) != 2 || string(got[0].body) != string(got[1].body) || got[0].header.Get("webhook-id") != got[1].header.Get("webhook-id") {
		t.Fatalf("two attempts of one message differ: %+v", got)
	}
	wh, err := svix.NewWebhook(ep.Secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got {
		if err := wh.Verify(g.body, g.header); err != nil || !verifyByHand(ep.Secret, g.header, g.body) {
			t.Fatalf("the signature does not verify: %v", err)
		}
	}
	var ev struct {
		Type, Version string
		Data          struct{ Call map[string]any }
	}
	if err := json.Unmarshal(got[0].body, &ev); err != nil || ev.Type != "call.started" || ev.Version != Version || ev.Data.Call["id"] != callID.String() {
		t.Fatalf("the body %s", got[0].body)
	}
	ds = w.deliveries(t, ep.ID)
	if ds[0].Status != "succeeded" || ds[0].Attempts != 2 || *ds[0].ResponseStatus != 200 || len(*ds[0].ResponseBody) != maxResponse {
		t.Fatalf("the delivery after its attempts: %+v", ds[0])
	}

	// Rotation: both secrets sign during the grace period.
	rotated, err := w.endpoints.Rotate(ctx, "user_a", ep.ID)
	if err != nil || rotated.Secret == ep.Secret {
		t.Fatalf("rotate: %v", err)
	}
	again, err := w.endpoints.Redeliver(ctx, "user_a", ds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := w.deliverer.Deliver(ctx, again.ID, false); out != Delivered || err != nil {
		t.Fatalf("the redelivery: %v, %v", out, err)
	}
	last := rcv.received()[2]
	if string(last.body) != string(got[0].body) || last.header.Get("webhook-id") != got[0].header.Get("webhook-id") {
		t.Fatalf("a redelivery is not the same message: %s", last.body)
	}
	if !verifyByHand(ep.Secret, last.header, last.body) || !verifyByHand(rotated.Secret, last.header, last.body) {
		t.Fatal("during the grace period, both secrets must verify")
	}
	// Another tenant sees none of it.
	if _, err := w.endpoints.Get(ctx, "user_b", ep.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("another tenant's endpoint: %v", err)
	}
	if _, err := w.endpoints.Redeliver(ctx, "user_b", ds[0].ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("another tenant's redelivery: %v", err)
	}
}

// Endpoints on addresses that are not public are refused when registered and again when
// delivered to (a name that later resolves somewhere private), without following
// redirects; an endpoint that keeps failing is disabled, with the reason.
func TestDeliveriesReachOnlyPublicAddressesAndFailingEndpointsAreDisabled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	strict := NewEndpoints(nil, false)
	for _, url := range []string{"http://example.com/hook", "https://127.0.0.1/hook", "https://169.254.169.254/latest", "https://[::1]/x",
		"https://10.1.2.3/x", "https://user:pw@example.com/x", "ftp://example.com"} {
		if err := strict.check(ctx, url, nil); err == nil {
			t.Errorf("%s was accepted", url)
		}
	}
	if err := strict.check(ctx, "https://93.184.216.34/hook", []string{"call.ended"}); err != nil {
		t.Errorf("a public address was refused: %v", err)
	}
	if err := strict.check(ctx, "https://93.184.216.34/hook", []string{"call.exploded"}); err == nil {
		t.Error("an unknown event type was accepted")
	}

	// Delivering to loopback with the check on: refused at connect time.
	w := newWorld(t, false, time.Nanosecond)
	rcv := newReceiver(t)
	ep, err := w.endpoints.Create(ctx, "user_a", rcv.URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.call(t)
	d := w.deliveries(t, ep.ID)[0]
	out, err := w.deliverer.Deliver(ctx, d.ID, false)
	if out != Retry || err == nil || !strings.Contains(err.Error(), "not public") || len(rcv.received()) != 0 {
		t.Fatalf("a delivery to loopback: %v, %v", out, err)
	}
	// It failed again past DisableAfter: the endpoint is disabled, and says why.
	_, _ = w.deliverer.Deliver(ctx, d.ID, false)
	got, err := w.endpoints.Get(ctx, "user_a", ep.ID)
	if err != nil || got.Enabled || got.DisabledReason == nil || !strings.Contains(*got.DisabledReason, "not public") {
		t.Fatalf("after failing: %+v, %v", got, err)
	}
	if out, _ := w.deliverer.Deliver(ctx, d.ID, false); out != Gone {
		t.Fatalf("a delivery to a disabled endpoint: %v", out)
	}
	if ds := w.deliveries(t, ep.ID); ds[0].Status != "dead" {
		t.Fatalf("its delivery: %+v", ds[0])
	}

	// Redirects are not followed: a 302 is a failed attempt.
	redirect := httptest.NewServer(http.RedirectHandler("http://169.254.169.254/", http.StatusFound))
	t.Cleanup(redirect.Close)
	w2 := newWorld(t, true, time.Hour)
	ep2, err := w2.endpoints.Create(ctx, "user_a", redirect.URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	w2.call(t)
	if out, err := w2.deliverer.Deliver(ctx, w2.deliveries(t, ep2.ID)[0].ID, false); out != Retry || !strings.Contains(err.Error(), "302") {
		t.Fatalf("a redirect: %v, %v", out, err)
	}
}

// Finished deliveries are deleted after DeliveryRetention; ones still on their way, and
// recent ones, stay.
func TestFinishedDeliveriesArePrunedAfterTheirRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, true, time.Hour)
	ep, err := w.endpoints.Create(ctx, "user_a", "http://127.0.0.1:9/hook", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		w.call(t)
	}
	ds := w.deliveries(t, ep.ID)
	for i, status := range []string{"succeeded", "dead", "failed", "queued"} {
		if err := w.db.Service(ctx, func(q *dbsqlc.Queries) error {
			return q.RecordDeliveryAttempt(ctx, dbsqlc.RecordDeliveryAttemptParams{ID: ds[i].ID, Status: status})
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := w.deliverer.Prune(ctx); n != 0 || err != nil {
		t.Fatalf("recent finished deliveries pruned: %d, %v", n, err)
	}
	w.deliverer.now = func() time.Time { return time.Now().Add(DeliveryRetention + time.Hour) }
	n, err := w.deliverer.Prune(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want the succeeded and the dead one", n, err)
	}
	left := w.deliveries(t, ep.ID)
	var statuses []string
	for _, d := range left {
		statuses = append(statuses, d.Status)
	}
	slices.Sort(statuses)
	if strings.Join(statuses, ",") != "failed,queued" {
		t.Fatalf("left %v, want the failed and the queued one", statuses)
	}
}
