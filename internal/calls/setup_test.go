package calls_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/providertest"
	"github.com/switchboard-health/switchboard/internal/spool"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/testpg"
	"github.com/switchboard-health/switchboard/internal/vapi"
)

func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

// Numbers of the tests: a clinic's line, the shared assistant line it forwards to, and a
// patient.
const (
	clinicLine = "+12127365000"
	sharedLine = "+16172531000"
	patient    = "+13127445000"
	clinic     = tenant.ID("user_clinic_a")
)

// bundle is what a test of the calls package needs: the three doors over a fresh
// database, a fake VAPI and a spool of their own.
type bundle struct {
	t        *testing.T
	pool     *pgxpool.Pool
	db       *tenant.DB
	vapi     *providertest.VAPI
	spoolDir string
	intake   *calls.Intake
	jobs     *calls.Jobs
	reader   *calls.Reader
}

// setup builds a bundle; pool, when given, replaces the fresh database (a dead one stands
// for a database that is down) and shares spoolDir with another bundle.
func setup(t *testing.T, pool *pgxpool.Pool, spoolDir string) *bundle {
	t.Helper()
	if pool == nil {
		pool = testpg.New(t)
	}
	if spoolDir == "" {
		spoolDir = t.TempDir()
	}
	sp, err := spool.Open(spoolDir)
	if err != nil {
		t.Fatal(err)
	}
	fake := providertest.NewVAPI()
	t.Cleanup(fake.Close)
	d := calls.Deps{
		DB: tenant.NewDB(pool), VAPI: vapi.NewClient(fake.URL(), providertest.VAPIKey, 2*time.Second), Spool: sp,
		Region: "US", Log: slog.New(slog.NewTextHandler(io.Discard, nil)), HandoffWait: 5 * time.Second,
	}
	return &bundle{t: t, pool: pool, db: d.DB, vapi: fake, spoolDir: spoolDir,
		intake: calls.NewIntake(d), jobs: calls.NewJobs(d), reader: calls.NewReader(d)}
}

// registerLine registers the clinic's line with an assistant, verified.
func (b *bundle) registerLine() dbsqlc.PhoneNumber {
	b.t.Helper()
	ctx := context.Background()
	var pn dbsqlc.PhoneNumber
	err := b.db.Tx(ctx, clinic, func(q *dbsqlc.Queries) (err error) {
		asst, vpn := "asst_a", "vpn_a"
		if _, err := q.CreateAssistant(ctx, dbsqlc.CreateAssistantParams{VapiAssistantID: asst, UserID: string(clinic)}); err != nil {
			return err
		}
		pn, err = q.CreatePhoneNumber(ctx, dbsqlc.CreatePhoneNumberParams{
			UserID: string(clinic), PhoneNumber: clinicLine, VapiAssistantID: &asst, VapiPhoneNumberID: &vpn,
		})
		if err != nil {
			return err
		}
		// Proven, as the operator would mark it: only verified numbers route calls.
		by := "operator"
		pn, err = q.MarkPhoneNumberVerified(ctx, dbsqlc.MarkPhoneNumberVerifiedParams{UserID: string(clinic), ID: pn.ID, VerifiedBy: &by})
		return err
	})
	if err != nil {
		b.t.Fatal(err)
	}
	return pn
}

// inboundCall delivers Twilio's voice webhook for a call forwarded from the clinic's line
// and returns the answer, recorded.
func (b *bundle) inboundCall(sid string) (calls.VoiceAnswer, calls.Outcome) {
	b.t.Helper()
	body := []byte(providertest.InboundForm(sid, patient, sharedLine, clinicLine).Encode())
	answer, err := b.intake.TwilioVoice(context.Background(), body, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return answer, answer.Record(context.Background())
}

// vapiMessage delivers a VAPI server message.
func (b *bundle) vapiMessage(msg map[string]any) (calls.Outcome, error) {
	reply, err := b.intake.VapiMessage(context.Background(), providertest.ServerMessage(msg), nil)
	return reply.Outcome, err
}

// metadata is what Switchboard gave VAPI with the n-th call it handed over.
func (b *bundle) metadata(n int) map[string]any {
	b.t.Helper()
	reqs := b.vapi.Calls()
	if len(reqs) <= n {
		b.t.Fatalf("VAPI was asked %d times, want more than %d", len(reqs), n)
	}
	return reqs[n].Body["metadata"].(map[string]any)
}

// call reads one of the clinic's calls as its dashboard does.
func (b *bundle) call(id string) dbsqlc.GetCallRow {
	b.t.Helper()
	row, err := b.reader.Get(context.Background(), clinic, uuid.MustParse(id))
	if err != nil {
		b.t.Fatal(err)
	}
	return row
}

// count runs a counting query as the service.
func (b *bundle) count(sql string, args ...any) int {
	b.t.Helper()
	var n int
	if err := b.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		b.t.Fatal(err)
	}
	return n
}

// keep puts an event straight into the inbox, due now, as a process that stopped before
// applying it would have left it.
func (b *bundle) keep(provider, key, typ string, payload []byte) {
	b.t.Helper()
	if _, err := b.pool.Exec(context.Background(), `INSERT INTO webhook_events (provider, event_key, event_type, payload, next_attempt_at)
		VALUES ($1, $2, $3, $4, now() - interval '1 second')`, provider, key, typ, payload); err != nil {
		b.t.Fatal(err)
	}
}

func form(v url.Values) []byte { return []byte(v.Encode()) }
