-- name: ListCalls :many
-- One keyset page, newest first. The bounds are always present (the caller passes
-- infinity and the largest uuid for "no bound") so that even a generic plan reads the
-- (user_id, started_at, id) index as a range instead of filtering from the top.
SELECT *
FROM call_summaries
WHERE user_id = @user_id
  AND started_at >= @since
  AND started_at < @until
  AND (started_at, id) < (@before_started_at::timestamptz, @before_id::uuid)
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(phone_number_id)::uuid IS NULL OR phone_number_id = sqlc.narg(phone_number_id))
ORDER BY started_at DESC, id DESC
LIMIT @row_limit;

-- name: GetCall :one
SELECT sqlc.embed(c), d.transcript, coalesce(d.messages, '[]'::jsonb)::jsonb AS messages
FROM call_summaries c
LEFT JOIN call_details d ON d.call_id = c.id AND d.user_id = c.user_id
WHERE c.user_id = @user_id AND c.id = @id;

-- name: InsertCall :one
INSERT INTO calls (
    user_id, phone_number_id, status, direction, caller_number, clinic_number,
    assistant_number, matched_by, twilio_call_sid, vapi_call_id, started_at
) VALUES (
    @user_id, sqlc.narg(phone_number_id), @status, @direction, sqlc.narg(caller_number),
    sqlc.narg(clinic_number), sqlc.narg(assistant_number), sqlc.narg(matched_by),
    sqlc.narg(twilio_call_sid), sqlc.narg(vapi_call_id), @started_at
)
RETURNING *;

-- name: UpsertCallDetails :exec
-- A value left out (nil) keeps what is stored.
INSERT INTO call_details (call_id, user_id, transcript, messages)
VALUES (@call_id, @user_id, sqlc.narg(transcript), coalesce(sqlc.narg(messages)::jsonb, '[]'::jsonb))
ON CONFLICT (call_id) DO UPDATE SET
    transcript = coalesce(excluded.transcript, call_details.transcript),
    messages   = coalesce(sqlc.narg(messages)::jsonb, call_details.messages);
