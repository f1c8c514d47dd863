package tenant

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard-health/switchboard/db/dbsqlc"
	"github.com/switchboard-health/switchboard/internal/testpg"
)

// A purge cannot be undone or bypassed from a tenant's transaction: the markers stay, a
// purged transcript or recording cannot be written back; a clinic reads its own purge
// records only, when runs happened but not what they did for others, and nothing of the
// job's progress.
func TestPurgesHoldInTenantTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testpg.New(t)
	db := NewDB(pool)
	for _, sql := range []string{
		`INSERT INTO calls (id, user_id, recording_purged_at) VALUES
		   ('00000000-0000-0000-0000-00000000000a', 'user_a', now()), ('00000000-0000-0000-0000-00000000000b', 'user_b', now())`,
		`INSERT INTO call_details (call_id, user_id, transcript_purged_at) VALUES
		   ('00000000-0000-0000-0000-00000000000a', 'user_a', now()), ('00000000-0000-0000-0000-00000000000b', 'user_b', now())`,
		`INSERT INTO retention_runs (clinics, calls) VALUES (2, 7)`,
		`INSERT INTO retention_purges (user_id, run_id, transcripts, recordings, calls, transcripts_before, recordings_before, calls_before)
		   SELECT u, (SELECT max(id) FROM retention_runs), 1, 1, 0, now(), now(), now() FROM unnest(ARRAY['user_a', 'user_b']) AS u`,
		`INSERT INTO retention_progress (user_id, calls_through) VALUES ('user_a', now())`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	for _, sql := range []string{
		"UPDATE call_details SET transcript_purged_at = NULL",
		"UPDATE call_details SET transcript = 'restored'",
		"UPDATE call_details SET messages = '[{\"role\": \"user\"}]'",
		"UPDATE calls SET recording_purged_at = NULL",
		"UPDATE calls SET recording_url = 'https://storage.vapi.ai/restored.wav'",
		"UPDATE calls SET voicemail_recording_sid = 'RE_restored'",
		"SELECT count(*) FROM retention_progress",
		"SELECT sum(calls) FROM retention_runs",
	} {
		err := db.inTx(ctx, "user_a", func(conn dbsqlc.DBTX) error {
			_, err := conn.Exec(ctx, sql)
			return err
		})
		if err == nil {
			t.Errorf("a tenant's transaction ran %q", sql)
		}
	}
	err := db.inTx(ctx, "user_a", func(conn dbsqlc.DBTX) error {
		var purges, others, runs int
		if err := conn.QueryRow(ctx, "SELECT count(*), count(*) FILTER (WHERE user_id <> 'user_a') FROM retention_purges").Scan(&purges, &others); err != nil {
			return err
		}
		if err := conn.QueryRow(ctx, "SELECT count(finished_at IS NULL) FROM retention_runs").Scan(&runs); err != nil {
			return err
		}
		if purges != 1 || others != 0 || runs != 1 {
			t.Errorf("user_a read %d purge records (%d of others) and %d runs", purges, others, runs)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
}
