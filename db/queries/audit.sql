-- name: InsertAuditEvent :exec
-- One entry of the tenant's audit log, in the transaction of what it records.
INSERT INTO audit_events (user_id, actor, action, target_type, target_id, detail, request_id, client_address, user_agent)
VALUES (@user_id, @actor, @action, @target_type, sqlc.narg(target_id), @detail,
        sqlc.narg(request_id), sqlc.narg(client_address), sqlc.narg(user_agent));

-- name: ListAuditEvents :many
-- One keyset page of the tenant's audit log, newest first, with optional filters.
SELECT * FROM audit_events a
WHERE a.user_id = @user_id
  AND a.created_at >= @since
  AND a.created_at < @until
  AND (a.created_at, a.id) < (@before_created_at::timestamptz, @before_id::bigint)
  AND (sqlc.narg(action)::text IS NULL OR a.action = sqlc.narg(action))
  AND (sqlc.narg(actor)::text IS NULL OR a.actor = sqlc.narg(actor))
  AND (sqlc.narg(target_id)::text IS NULL OR a.target_id = sqlc.narg(target_id))
ORDER BY a.created_at DESC, a.id DESC
LIMIT @row_limit;

-- name: AuditCallRead :exec
-- An entry for a read of one of the tenant's calls, written only when the call is the
-- tenant's: it travels in the read's own round trip, before the read, and must not record
-- a read of a call that is not there.
INSERT INTO audit_events (user_id, actor, action, target_type, target_id, detail, request_id, client_address, user_agent)
SELECT c.user_id, @actor, @action, 'call', c.id::text, '{}'::jsonb,
       sqlc.narg(request_id), sqlc.narg(client_address), sqlc.narg(user_agent)
FROM calls c
WHERE c.user_id = @user_id AND c.id = @call_id;
