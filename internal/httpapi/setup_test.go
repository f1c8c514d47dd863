package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/devtoken"
	"github.com/switchboard-health/switchboard/internal/erasure"
	"github.com/switchboard-health/switchboard/internal/httpapi"
	"github.com/switchboard-health/switchboard/internal/lifecycle"
	"github.com/switchboard-health/switchboard/internal/metrics"
	"github.com/switchboard-health/switchboard/internal/outbound"
	"github.com/switchboard-health/switchboard/internal/phonenumbers"
	"github.com/switchboard-health/switchboard/internal/providertest"
	"github.com/switchboard-health/switchboard/internal/routing"
	"github.com/switchboard-health/switchboard/internal/spool"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/testkit"
	"github.com/switchboard-health/switchboard/internal/testpg"
	"github.com/switchboard-health/switchboard/internal/twilio"
	"github.com/switchboard-health/switchboard/internal/vapi"
)

func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

// bundle is what a test of the HTTP API needs: the real server over a fresh database,
// and a signer whose public key the server trusts as Clerk's.
type bundle struct {
	t        *testing.T
	pool     *pgxpool.Pool
	db       *tenant.DB
	signer   *devtoken.Signer
	handler  http.Handler
	vapi     *providertest.VAPI
	verify   *providertest.Verify // Twilio Verify, which proves numbers
	media    *providertest.TwilioRecordings
	clock    *testkit.Clock // what routing decides "now" by
	spoolDir string
	intake   *calls.Intake
	jobs     *calls.Jobs
	hub      *calls.Hub
	logs     *logBuffer // what the service logged, as text lines
}

// logBuffer collects log lines written from many goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type setupOptions struct {
	verifier    tenant.VerifierConfig // JWTKey is filled in unless SecretKey is set
	pool        *pgxpool.Pool         // instead of a fresh test database
	spoolDir    string                // instead of a fresh temporary directory
	vapiTimeout time.Duration         // default 2 s
	proxies     []*net.IPNet          // trusted proxies
	noMetrics   bool                  // no METRICS_TOKEN configured
	origins     []string              // origins whose pages may call the API
	clerk       *providertest.Clerk   // verifies API keys (session tokens stay on the signer's key)
}

// The webhooks' credentials in tests.
const (
	twilioToken   = "twiliotestauthtoken0123456789abc" // letters and digits, as Twilio issues them
	publicBaseURL = "https://switchboard.example.com"
	vapiSecret    = "vapi-test-webhook-secret"
	metricsToken  = "metrics-test-token"
	// streamsPerTenant is the live streams one tenant may hold in tests.
	streamsPerTenant = 5
)

