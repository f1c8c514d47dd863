-- The callback queue and the rules that fill it. Every query takes user_id and filters by
-- it; row-level security confines them as well.

-- name: ListOpenCallbacks :many
-- The queue: one keyset page of the clinic's open callbacks, oldest first (its partial
-- index), optionally one assignee's or the unassigned ones; each with what the queue shows
-- of its call.
SELECT b.*, c.caller_number, c.started_at AS call_started_at, c.handling, c.disposition
FROM callbacks b
JOIN calls c ON c.id = b.call_id AND c.user_id = b.user_id
WHERE b.user_id = @user_id AND b.status = 'open'
  AND (sqlc.narg(assignee)::text IS NULL OR b.assignee = sqlc.narg(assignee))
  AND (NOT @unassigned::boolean OR b.assignee IS NULL)
  AND (b.created_at, b.id) > (@after_created_at::timestamptz, @after_id::uuid)
ORDER BY b.created_at, b.id
LIMIT @row_limit;

-- name: ListCompletedCallbacks :many
-- One keyset page of the clinic's completed callbacks, newest first, optionally one
-- assignee's.
SELECT b.*, c.caller_number, c.started_at AS call_started_at, c.handling, c.disposition
FROM callbacks b
JOIN calls c ON c.id = b.call_id AND c.user_id = b.user_id
WHERE b.user_id = @user_id AND b.status = 'completed'
  AND (sqlc.narg(assignee)::text IS NULL OR b.assignee = sqlc.narg(assignee))
  AND (NOT @unassigned::boolean OR b.assignee IS NULL)
  AND (b.created_at, b.id) < (@before_created_at::timestamptz, @before_id::uuid)
ORDER BY b.created_at DESC, b.id DESC
LIMIT @row_limit;

-- name: OpenCallback :one
-- Staff open a callback for a call. Fails on callbacks_one_open_key when the call has an
-- open one already, and on the foreign key when the call is not the clinic's.
INSERT INTO callbacks (user_id, call_id, reason, created_by, assignee, assigned_by, assigned_at)
VALUES (@user_id, @call_id, 'requested_by_staff', @created_by, sqlc.narg(assignee),
        CASE WHEN sqlc.narg(assignee)::text IS NOT NULL THEN @created_by END,
        CASE WHEN sqlc.narg(assignee)::text IS NOT NULL THEN now() END)
RETURNING *;

-- name: GetCallback :one
SELECT * FROM callbacks WHERE user_id = @user_id AND id = @id;

-- name: AssignCallback :one
-- Assigns an open callback (null assignee: unassigns it). No row: missing or completed.
UPDATE callbacks SET assignee = sqlc.narg(assignee), assigned_by = @assigned_by, assigned_at = now()
WHERE user_id = @user_id AND id = @id AND status = 'open'
RETURNING *;

-- name: CompleteCallback :one
-- Completes an open callback with its outcome. No row: missing or completed already.
UPDATE callbacks SET status = 'completed', outcome = @outcome, outcome_notes = sqlc.narg(outcome_notes),
    completed_by = @completed_by, completed_at = now()
WHERE user_id = @user_id AND id = @id AND status = 'open'
RETURNING *;

-- name: GetCallbackRules :one
SELECT * FROM callback_rules WHERE user_id = @user_id;

-- name: PutCallbackRules :one
INSERT INTO callback_rules (user_id, on_failed, short_call_seconds, on_voicemail, on_after_hours, requested_field, updated_by)
VALUES (@user_id, @on_failed, sqlc.narg(short_call_seconds), @on_voicemail, @on_after_hours, sqlc.narg(requested_field), @updated_by)
ON CONFLICT (user_id) DO UPDATE SET
    on_failed          = excluded.on_failed,
    short_call_seconds = excluded.short_call_seconds,
    on_voicemail       = excluded.on_voicemail,
    on_after_hours     = excluded.on_after_hours,
    requested_field    = excluded.requested_field,
    updated_by         = excluded.updated_by,
    updated_at         = now()
RETURNING *;
