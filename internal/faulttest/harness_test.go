package faulttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/internal/devtoken"
	"github.com/switchboard-health/switchboard/internal/pgcluster"
	"github.com/switchboard-health/switchboard/internal/providertest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchboard-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "switchboard")
	build := exec.Command("go", "build", "-o", binary, "github.com/switchboard-health/switchboard/cmd/switchboard")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building switchboard: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	twilioToken   = "fault-test-twilio-token"
	publicBaseURL = "https://switchboard.example.com"
	vapiSecret    = "fault-test-vapi-secret"
	clinicLine    = "+12127365000"
	sharedLine    = "+16172531000"
	patient       = "+13127445000"
)

// env is one test's world: its own PostgreSQL cluster, a fake VAPI and a signing key.
type env struct {
	t       *testing.T
	opts    pgcluster.Options
	cluster *pgcluster.Cluster
	dbURL   string
	vapi    *providertest.VAPI
	signer  *devtoken.Signer
	spool   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir, err := os.MkdirTemp("", "switchboard-fault-")
	if err != nil {
		t.Fatal(err)
	}
	// The server may run as the postgres OS user, which must reach the directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, opts: pgcluster.Options{DataDir: filepath.Join(dir, "data"), SocketDir: filepath.Join(dir, "sock")}}
	e.cluster, err = pgcluster.Start(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.cluster.Stop(true)
		_ = os.RemoveAll(dir)
	})
	conn, err := pgx.Connect(context.Background(), e.cluster.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), "CREATE DATABASE switchboard"); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	e.dbURL = e.cluster.URL("switchboard")
	e.vapi = providertest.NewVAPI()
	t.Cleanup(e.vapi.Close)
	if e.signer, err = devtoken.NewSigner(); err != nil {
		t.Fatal(err)
	}
	e.spool = filepath.Join(dir, "spool")
	return e
}

func (e *env) stopDatabase() {
	e.t.Helper()
	if err := e.cluster.Stop(false); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) startDatabase() {
	e.t.Helper()
	c, err := pgcluster.Start(e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.cluster = c
}

// pool is a connection for the test's own checks.
func (e *env) pool() *pgxpool.Pool {
	e.t.Helper()
	p, err := pgxpool.New(context.Background(), e.dbURL)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(p.Close)
	return p
}

func (e *env) token(sub string) string {
	tok, err := e.signer.Token(devtoken.Claims{Subject: sub})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// proc is one running `switchboard serve`.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	done chan error

	mu   sync.Mutex
	logs bytes.Buffer
}

// verifyNumber marks the tenant's registered number verified with the operator's command,
// `switchboard verify-number`, as for a number the operator provisioned.
func (e *env) verifyNumber(tenant, number string) {
	e.t.Helper()
	cmd := exec.Command(binary, "verify-number", tenant, number)
	cmd.Env = append(os.Environ(), "APP_ENV=production", "DATABASE_URL="+e.dbURL)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "is verified") {
		e.t.Fatalf("verify-number: %v\n%s", err, out)
	}
}

// start runs `switchboard serve` and waits until it listens.
func (e *env) start(extra ...string) *proc {
	e.t.Helper()
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(),
		"APP_ENV=production", "PORT=0", "LOG_LEVEL=info",
		"DATABASE_URL="+e.dbURL,
		"CLERK_JWT_KEY="+e.signer.PublicPEM(),
		"TWILIO_AUTH_TOKEN="+twilioToken, "PUBLIC_BASE_URL="+publicBaseURL,
		"VAPI_API_KEY="+providertest.VAPIKey, "VAPI_BASE_URL="+e.vapi.URL(), "VAPI_WEBHOOK_SECRET="+vapiSecret, "CLERK_WEBHOOK_SIGNING_SECRET="+providertest.ClerkWebhookSecret,
		"SPOOL_DIR="+e.spool, "REPROCESS_INTERVAL=1s", "SHUTDOWN_TIMEOUT=20s",
	)
	cmd.Env = append(cmd.Env, extra...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	p := &proc{t: e.t, cmd: cmd, done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			p.mu.Lock()
			p.logs.Write(line)
			p.logs.WriteByte('\n')
			p.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "serving" {
				addr <- rec.Addr
			}
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	e.t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case a := <-addr:
		p.base = "http://127.0.0.1" + a[strings.LastIndex(a, ":"):]
	case err := <-p.done:
		e.t.Fatalf("serve exited: %v\n%s", err, p.log())
	case <-time.After(60 * time.Second):
		e.t.Fatalf("serve did not start\n%s", p.log())
	}
	return p
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

func (p *proc) signal(sig syscall.Signal) {
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// exited waits for the process to end and returns its exit error.
func (p *proc) exited(within time.Duration) error {
	p.t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(within):
		p.t.Fatalf("the process did not exit within %s\n%s", within, p.log())
		return nil
	}
}

type reply struct {
	status int
	body   string
	header http.Header
}

var client = &http.Client{Timeout: 30 * time.Second}

func (p *proc) do(method, path, token string, body any) (reply, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.base+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return send(req)
}

func send(req *http.Request) (reply, error) {
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: string(b), header: resp.Header}, nil
}

func (p *proc) must(method, path, token string, body any, status int) reply {
	p.t.Helper()
	r, err := p.do(method, path, token, body)
	if err != nil {
		p.t.Fatal(err)
	}
	if r.status != status {
		p.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	return r
}

func (p *proc) twilio(path string, form url.Values) (reply, error) {
	req, _ := http.NewRequest("POST", p.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", providertest.SignTwilio(twilioToken, publicBaseURL+path, form))
	return send(req)
}

func (p *proc) vapiMessage(msg map[string]any) (reply, error) {
	b, _ := json.Marshal(map[string]any{"message": msg})
	req, _ := http.NewRequest("POST", p.base+"/api/webhooks/vapi", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Vapi-Secret", vapiSecret)
	return send(req)
}

func inbound(sid string) url.Values {
	return providertest.InboundForm(sid, patient, sharedLine, clinicLine)
}

// stream opens the tenant's live updates and returns the kinds of the events it sends,
// as they come; the stream ends with the test.
func (p *proc) stream(token string) <-chan string {
	p.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", p.base+"/api/calls/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req) // no timeout: the stream lives as long as the test
	if err != nil {
		p.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		p.t.Fatalf("live updates: status %d", resp.StatusCode)
	}
	kinds := make(chan string, 100)
	go func() {
		defer resp.Body.Close()
		defer close(kinds)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if kind, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				kinds <- kind
			}
		}
	}()
	return kinds
}

// awaitEvent waits for an event of the given kind on a stream, past others.
func awaitEvent(t *testing.T, kinds <-chan string, want string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case kind, open := <-kinds:
			if !open {
				t.Fatalf("the live stream ended before a %s event", want)
			}
			if kind == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %s event on the live stream within %s", want, within)
		}
	}
}