func setup(t *testing.T, opts ...setupOptions) *bundle {
	t.Helper()
	var o setupOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	pool := o.pool
	if pool == nil {
		pool = testpg.New(t)
	}
	signer, err := devtoken.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	if o.clerk != nil {
		o.verifier.SecretKey, o.verifier.APIURL = providertest.ClerkSecretKey, o.clerk.URL()
	}
	if o.verifier.SecretKey == "" || o.clerk != nil {
		o.verifier.JWTKey = signer.PublicPEM()
	}
	verifier, err := tenant.NewVerifier(o.verifier)
	if err != nil {
		t.Fatal(err)
	}
	db := tenant.NewDB(pool)
	fake := providertest.NewVAPI()
	t.Cleanup(fake.Close)
	verify := providertest.NewVerify(twilioToken)
	t.Cleanup(verify.Close)
	if o.spoolDir == "" {
		o.spoolDir = t.TempDir()
	}
	sp, err := spool.Open(o.spoolDir)
	if err != nil {
		t.Fatal(err)
	}
	if o.vapiTimeout == 0 {
		o.vapiTimeout = 2 * time.Second
	}
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	vapiClient := vapi.NewClient(fake.URL(), providertest.VAPIKey, o.vapiTimeout)
	hub := calls.NewHub(pool, log, streamsPerTenant)
	hubCtx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() { hub.Run(hubCtx); close(hubDone) }()
	t.Cleanup(func() { stopHub(); <-hubDone })
	media := providertest.NewTwilioRecordings(twilioToken)
	t.Cleanup(media.Close)
	clock := &testkit.Clock{}
	d := calls.Deps{DB: db, VAPI: vapiClient, Spool: sp, Region: "US", Log: log, HandoffWait: 5 * time.Second,
		RecordingHosts: []string{"storage.vapi.ai", "*.storage.googleapis.com"}, Now: clock.Now,
		Recordings: twilio.NewRecordings(media.URL(), providertest.TwilioAccountSID, twilioToken)}
	intake, jobs := calls.NewIntake(d), calls.NewJobs(d)
	scrapeToken := metricsToken
	if o.noMetrics {
		scrapeToken = ""
	}
	m := metrics.New(metrics.Sources{Pool: pool, Inbox: jobs.InboxBacklog, Spool: jobs.SpoolLen})
	vapiClient.Observe(m.ObserveVAPI)
	accounts, err := lifecycle.NewAccounts(db, providertest.ClerkWebhookSecret, closedAccountGrace)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpapi.New(httpapi.Deps{
		Log:      log,
		DB:       db,
		Verifier: verifier,
		PhoneNumbers: phonenumbers.NewService(db, "US", twilio.NewVerifications(twilio.VerifyConfig{
			AccountSID: providertest.TwilioAccountSID, AuthToken: twilioToken,
			ServiceSID: providertest.VerifyServiceSID, BaseURL: verify.URL(),
		}), log),
		Routing:      routing.NewSettings(db, vapiClient, "US", clock.Now),
		Calls:        calls.NewReader(d),
		Intake:       intake,
		FollowUp:     calls.NewFollowUp(d),
		Endpoints:    outbound.NewEndpoints(db, true),
		Eraser:       erasure.New(db, "US"),
		Accounts:     accounts,
		Hub:          hub,
		Metrics:      m,
		Heartbeat:    200 * time.Millisecond,
		Proxies:      o.proxies,
		Origins:      o.origins,
		MetricsToken: scrapeToken,
		Twilio:       twilio.NewVerifier(twilioToken, publicBaseURL),
		VapiSecret:   vapiSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{t: t, pool: pool, db: db, signer: signer, handler: srv, vapi: fake, verify: verify, media: media, clock: clock, spoolDir: o.spoolDir, intake: intake, jobs: jobs, hub: hub, logs: logs}
}

// token is a valid session token for sub.
func (b *bundle) token(sub string) string {
	b.t.Helper()
	tok, err := b.signer.Token(devtoken.Claims{Subject: sub})
	if err != nil {
		b.t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// problem decodes a problem+json answer and checks its shape.
func (r response) problem(t *testing.T) map[string]any {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type %q, want application/problem+json; body %s", ct, r.body)
	}
	var p map[string]any
	r.json(t, &p)
	for _, k := range []string{"type", "title", "status", "detail", "code"} {
		if _, ok := p[k]; !ok {
			t.Errorf("problem lacks %q: %s", k, r.body)
		}
	}
	if int(p["status"].(float64)) != r.status {
		t.Errorf("problem status %v differs from HTTP status %d", p["status"], r.status)
	}
	return p
}

// do sends a request as the holder of token ("" for none); body is JSON-encoded unless
// it is a string, which is sent as it is.
func (b *bundle) do(method, path, token string, body any) response {
	b.t.Helper()
	var r io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(v)
	default:
		buf, err := json.Marshal(v)
		if err != nil {
			b.t.Fatal(err)
		}
		r = bytes.NewReader(buf)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// expect fails the test unless the response has the status, and returns it.
func expect(t *testing.T, r response, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	return r
}

type phoneNumber struct {
	ID                 uuid.UUID  `json:"id"`
	PhoneNumber        string     `json:"phone_number"`
	Label              *string    `json:"label"`
	VapiAssistantID    *string    `json:"vapi_assistant_id"`
	VapiPhoneNumberID  *string    `json:"vapi_phone_number_id"`
	IsActive           bool       `json:"is_active"`
	VerificationStatus string     `json:"verification_status"`
	VerifiedAt         *time.Time `json:"verified_at"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

func (b *bundle) createNumber(token, number string) phoneNumber {
	b.t.Helper()
	var pn phoneNumber
	expect(b.t, b.do("POST", "/api/phone-numbers", token, map[string]any{"phone_number": number}), 201).json(b.t, &pn)
	return pn
}

// insertCall records a call for tenant the way the webhooks do: in its tenant transaction.
func (b *bundle) insertCall(user string, p dbsqlc.InsertCallParams) dbsqlc.Call {
	b.t.Helper()
	p.UserID = user
	if p.Status == "" {
		p.Status = "initiated"
	}
	if p.Direction == "" {
		p.Direction = "inbound"
	}
	if p.StartedAt.IsZero() {
		p.StartedAt = time.Now()
	}
	var c dbsqlc.Call
	err := b.db.Tx(context.Background(), tenant.ID(user), func(q *dbsqlc.Queries) (err error) {
		c, err = q.InsertCall(context.Background(), p)
		return err
	})
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}
