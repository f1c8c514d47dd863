package httpapi_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-health/switchboard/internal/devtoken"
	"github.com/switchboard-health/switchboard/internal/providertest"
)

// closedAccountGrace is the tests' grace period before a closed account's data goes.
const closedAccountGrace = 30 * 24 * time.Hour

// clerk posts a Clerk webhook delivery with these headers.
func (b *bundle) clerk(body []byte, h map[string][]string) response {
	b.t.Helper()
	req := httptest.NewRequest("POST", "/api/webhooks/clerk", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// clerkEvent posts a correctly signed Clerk event, with Svix's message id id.
func (b *bundle) clerkEvent(id, typ string, data map[string]any, occurred time.Time) response {
	b.t.Helper()
	body := providertest.ClerkEvent(typ, data, occurred)
	return b.clerk(body, providertest.SignClerkWebhook(providertest.ClerkWebhookSecret, id, time.Now(), body))
}

// tokenIssued is a session token of user in org issued at iat.
func (b *bundle) tokenIssued(user, org, role string, iat time.Time) string {
	b.t.Helper()
	tok, err := b.signer.Token(devtoken.Claims{Subject: user, OrgID: org, OrgRole: role, IssuedAt: iat, Expiry: time.Now().Add(time.Hour)})
	if err != nil {
		b.t.Fatal(err)
	}
	return tok
}

// Clerk's webhooks are refused unless Svix-signed with the signing secret, recently.
func TestClerkWebhooksAreVerified(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := providertest.ClerkEvent("organization.deleted", providertest.ClerkDeleted("organization", "org_clinic"), time.Now())
	for name, h := range map[string]map[string][]string{
		"unsigned":     {},
		"wrong secret": providertest.SignClerkWebhook("whsec_"+strings.Repeat("A", 32), "msg_1", time.Now(), body),
		"stale":        providertest.SignClerkWebhook(providertest.ClerkWebhookSecret, "msg_1", time.Now().Add(-10*time.Minute), body),
		"other body":   providertest.SignClerkWebhook(providertest.ClerkWebhookSecret, "msg_1", time.Now(), []byte(`{}`)),
	} {
		if p := expect(t, b.clerk(body, h), 403).problem(t); p["code"] != "invalid_signature" {
			t.Errorf("%s: %v", name, p)
		}
	}
	if n := b.count("SELECT count(*) FROM closed_tenants") + b.count("SELECT count(*) FROM clerk_events"); n != 0 {
		t.Fatalf("a refused delivery changed something: %d rows", n)
	}
}

// When Clerk deletes an organisation, its clinic is closed at once: its sessions are
// refused, its numbers stop routing and are free for another clinic to prove, and its
// data is deleted after the grace period, from every table. A removed member loses access
// and assignments first. Repeats and reordering change nothing.
func TestClosingAnAccountFromClerk(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.orgToken("user_admin", "org_clinic", "org:admin")
	b.registerLine(admin, clinicALine, "asst_a", "vpn_a")
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_BEFORE", patientNumber, sharedLine, clinicALine)))
	expect(t, b.vapiMessage(providertest.EndOfCallReport("vapi-call-1", b.lastHandoff()["metadata"].(map[string]any))), 200)
	call := b.callBySid(admin, "CA_BEFORE")["id"].(string)
	var cb map[string]any
	expect(t, b.do("POST", "/api/calls/"+call+"/callbacks", admin, nil), 201).json(t, &cb)
	expect(t, b.do("PATCH", "/api/callbacks/"+cb["id"].(string), admin, map[string]any{"assignee": "user_m"}), 200)
	// Assigned an hour ago, well before the removal below.
	if _, err := b.pool.Exec(t.Context(), "UPDATE callbacks SET assigned_at = now() - interval '1 hour'"); err != nil {
		t.Fatal(err)
	}

	// The member is removed: sessions issued before are refused, a later one (added
	// again) is not, and the callback assigned to them is unassigned.
	before := b.tokenIssued("user_m", "org_clinic", "org:member", time.Now().Add(-time.Minute))
	expect(t, b.do("GET", "/api/calls", before, nil), 200)
	removed := time.Now().Add(-30 * time.Second)
	expect(t, b.clerkEvent("msg_member", "organizationMembership.deleted", providertest.ClerkMembership("org_clinic", "user_m"), removed), 200)
	if p := expect(t, b.do("GET", "/api/calls", before, nil), 401).problem(t); p["code"] != "unauthorized" {
		t.Fatalf("a removed member's session: %v", p)
	}
	expect(t, b.do("GET", "/api/calls", b.tokenIssued("user_m", "org_clinic", "org:member", time.Now()), nil), 200)
	if n := b.count("SELECT count(*) FROM callbacks WHERE assignee IS NOT NULL"); n != 0 {
		t.Fatalf("%d callbacks still assigned to the removed member", n)
	}
	// An older removal arriving late does not move the removal back.
	expect(t, b.clerkEvent("msg_member_old", "organizationMembership.deleted", providertest.ClerkMembership("org_clinic", "user_m"), removed.Add(-time.Hour)), 200)
	if n := b.count("SELECT count(*) FROM removed_members WHERE removed_at = $1", removed.Truncate(time.Millisecond)); n != 1 {
		t.Fatalf("the removal moved: %d rows at the latest time", n)
	}

	// The organisation is deleted: closed at once, whatever the repeats.
	for range 2 {
		expect(t, b.clerkEvent("msg_org", "organization.deleted", providertest.ClerkDeleted("organization", "org_clinic"), time.Now()), 200)
	}
	for _, path := range []string{"/api/calls", "/api/calls/events", "/api/clinic-settings"} {
		if p := expect(t, b.do("GET", path, admin, nil), 403).problem(t); p["code"] != "account_closed" {
			t.Fatalf("a closed account's session, %s: %v", path, p)
		}
	}
	twiml := isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_AFTER", patientNumber, sharedLine, clinicALine)))
	if !strings.Contains(twiml, "<Reject/>") || len(b.vapi.Calls()) != 1 {
		t.Fatalf("a closed clinic's number still routes: %s", twiml)
	}
	// Another clinic can now prove the number and take its calls.
	other := b.token("user_newclinic")
	b.registerLine(other, clinicALine, "asst_new", "vpn_new")
	isTwiML(t, b.twilio("/api/webhooks/twilio", providertest.InboundForm("CA_NEW_OWNER", patientNumber, sharedLine, clinicALine)))
	if c := b.callBySid(other, "CA_NEW_OWNER"); c == nil {
		t.Fatal("the number's new owner has no call")
	}
	// A late VAPI message about the closed clinic's call is kept unattributed.
	late := providertest.StatusUpdate("vapi-call-1", "ended", map[string]any{"call_id": call})
	expect(t, b.vapiMessage(late), 200)
	if n := b.count("SELECT count(*) FROM webhook_events WHERE provider = 'vapi' AND status = 'unattributed'"); n != 1 {
		t.Fatalf("a late message about a closed clinic's call: %d kept unattributed", n)
	}

	// Within the grace period nothing is deleted; after it, everything of the clinic's.
	if n := b.purgeAt(closedAccountGrace - time.Hour); n.ClosedAccounts != 0 || b.count("SELECT count(*) FROM calls WHERE user_id = 'org_clinic'") != 1 {
		t.Fatalf("deleted within the grace period: %+v", n)
	}
	if n := b.purgeAt(closedAccountGrace + time.Hour); n.ClosedAccounts != 1 {
		t.Fatalf("after the grace period: %+v", n)
	}
	for _, table := range tenantTables(b) {
		if table == "closed_tenants" || table == "webhook_events" {
			continue
		}
		if n := b.count(fmt.Sprintf("SELECT count(*) FROM %s WHERE user_id = 'org_clinic'", table)); n != 0 {
			t.Errorf("%s still holds %d rows of the closed clinic", table, n)
		}
	}
	if n := b.count("SELECT count(*) FROM webhook_events WHERE user_id = 'org_clinic' AND payload IS NOT NULL"); n != 0 {
		t.Errorf("%d inbox payloads of the closed clinic remain", n)
	}
	if n := b.count("SELECT count(*) FROM closed_tenants WHERE user_id = 'org_clinic' AND deleted_at IS NOT NULL"); n != 1 {
		t.Error("the closed account's deletion is not recorded")
	}
	if n := len(b.callsOf(other)); n != 1 {
		t.Errorf("the number's new owner has %d calls", n)
	}
}

// A deleted user's personal workspace is closed, and they can act in no organisation.
func TestADeletedUserActsNowhere(t *testing.T) {
	t.Parallel()
	b := setup(t)
	personal, inOrg := b.token("user_gone"), b.orgToken("user_gone", "org_clinic", "org:admin")
	expect(t, b.do("GET", "/api/calls", inOrg, nil), 200)
	expect(t, b.clerkEvent("msg_user", "user.deleted", providertest.ClerkDeleted("user", "user_gone"), time.Now()), 200)
	for _, tok := range []string{personal, inOrg} {
		if p := expect(t, b.do("GET", "/api/calls", tok, nil), 403).problem(t); p["code"] != "account_closed" {
			t.Fatalf("a deleted user's session: %v", p)
		}
	}
	expect(t, b.do("GET", "/api/calls", b.orgToken("user_stays", "org_clinic", "org:admin"), nil), 200)
	// Other event types are acknowledged and ignored.
	expect(t, b.clerkEvent("msg_created", "user.created", map[string]any{"id": "user_new", "object": "user"}, time.Now()), 200)
	if n := b.count("SELECT count(*) FROM clerk_events WHERE status = 'ignored'"); n != 1 {
		t.Fatalf("%d ignored events kept", n)
	}
}

// tenantTables lists the tables with a user_id column: every table that holds a tenant's data.
func tenantTables(b *bundle) []string {
	b.t.Helper()
	rows, err := b.pool.Query(b.t.Context(), `SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = 'public' AND c.column_name = 'user_id' AND t.table_type = 'BASE TABLE' ORDER BY 1`)
	if err != nil {
		b.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			b.t.Fatal(err)
		}
		out = append(out, name)
	}
	if len(out) < 15 {
		b.t.Fatalf("only %d tenant tables: %v", len(out), out)
	}
	return out
}
