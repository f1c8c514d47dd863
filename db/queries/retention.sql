-- Retention: the purge job, as the service, one clinic and one bounded batch at a time
-- (each statement its own short transaction), and what a clinic reads of it.

-- name: RetentionClinics :many
-- Every clinic with calls (a loose scan of the calls index: one probe per clinic), with
-- its retention settings and how far earlier runs purged.
WITH RECURSIVE clinic(user_id) AS (
    (SELECT c.user_id FROM calls c ORDER BY c.user_id LIMIT 1)
    UNION ALL
    SELECT (SELECT c.user_id FROM calls c WHERE c.user_id > clinic.user_id ORDER BY c.user_id LIMIT 1)
    FROM clinic WHERE clinic.user_id IS NOT NULL
)
SELECT clinic.user_id::text AS user_id,
       coalesce(s.hipaa_mode, false)::boolean AS hipaa_mode,
       s.transcript_retention_days, s.recording_retention_days, s.call_retention_days,
       p.transcripts_through, p.recordings_through, p.calls_through
FROM clinic
LEFT JOIN clinic_settings s ON s.user_id = clinic.user_id
LEFT JOIN retention_progress p ON p.user_id = clinic.user_id
WHERE clinic.user_id IS NOT NULL;

-- name: PurgeTranscripts :execrows
-- Empties the transcripts and messages of up to batch_size of the clinic's calls started in
-- [started_from, started_before), marks them purged, recomputes their search vectors from
-- what remains (so search stops finding them at once), and drops the payloads of the inbox
-- events about them that still hold one.
WITH due AS (
    SELECT d.call_id FROM calls c
    JOIN call_details d ON d.call_id = c.id AND d.user_id = c.user_id
    WHERE c.user_id = @user_id AND c.started_at >= @started_from AND c.started_at < @started_before
      AND d.transcript_purged_at IS NULL AND (d.transcript IS NOT NULL OR d.messages::text <> '[]')
    ORDER BY c.started_at
    LIMIT @batch_size
    FOR UPDATE OF d SKIP LOCKED
), inbox AS (
    UPDATE webhook_events w SET payload = NULL, headers = '{}'::jsonb, payload_pruned_at = now()
    FROM due WHERE w.call_id = due.call_id AND w.payload IS NOT NULL AND w.user_id = @user_id
)
UPDATE call_details d
SET transcript = NULL, messages = '[]'::json, transcript_purged_at = now(),
    search = to_tsvector('english', coalesce(c.summary, '')), search_stale = false
FROM due, calls c
WHERE d.user_id = @user_id AND d.call_id = due.call_id AND c.user_id = @user_id AND c.id = due.call_id;

-- name: PurgeRecordings :execrows
-- Drops the recordings' URLs and the voicemail's id of up to batch_size of the clinic's
-- calls started in [started_from, started_before), marks them purged, and drops what else
-- holds the URLs: finished outbound deliveries' bodies (a redelivery then sends the call as
-- it is now) and inbox payloads.
WITH due AS (
    SELECT c.id FROM calls c
    WHERE c.user_id = @user_id AND c.started_at >= @started_from AND c.started_at < @started_before
      AND c.recording_purged_at IS NULL
      AND (c.recording_url IS NOT NULL OR c.stereo_recording_url IS NOT NULL OR c.voicemail_recording_sid IS NOT NULL)
    ORDER BY c.started_at
    LIMIT @batch_size
    FOR UPDATE SKIP LOCKED
), deliveries AS (
    UPDATE webhook_deliveries w SET payload = NULL
    FROM due WHERE w.user_id = @user_id AND w.call_id = due.id AND w.status IN ('succeeded', 'dead') AND w.payload IS NOT NULL
), inbox AS (
    UPDATE webhook_events w SET payload = NULL, headers = '{}'::jsonb, payload_pruned_at = now()
    FROM due WHERE w.call_id = due.id AND w.payload IS NOT NULL AND w.user_id = @user_id
)
UPDATE calls c
SET recording_url = NULL, stereo_recording_url = NULL, voicemail_recording_sid = NULL, recording_purged_at = now()
FROM due
WHERE c.user_id = @user_id AND c.id = due.id;

-- name: PurgeCallRecords :one
-- Deletes up to batch_size of the clinic's calls started in [started_from, started_before),
-- with everything about them: details, callbacks (by cascade), outbound deliveries,
-- live-update history and inbox payloads. Answers how many calls went.
WITH due AS (
    SELECT c.id FROM calls c
    WHERE c.user_id = @user_id AND c.started_at >= @started_from AND c.started_at < @started_before
    ORDER BY c.started_at
    LIMIT @batch_size
    FOR UPDATE SKIP LOCKED
), deliveries AS (
    DELETE FROM webhook_deliveries w USING due WHERE w.user_id = @user_id AND w.call_id = due.id
), events AS (
    DELETE FROM call_events e USING due WHERE e.user_id = @user_id AND e.call_id = due.id
), inbox AS (
    UPDATE webhook_events w SET payload = NULL, headers = '{}'::jsonb, payload_pruned_at = now()
    FROM due WHERE w.call_id = due.id AND w.payload IS NOT NULL AND w.user_id = @user_id
), gone AS (
    DELETE FROM calls c USING due WHERE c.user_id = @user_id AND c.id = due.id RETURNING 1
)
SELECT count(*) FROM gone;

-- name: SaveRetentionProgress :exec
INSERT INTO retention_progress (user_id, transcripts_through, recordings_through, calls_through)
VALUES (@user_id, @transcripts_through, @recordings_through, @calls_through)
ON CONFLICT (user_id) DO UPDATE SET
    transcripts_through = excluded.transcripts_through,
    recordings_through  = excluded.recordings_through,
    calls_through       = excluded.calls_through;

-- name: StartRetentionRun :one
INSERT INTO retention_runs DEFAULT VALUES RETURNING id, started_at;

-- name: FinishRetentionRun :exec
UPDATE retention_runs SET finished_at = now(), clinics = @clinics, transcripts = @transcripts,
    recordings = @recordings, calls = @calls, error = sqlc.narg(error)
WHERE id = @id;

-- name: RecordRetentionPurge :exec
INSERT INTO retention_purges (user_id, run_id, transcripts, recordings, calls, transcripts_before, recordings_before, calls_before)
VALUES (@user_id, @run_id, @transcripts, @recordings, @calls, @transcripts_before, @recordings_before, @calls_before);

-- name: ListRetentionPurges :many
-- The clinic's purge records, newest first, before before_id.
SELECT * FROM retention_purges
WHERE user_id = @user_id AND id < @before_id
ORDER BY id DESC
LIMIT @row_limit;

-- name: LastRetentionRun :one
-- The last run that finished, for every clinic to see that the job runs.
SELECT id, started_at, finished_at FROM retention_runs
WHERE finished_at IS NOT NULL
ORDER BY id DESC
LIMIT 1;

-- name: PruneRetentionRuns :execrows
-- Runs (with their clinics' records) are kept for a year.
DELETE FROM retention_runs WHERE started_at < now() - interval '1 year';
