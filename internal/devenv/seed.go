package devenv

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/calls"
	"github.com/switchboard-health/switchboard/internal/tenant"
)

// DemoLines are the demo clinics' registered lines, verified, in DemoTenants' order.
var DemoLines = []string{"+12127365000", "+16502530000"}

// seedCalls is how many calls each demo clinic starts with.
const seedCalls = 40

var visits = []struct{ summary, transcript string }{
	{"Patient booked a cleaning for next Tuesday.", "AI: Good morning, how can I help?\nUser: I need a cleaning.\nAI: Tuesday at 9 works. Booked."},
	{"Caller asked about the opening hours on Saturday.", "AI: Hello!\nUser: Are you open on Saturday?\nAI: Yes, from 9 to 1."},
	{"Patient reported tooth pain; urgent appointment booked for today.", "AI: How can I help?\nUser: My tooth hurts badly.\nAI: We can see you at 3 today."},
	{"Caller wanted to reschedule; asked for a callback.", "AI: Hi there.\nUser: I have to move my appointment.\nAI: Someone will call you back today."},
	{"Insurance question: the clinic takes Delta Dental.", "AI: Hello.\nUser: Do you take Delta Dental?\nAI: We do."},
}

// Seed gives each demo clinic, once, a verified line and calls of the last two weeks
// (ended, failed and a few in progress, with transcripts, summaries and costs), written
// through the same queries as the webhooks, in each clinic's tenant transaction. A clinic
// that has a number already is left as it is.
func Seed(ctx context.Context, db *tenant.DB) error {
	for i, t := range DemoTenants {
		if err := seedTenant(ctx, db, tenant.ID(t), DemoLines[i], int64(i)); err != nil {
			return fmt.Errorf("seeding %s: %w", t, err)
		}
	}
	return nil
}

func seedTenant(ctx context.Context, db *tenant.DB, t tenant.ID, line string, seed int64) error {
	return db.Tx(ctx, t, func(q *dbsqlc.Queries) error {
		existing, err := q.ListPhoneNumbers(ctx, string(t))
		if err != nil || len(existing) > 0 {
			return err
		}
		// An assistant is one clinic's: each demo clinic has its own.
		label, asst, vpn, by := "Front desk", fmt.Sprintf("asst_demo_%d", seed), "vpn_demo", "operator"
		if _, err := q.CreateAssistant(ctx, dbsqlc.CreateAssistantParams{VapiAssistantID: asst, UserID: string(t), Name: &label}); err != nil {
			return err
		}
		pn, err := q.CreatePhoneNumber(ctx, dbsqlc.CreatePhoneNumberParams{UserID: string(t), PhoneNumber: line,
			Label: &label, VapiAssistantID: &asst, VapiPhoneNumberID: &vpn})
		if err != nil {
			return err
		}
		if _, err := q.MarkPhoneNumberVerified(ctx, dbsqlc.MarkPhoneNumberVerifiedParams{UserID: string(t), ID: pn.ID, VerifiedBy: &by}); err != nil {
			return err
		}
		rnd := rand.New(rand.NewPCG(uint64(seed), 42))
		for n := range seedCalls {
			if err := seedCall(ctx, q, t, pn, rnd, n); err != nil {
				return err
			}
		}
		return nil
	})
}

func seedCall(ctx context.Context, q *dbsqlc.Queries, t tenant.ID, pn dbsqlc.PhoneNumber, rnd *rand.Rand, n int) error {
	started := time.Now().Add(-time.Duration(rnd.Int64N(int64(14 * 24 * time.Hour))))
	status := calls.StatusEnded
	switch {
	case n < 3:
		status, started = calls.StatusInProgress, time.Now().Add(-time.Duration(n+1)*time.Minute)
	case n%9 == 0:
		status = calls.StatusFailed
	}
	caller := fmt.Sprintf("+1312744%04d", rnd.IntN(10000))
	sid := fmt.Sprintf("CAdemo%s%03d", string(t)[len(t)-1:], n)
	c, err := q.InsertCall(ctx, dbsqlc.InsertCallParams{UserID: string(t), PhoneNumberID: &pn.ID, Status: string(status),
		Direction: "inbound", CallerNumber: &caller, ClinicNumber: &pn.PhoneNumber, TwilioCallSid: &sid, StartedAt: started})
	if err != nil || status != calls.StatusEnded {
		return err
	}
	v := visits[rnd.IntN(len(visits))]
	duration := int32(30 + rnd.IntN(400))
	ended := started.Add(time.Duration(duration) * time.Second)
	cost := float64(5+rnd.IntN(40)) / 100
	reason, success := "customer-ended-call", "true"
	recording := "https://storage.vapi.ai/demo/" + c.ID.String() + ".wav"
	return q.StoreEndOfCallReport(ctx, dbsqlc.StoreEndOfCallReportParams{
		ID: c.ID, UserID: string(t), EndedAt: &ended, DurationSeconds: &duration, EndedReason: &reason,
		Summary: &v.summary, Transcript: &v.transcript, SuccessEvaluation: &success, Cost: &cost, RecordingUrl: &recording,
	})
}
