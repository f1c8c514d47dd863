-- Moving a personal workspace into an organisation: the operator's, as the service, in
-- one transaction.

-- name: WorkspaceConflicts :many
-- The numbers of the workspace the organisation holds too: the move is refused for them.
SELECT p.phone_number FROM phone_numbers p
JOIN phone_numbers o ON o.phone_number = p.phone_number AND o.user_id = @to_tenant
WHERE p.user_id = @from_tenant
ORDER BY p.phone_number;

-- name: MoveWorkspace :one
-- Moves every row of tenant from_tenant to tenant to_tenant in one statement, so that the
-- composite foreign keys (a call's number, a call's details, both keyed with the tenant)
-- are checked once everything has moved. The audit log's entries move too: they are the
-- history of the same data.
WITH numbers AS (
    UPDATE phone_numbers AS t SET user_id = sqlc.arg(to_tenant)::text WHERE t.user_id = sqlc.arg(from_tenant)::text RETURNING 1
), moved_calls AS (
    UPDATE calls AS t SET user_id = sqlc.arg(to_tenant)::text WHERE t.user_id = sqlc.arg(from_tenant)::text RETURNING 1
), details AS (
    UPDATE call_details AS t SET user_id = sqlc.arg(to_tenant)::text WHERE t.user_id = sqlc.arg(from_tenant)::text RETURNING 1
), events AS (
    UPDATE call_events AS t SET user_id = sqlc.arg(to_tenant)::text WHERE t.user_id = sqlc.arg(from_tenant)::text RETURNING 1
), inbox AS (
    UPDATE webhook_events AS t SET user_id = sqlc.arg(to_tenant)::text WHERE t.user_id = sqlc.arg(from_tenant)::text RETURNING 1
), audit AS (
    UPDATE audit_events AS t SET user_id = sqlc.arg(to_tenant)::text WHERE t.user_id = sqlc.arg(from_tenant)::text RETURNING 1
)
SELECT (SELECT count(*) FROM numbers) AS phone_numbers,
       (SELECT count(*) FROM moved_calls) AS calls,
       (SELECT count(*) FROM inbox) AS webhook_events;
