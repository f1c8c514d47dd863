package workspace

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/errs"
	"github.com/switchboard-health/switchboard/internal/tenant"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

func TestMain(m *testing.M) { os.Exit(testpg.Main(m)) }

// seed gives tenant t a number and a call with its report.
func seed(t *testing.T, db *tenant.DB, tn tenant.ID, number string) {
	t.Helper()
	ctx := context.Background()
	err := db.Tx(ctx, tn, func(q *dbsqlc.Queries) error {
		pn, err := q.CreatePhoneNumber(ctx, dbsqlc.CreatePhoneNumberParams{UserID: string(tn), PhoneNumber: number})
		if err != nil {
			return err
		}
		c, err := q.InsertCall(ctx, dbsqlc.InsertCallParams{UserID: string(tn), PhoneNumberID: &pn.ID, Status: "ended", Direction: "inbound", StartedAt: time.Now()})
		if err != nil {
			return err
		}
		summary := "booked"
		return q.StoreEndOfCallReport(ctx, dbsqlc.StoreEndOfCallReportParams{UserID: string(tn), ID: c.ID, Summary: &summary})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func counts(t *testing.T, db *tenant.DB, tn tenant.ID) (numbers, calls int) {
	t.Helper()
	ctx := context.Background()
	err := db.Tx(ctx, tn, func(q *dbsqlc.Queries) error {
		n, err := q.ListPhoneNumbers(ctx, string(tn))
		numbers = len(n)
		if err != nil {
			return err
		}
		c, err := q.CallTotals(ctx, dbsqlc.CallTotalsParams{UserID: string(tn), Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Hour)})
		calls = int(c.Calls)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return numbers, calls
}

// A personal workspace moves into an organisation whole, in one transaction, recorded in
// the organisation's audit log; a conflicting number refuses the move and moves nothing.
func TestAWorkspaceMovesIntoItsTeam(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testpg.New(t)
	db := tenant.NewDB(pool)
	seed(t, db, "user_solo", "+12127365000")
	seed(t, db, "org_team", "+16502530000")
	seed(t, db, "org_rival", "+12127365000")

	if _, err := Move(ctx, db, "user_solo", "org_rival"); !errs.Is(err, errs.Conflict) {
		t.Fatalf("a move onto a conflicting number: %v", err)
	}
	if n, c := counts(t, db, "user_solo"); n != 1 || c != 1 {
		t.Fatalf("a refused move moved something: %d numbers, %d calls left", n, c)
	}

	// The workspace's routing settings: an assistant its number names, routing of its own
	// and the number's, a blocked caller the organisation blocks too.
	for _, sql := range []string{
		"INSERT INTO assistants (vapi_assistant_id, user_id) VALUES ('asst_solo', 'user_solo')",
		"UPDATE phone_numbers SET vapi_assistant_id = 'asst_solo' WHERE user_id = 'user_solo'",
		"INSERT INTO routing_policies (user_id, clinic_name) VALUES ('user_solo', 'Solo'), ('org_team', 'Team')",
		"INSERT INTO routing_policies (user_id, phone_number_id, clinic_name) SELECT user_id, id, 'Solo site' FROM phone_numbers WHERE user_id = 'user_solo'",
		"INSERT INTO blocked_callers (user_id, phone_number) VALUES ('user_solo', '+13127445000'), ('user_solo', '+13127445001'), ('org_team', '+13127445000')",
		"INSERT INTO callbacks (user_id, call_id, reason, created_by) SELECT user_id, id, 'requested_by_staff', 'user_solo' FROM calls WHERE user_id = 'user_solo'",
		"INSERT INTO callback_rules (user_id, on_voicemail) VALUES ('user_solo', false)",
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}

	moved, err := Move(ctx, db, "user_solo", "org_team")
	if err != nil || moved.PhoneNumbers != 1 || moved.Calls != 1 || moved.Assistants != 1 || moved.BlockedCallers != 2 || moved.DroppedSettings != 1 {
		t.Fatalf("Move = %+v, %v", moved, err)
	}
	var settings string
	if err := pool.QueryRow(ctx, `SELECT
		(SELECT string_agg(user_id || ':' || vapi_assistant_id, ',') FROM assistants) || ' ' ||
		(SELECT string_agg(user_id || ':' || coalesce(clinic_name, ''), ',' ORDER BY clinic_name) FROM routing_policies) || ' ' ||
		(SELECT string_agg(user_id || ':' || phone_number, ',' ORDER BY phone_number) FROM blocked_callers) || ' ' ||
		(SELECT vapi_assistant_id FROM phone_numbers WHERE phone_number = '+12127365000' AND user_id = 'org_team') || ' ' ||
		(SELECT string_agg(user_id, ',') FROM callbacks) || ' ' ||
		(SELECT string_agg(user_id || ':' || on_voicemail, ',') FROM callback_rules)`).Scan(&settings); err != nil {
		t.Fatal(err)
	}
	if want := "org_team:asst_solo org_team:Solo site,org_team:Team org_team:+13127445000,org_team:+13127445001 asst_solo org_team org_team:false"; settings != want {
		t.Fatalf("the organisation's settings after the move:\n%s\nwant\n%s", settings, want)
	}
	if n, c := counts(t, db, "org_team"); n != 2 || c != 2 {
		t.Fatalf("the organisation holds %d numbers and %d calls, want 2 and 2", n, c)
	}
	if n, c := counts(t, db, "user_solo"); n != 0 || c != 0 {
		t.Fatalf("the workspace still holds %d numbers and %d calls", n, c)
	}
	var entries []dbsqlc.AuditEvent
	err = db.Read(ctx, "org_team", func(q *dbsqlc.Queries) (err error) {
		entries, err = q.ListAuditEvents(ctx, dbsqlc.ListAuditEventsParams{UserID: "org_team", Since: time.Now().Add(-time.Hour),
			Until: time.Now().Add(time.Hour), BeforeCreatedAt: time.Now().Add(time.Hour), BeforeID: 1 << 62, RowLimit: 10})
		return err
	})
	if err != nil || len(entries) != 1 || entries[0].Action != "workspace.move" || entries[0].Actor != "operator" || *entries[0].TargetID != "user_solo" {
		t.Fatalf("the organisation's audit log: %+v, %v", entries, err)
	}
}
