package migrations_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-health/switchboard/internal/testpg"
)

// notTenantTables are the tables with a user_id column that are not distributed by it
// when the schema goes to Citus (docs/scale-out.md), each with why.
var notTenantTables = map[string]string{
	// Lookups keyed by a value unique across tenants, which the webhooks read first to
	// find the tenant; user_id is their data, not their key.
	"call_sids":          "lookup: a Twilio CallSid's call",
	"vapi_calls":         "lookup: a VAPI call id's call",
	"verified_numbers":   "lookup: a verified clinic line's number",
	"assistant_owners":   "lookup: a VAPI assistant's clinic",
	"webhook_events":     "the inbox, keyed by provider and event; user_id is whom an event was attributed to",
	"closed_tenants":     "read in every tenant transaction's opening: a reference table",
	"retention_progress": "the purge job's own bookkeeping",
}

// Every table that holds a tenant's data can be distributed by the tenant: its primary
// key and every unique constraint or index include user_id, and every foreign key to
// another tenant table matches user_id to user_id. A migration that breaks this fails
// here, naming the table and the constraint.
func TestTenantTablesAreDistributableByTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testpg.New(t)
	rows, err := pool.Query(ctx, `
		WITH tenant AS (
			SELECT c.oid, c.relname FROM pg_class c
			JOIN pg_namespace n ON n.oid = c.relnamespace
			JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
			WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> ALL($1::text[])
		), tenant_key AS (
			SELECT t.oid, a.attnum FROM tenant t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attname = 'user_id'
		)
		-- A primary key or unique index (constraint or not) without user_id.
		SELECT t.relname, 'unique index ' || i.indexrelid::regclass::text || ' lacks user_id'
		FROM tenant t JOIN pg_index i ON i.indrelid = t.oid AND i.indisunique
		JOIN tenant_key k ON k.oid = t.oid
		WHERE NOT (k.attnum = ANY(i.indkey::int2[]))
		UNION ALL
		-- A foreign key to another tenant table that does not match user_id to user_id.
		SELECT t.relname, 'foreign key ' || c.conname || ' does not match user_id'
		FROM tenant t JOIN pg_constraint c ON c.conrelid = t.oid AND c.contype = 'f'
		JOIN tenant r ON r.oid = c.confrelid
		JOIN tenant_key k ON k.oid = t.oid JOIN tenant_key rk ON rk.oid = r.oid
		WHERE NOT EXISTS (
			SELECT 1 FROM unnest(c.conkey, c.confkey) AS p(col, ref) WHERE p.col = k.attnum AND p.ref = rk.attnum)
		ORDER BY 1, 2`, keys(notTenantTables))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var broken []string
	for rows.Next() {
		var table, problem string
		if err := rows.Scan(&table, &problem); err != nil {
			t.Fatal(err)
		}
		broken = append(broken, table+": "+problem)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(broken) > 0 {
		t.Fatalf("tenant tables that Citus could not distribute by user_id:\n%s", strings.Join(broken, "\n"))
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
