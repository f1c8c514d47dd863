-- Closing accounts, as the service, from Clerk's webhooks; and deleting a closed
-- account's data once its grace period is over (the purge job).

-- name: RecordClerkEvent :one
-- Keeps a verified Clerk event by Svix's message id, pending; a repeat answers the status
-- the first delivery reached.
INSERT INTO clerk_events (svix_id, event_type, tenant_id, member_id, occurred_at)
VALUES (@svix_id, @event_type, sqlc.narg(tenant_id), sqlc.narg(member_id), @occurred_at)
ON CONFLICT (svix_id) DO UPDATE SET svix_id = excluded.svix_id
RETURNING status;

-- name: FinishClerkEvent :exec
UPDATE clerk_events SET status = @status, error = sqlc.narg(error) WHERE svix_id = @svix_id;

-- name: CloseTenant :one
-- Closes a tenant, once: from now on every tenant transaction refuses it (tenant_open),
-- and its numbers are released (back to unproven claims, which route nothing and which
-- another clinic may prove). Answers whether this call closed it.
WITH closed AS (
    INSERT INTO closed_tenants (user_id, reason, delete_after)
    VALUES (@user_id, @reason, @delete_after)
    ON CONFLICT (user_id) DO NOTHING
    RETURNING user_id
), released AS (
    UPDATE phone_numbers SET verification_status = 'pending', verified_at = NULL, verified_by = NULL, is_active = false
    WHERE user_id = @user_id AND EXISTS (SELECT 1 FROM closed)
)
SELECT EXISTS (SELECT 1 FROM closed)::boolean AS closed;

-- name: RemoveMember :execrows
-- Ends a member's access to an organisation: sessions issued up to removed_at are refused
-- (a reordered, older removal never moves that back), and the open callbacks assigned to
-- them up to then are unassigned. Answers how many were.
WITH removed AS (
    INSERT INTO removed_members (user_id, member_id, removed_at) VALUES (@user_id, @member_id, @removed_at)
    ON CONFLICT (user_id, member_id) DO UPDATE SET removed_at = greatest(removed_members.removed_at, excluded.removed_at)
)
UPDATE callbacks b SET assignee = NULL, assigned_by = 'clerk', assigned_at = now()
WHERE b.user_id = @user_id AND b.assignee = @member_id::text AND b.status = 'open' AND b.assigned_at <= @removed_at::timestamptz;

-- name: UnassignDeletedUser :execrows
-- A deleted user's open callbacks, in every clinic, are unassigned.
UPDATE callbacks SET assignee = NULL, assigned_by = 'clerk', assigned_at = now()
WHERE assignee = @member_id::text AND status = 'open';

-- name: DueClosedTenants :many
SELECT user_id FROM closed_tenants WHERE deleted_at IS NULL AND delete_after <= @now ORDER BY delete_after LIMIT 100;

-- name: DeleteTenantAudit :execrows
-- A closed tenant's audit log, in bounded batches.
DELETE FROM audit_events WHERE id IN (SELECT a.id FROM audit_events a WHERE a.user_id = @user_id LIMIT @batch_size);

-- name: DeleteTenantRemains :exec
-- Everything else of a closed tenant's, once its calls are gone; the closed_tenants row
-- stays, with when it was deleted. Inbox rows stay too, their payloads gone with the calls
-- (or dropped by the inbox's retention): their keys hold nothing of a patient's.
WITH gone_callbacks AS (DELETE FROM callbacks WHERE user_id = @user_id),
     gone_rules AS (DELETE FROM callback_rules WHERE user_id = @user_id),
     gone_deliveries AS (DELETE FROM webhook_deliveries WHERE user_id = @user_id),
     gone_endpoints AS (DELETE FROM webhook_endpoints WHERE user_id = @user_id),
     gone_policies AS (DELETE FROM routing_policies WHERE user_id = @user_id),
     gone_numbers AS (DELETE FROM phone_numbers WHERE user_id = @user_id),
     gone_assistants AS (DELETE FROM assistants WHERE user_id = @user_id),
     gone_blocked AS (DELETE FROM blocked_callers WHERE user_id = @user_id),
     gone_settings AS (DELETE FROM clinic_settings WHERE user_id = @user_id),
     gone_purges AS (DELETE FROM retention_purges WHERE user_id = @user_id),
     gone_progress AS (DELETE FROM retention_progress WHERE user_id = @user_id),
     gone_events AS (DELETE FROM call_events WHERE user_id = @user_id),
     gone_members AS (DELETE FROM removed_members WHERE user_id = @user_id)
UPDATE closed_tenants t SET deleted_at = now() WHERE t.user_id = @user_id;

-- name: TenantOpen :one
-- Nothing but the tenant transaction's own check (tenant_open): for a request that reads
-- no table first, such as opening a live stream.
SELECT true::boolean AS open;
