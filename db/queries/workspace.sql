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
-- composite foreign keys (a call's number, a call's details, a number's assistant, a
-- routing policy's number and assistant, a callback's call, all keyed with the tenant) are
-- checked once everything has moved. The audit log's entries move too: they are the
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
), moved_assistants AS (
    UPDATE assistants AS t SET user_id = sqlc.arg(to_tenant)::text WHERE t.user_id = sqlc.arg(from_tenant)::text RETURNING 1
), moved_routing AS (
    -- Numbers' own routing moves with them; the workspace's clinic-wide routing moves only
    -- when the organisation has none (the organisation's is the team's).
    UPDATE routing_policies AS t SET user_id = sqlc.arg(to_tenant)::text
    WHERE t.user_id = sqlc.arg(from_tenant)::text
      AND (t.phone_number_id IS NOT NULL OR NOT EXISTS (
          SELECT 1 FROM routing_policies o WHERE o.user_id = sqlc.arg(to_tenant)::text AND o.phone_number_id IS NULL))
    RETURNING 1
), dropped_routing AS (
    DELETE FROM routing_policies AS t
    WHERE t.user_id = sqlc.arg(from_tenant)::text AND t.phone_number_id IS NULL
      AND EXISTS (SELECT 1 FROM routing_policies o WHERE o.user_id = sqlc.arg(to_tenant)::text AND o.phone_number_id IS NULL)
    RETURNING 1
), copied_blocks AS (
    -- Blocked callers join the organisation's list; one it blocks already stays once.
    INSERT INTO blocked_callers (user_id, phone_number, reason, created_by, created_at)
    SELECT sqlc.arg(to_tenant)::text, b.phone_number, b.reason, b.created_by, b.created_at
    FROM blocked_callers b WHERE b.user_id = sqlc.arg(from_tenant)::text
    ON CONFLICT (user_id, phone_number) DO NOTHING
    RETURNING 1
), moved_callbacks AS (
    UPDATE callbacks AS t SET user_id = sqlc.arg(to_tenant)::text WHERE t.user_id = sqlc.arg(from_tenant)::text RETURNING 1
), moved_rules AS (
    -- The organisation's callback rules are the team's; the workspace's move only where it has none.
    UPDATE callback_rules AS t SET user_id = sqlc.arg(to_tenant)::text
    WHERE t.user_id = sqlc.arg(from_tenant)::text
      AND NOT EXISTS (SELECT 1 FROM callback_rules o WHERE o.user_id = sqlc.arg(to_tenant)::text)
    RETURNING 1
), dropped_rules AS (
    DELETE FROM callback_rules AS t
    WHERE t.user_id = sqlc.arg(from_tenant)::text
      AND EXISTS (SELECT 1 FROM callback_rules o WHERE o.user_id = sqlc.arg(to_tenant)::text)
    RETURNING 1
), removed_blocks AS (
    DELETE FROM blocked_callers AS t WHERE t.user_id = sqlc.arg(from_tenant)::text RETURNING 1
)
SELECT (SELECT count(*) FROM numbers) AS phone_numbers,
       (SELECT count(*) FROM moved_calls) AS calls,
       (SELECT count(*) FROM inbox) AS webhook_events,
       (SELECT count(*) FROM moved_assistants) AS assistants,
       (SELECT count(*) FROM removed_blocks) AS blocked_callers,
       ((SELECT count(*) FROM dropped_routing) + (SELECT count(*) FROM dropped_rules))::bigint AS dropped_settings;
