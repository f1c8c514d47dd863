package tenant

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

// The audit log is append-only for tenants: a tenant transaction appends and reads its own
// entries, and cannot alter or remove any (not even with a statement that forgets its
// WHERE), nor write one for another tenant or read another's.
func TestTheAuditLogIsAppendOnlyAndConfined(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := NewDB(testpg.New(t))
	for _, user := range []string{"user_a", "user_b"} {
		err := db.Tx(ctx, ID(user), func(q *dbsqlc.Queries) error {
			return q.InsertAuditEvent(ctx, dbsqlc.InsertAuditEventParams{UserID: user, Actor: user, Action: "call.read", TargetType: "call", Detail: json.RawMessage(`{}`)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for name, sql := range map[string]string{
		"update without WHERE": "UPDATE audit_events SET action = 'nothing'",
		"delete without WHERE": "DELETE FROM audit_events",
		"truncate":             "TRUNCATE audit_events",
		"another tenant's":     "INSERT INTO audit_events (user_id, actor, action, target_type) VALUES ('user_b', 'user_a', 'x', 'y')",
	} {
		err := db.inTx(ctx, "user_a", func(conn dbsqlc.DBTX) error {
			_, err := conn.Exec(ctx, sql)
			return err
		})
		if err == nil {
			t.Errorf("%s: a tenant transaction was allowed", name)
		}
	}
	var seen []string
	err := db.inTx(ctx, "user_a", func(conn dbsqlc.DBTX) error {
		rows, err := conn.Query(ctx, "SELECT user_id || ':' || action FROM audit_events")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			seen = append(seen, s)
		}
		return rows.Err()
	})
	if err != nil || len(seen) != 1 || seen[0] != "user_a:call.read" {
		t.Fatalf("user_a's unfiltered read of the audit log: %v, %v", seen, err)
	}
}
