-- name: ListCalls :many
-- One keyset page, newest first. The filters are declared here once; every way of
-- listing calls reads through this query. The bounds are always present (the caller
-- passes the widest instants and the largest uuid for "no bound") so that even a generic
-- plan reads the (user_id, started_at, id) index as a range instead of filtering from the
-- top. A search passes either its few matches as ids (read by id: the caller makes that
-- execution plan for its ids, see PlanForTheseParameters) or, when its matches are many,
-- the query itself, and the range is then filtered by search_call_ids (which reads the GIN
-- indexes; see its comment in the migrations).
SELECT * FROM call_summaries c
WHERE c.user_id = @user_id
  AND c.started_at >= @since
  AND c.started_at < @until
  AND (c.started_at, c.id) < (@before_started_at::timestamptz, @before_id::uuid)
  AND (sqlc.narg(status)::text IS NULL OR c.status = sqlc.narg(status))
  AND (sqlc.narg(phone_number_id)::uuid IS NULL OR c.phone_number_id = sqlc.narg(phone_number_id))
  AND (sqlc.narg(ended_reason)::text IS NULL OR c.ended_reason = sqlc.narg(ended_reason))
  AND (sqlc.narg(succeeded)::boolean IS NULL OR c.succeeded = sqlc.narg(succeeded))
  AND (sqlc.narg(min_duration)::integer IS NULL OR c.duration_seconds >= sqlc.narg(min_duration))
  AND (sqlc.narg(max_duration)::integer IS NULL OR c.duration_seconds <= sqlc.narg(max_duration))
  AND (sqlc.narg(direction)::text IS NULL OR c.direction = sqlc.narg(direction))
  AND (sqlc.narg(handling)::text IS NULL OR c.handling = sqlc.narg(handling))
  AND (sqlc.narg(disposition)::text IS NULL OR c.disposition = sqlc.narg(disposition))
  AND (sqlc.narg(tag)::text IS NULL OR c.tags @> ARRAY[sqlc.narg(tag)::text])
  AND (sqlc.narg(ids)::uuid[] IS NULL OR c.id = ANY(sqlc.narg(ids)::uuid[]))
  AND (sqlc.narg(query)::text IS NULL
       OR c.id IN (SELECT search_call_ids(sqlc.narg(query), sqlc.narg(digits)::text)))
ORDER BY c.started_at DESC, c.id DESC
LIMIT @row_limit;

-- name: SearchCallIDs :many
-- The current tenant's calls a search matches, up to a cap: when they are few, the page is
-- read by id (ListCalls with ids) instead of scanning the tenant's calls for them.
SELECT id::uuid AS id FROM search_call_ids(@query, sqlc.narg(digits)::text) AS id
LIMIT @cap;

-- name: PlanForTheseParameters :exec
-- Until the transaction ends, every statement is planned for the values it is given. A
-- prepared statement is otherwise planned once for any values after a few executions,
-- and ListCalls's plan for "no ids" (walk the time index) is the wrong one for a search's
-- few ids (read them by id).
SELECT set_config('plan_cache_mode', 'force_custom_plan', true);

-- name: GetCall :one
SELECT sqlc.embed(c), d.transcript, d.transcript_purged_at, coalesce(d.messages, '[]'::json)::json AS messages,
       (SELECT f.notes FROM calls f WHERE f.id = c.id AND f.user_id = c.user_id) AS notes
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

-- name: CallEventPosition :one
-- Where the tenant's event with this id stands in the order live streams deliver events.
SELECT xid, id FROM call_events WHERE user_id = @user_id AND id = @id;

-- name: ListCallEventsAfter :many
-- The tenant's settled call changes after a position, in the order live streams deliver
-- them (see 00007_settled_call_events.sql): what a reconnecting live stream missed.
SELECT id, call_id, kind, status, created_at, xid FROM call_events
WHERE user_id = @user_id AND (xid, id) > (@after_xid::bigint, @after_id::bigint)
  AND xid < call_events_horizon()
ORDER BY xid, id
LIMIT @row_limit;

-- name: GetCallFollowUp :one
SELECT id, disposition, notes, tags, follow_up_version, follow_up_by, follow_up_at
FROM calls WHERE user_id = @user_id AND id = @id;

-- name: UpdateCallFollowUp :one
-- Changes a call's follow-up when it is still at the version the editor read (expected;
-- -1 for whatever is current), and counts the edit. No row: the call is missing or the
-- version is stale. Each field
-- comes with a set_ flag, so that null clears it and a field left out keeps its value.
UPDATE calls SET
    disposition       = CASE WHEN @set_disposition::boolean THEN sqlc.narg(disposition) ELSE disposition END,
    notes             = CASE WHEN @set_notes::boolean THEN sqlc.narg(notes) ELSE notes END,
    tags              = CASE WHEN @set_tags::boolean THEN @tags::text[] ELSE tags END,
    follow_up_version = follow_up_version + 1,
    follow_up_by      = @follow_up_by,
    follow_up_at      = now()
WHERE user_id = @user_id AND id = @id AND (@expected_version::integer IN (-1, follow_up_version))
RETURNING id, disposition, notes, tags, follow_up_version, follow_up_by, follow_up_at;
