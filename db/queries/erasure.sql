-- Erasing what Switchboard holds about one caller number, in one transaction: the
-- clinic's own rows as the tenant, the shared logs (live-update history, the inbox) as the
-- service, for the erased calls only. Each statement answers how many rows it removed.

-- name: CallsOfCaller :many
-- The tenant's calls from the number, with whether each held a transcript or recording.
SELECT c.id,
       (c.recording_url IS NOT NULL OR c.stereo_recording_url IS NOT NULL OR c.voicemail_recording_sid IS NOT NULL)::boolean AS had_recording,
       (d.transcript IS NOT NULL)::boolean AS had_transcript
FROM calls c
LEFT JOIN call_details d ON d.call_id = c.id AND d.user_id = c.user_id
WHERE c.user_id = @user_id AND c.caller_number = @caller_number;

-- name: DeleteCalls :one
-- Deletes the tenant's calls; their details (transcripts, messages, search vectors) and
-- callbacks go with them. Webhook deliveries about them go first.
WITH deliveries AS (
    DELETE FROM webhook_deliveries w WHERE w.user_id = @user_id AND w.call_id = ANY(@ids::uuid[]) RETURNING 1
), gone AS (
    DELETE FROM calls c WHERE c.user_id = @user_id AND c.id = ANY(@ids::uuid[]) RETURNING 1
)
SELECT (SELECT count(*) FROM gone) AS calls, (SELECT count(*) FROM deliveries) AS webhook_deliveries;

-- name: DeleteBlockedCallerByNumber :one
WITH gone AS (DELETE FROM blocked_callers WHERE user_id = @user_id AND phone_number = @phone_number RETURNING 1)
SELECT count(*) FROM gone;

-- name: EraseCallLogs :one
-- As the service: the erased calls' live-update history, and the raw webhooks about them,
-- which keep their keys (a repeat is still recognised) and lose their content.
WITH events AS (
    DELETE FROM call_events e WHERE e.user_id = @user_id AND e.call_id = ANY(@ids::uuid[]) RETURNING 1
), inbox AS (
    UPDATE webhook_events w SET payload = NULL, headers = '{}'::jsonb, payload_pruned_at = now()
    WHERE w.user_id = @user_id AND w.call_id = ANY(@ids::uuid[]) AND w.payload IS NOT NULL
    RETURNING 1
)
SELECT (SELECT count(*) FROM events) AS live_events, (SELECT count(*) FROM inbox) AS inbox_payloads;
