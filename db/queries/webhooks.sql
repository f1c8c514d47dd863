-- Queries the webhooks run before they know the tenant, as the service's login role:
-- they find who owns a call, and how its owner routes it, and nothing more. Everything they then read or write about
-- the call happens in that tenant's transaction (see lifecycle.sql).

-- name: FindOwnerCandidates :many
-- The active, verified numbers among a call's numbers (a pending claim routes nothing),
-- found through the verified_numbers lookup;
-- the caller picks by precedence. With each comes what routing the call needs, in the
-- same round trip: the number's routing policy (its own, else its clinic's; null when the
-- clinic set none) and whether the clinic blocked the caller.
SELECT p.id, p.user_id, p.phone_number, p.vapi_assistant_id, p.vapi_phone_number_id,
    (SELECT to_jsonb(r) FROM routing_policies r
     WHERE r.user_id = p.user_id AND (r.phone_number_id = p.id OR r.phone_number_id IS NULL)
     ORDER BY r.phone_number_id NULLS LAST LIMIT 1)::jsonb AS policy,
    EXISTS (SELECT 1 FROM blocked_callers b
            WHERE b.user_id = p.user_id AND b.phone_number = sqlc.arg(caller)::text) AS caller_blocked,
    hipaa_mode(p.user_id)::boolean AS hipaa_mode
FROM verified_numbers v
JOIN phone_numbers p ON p.user_id = v.user_id AND p.id = v.phone_number_id
WHERE v.phone_number = ANY(@numbers::text[]) AND p.is_active;

-- name: FindCallRouting :one
-- The call with this CallSid, its owner, and the routing policy its number follows (for
-- the rest of a call Twilio asks about: a forward nobody answered goes to voicemail).
SELECT c.id, c.user_id,
    (SELECT to_jsonb(r) FROM routing_policies r
     WHERE r.user_id = c.user_id AND (r.phone_number_id = c.phone_number_id OR r.phone_number_id IS NULL)
     ORDER BY r.phone_number_id NULLS LAST LIMIT 1)::jsonb AS policy
FROM call_sids k
JOIN calls c ON c.user_id = k.user_id AND c.id = k.call_id
WHERE k.twilio_call_sid = @twilio_call_sid
  AND NOT EXISTS (SELECT 1 FROM closed_tenants t WHERE t.user_id = c.user_id);

-- name: FindCallOwnerBySid :one
-- A closed account's calls have no owner for the webhooks: what comes about them is kept
-- unattributed.
SELECT k.call_id AS id, k.user_id FROM call_sids k WHERE k.twilio_call_sid = @twilio_call_sid
  AND NOT EXISTS (SELECT 1 FROM closed_tenants t WHERE t.user_id = k.user_id);

-- name: FindVapiCallOwner :one
-- Who owns the call a VAPI message is about, in one statement, by precedence: the call
-- with VAPI's call id, then the call Switchboard named in the metadata (call_id) unless it
-- is bound to another VAPI call; for a call Switchboard never recorded (call_id null),
-- the tenant the metadata names, when the number the metadata names is that tenant's,
-- verified. No row: nobody owns it (a closed account owns nothing).
SELECT c.id AS call_id, coalesce(c.user_id, p.user_id)::text AS user_id, p.id AS phone_number_id
FROM (SELECT 1) AS message
LEFT JOIN LATERAL (
    -- The call bound to this VAPI call, through the vapi_calls lookup.
    SELECT calls.id, calls.user_id, 0 AS rank FROM vapi_calls k
    JOIN calls ON calls.user_id = k.user_id AND calls.id = k.call_id
    WHERE k.vapi_call_id = sqlc.narg(vapi_call_id)
    UNION ALL
    -- Else the call the metadata names, unless it is bound to a VAPI call (then to
    -- another: it is never this message's, whatever the metadata says).
    SELECT calls.id, calls.user_id, 1 FROM calls
    WHERE calls.id = sqlc.narg(call_id) AND calls.vapi_call_id IS NULL
    ORDER BY rank
    LIMIT 1
) AS c ON true
LEFT JOIN phone_numbers p
    ON c.id IS NULL AND p.id = sqlc.narg(phone_number_id) AND p.user_id = sqlc.narg(user_id)
   AND p.verification_status = 'verified'
WHERE (c.id IS NOT NULL OR p.id IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM closed_tenants t WHERE t.user_id = coalesce(c.user_id, p.user_id));

-- name: InsertWebhookEvent :one
-- Keeps an event, pending, before it is applied. Returns no row when the event is already
-- in the inbox.
INSERT INTO webhook_events (provider, event_key, event_type, payload, headers, received_at)
VALUES (@provider, @event_key, @event_type, @payload, @headers, coalesce(sqlc.narg(received_at)::timestamptz, now()))
ON CONFLICT (provider, event_key) DO NOTHING
RETURNING id, status;

-- name: RecordAppliedWebhookEvent :one
-- Keeps an event with how applying it ended, in the transaction that applied it. An event
-- already in the inbox keeps its record, unless that says it is still to be applied
-- (pending, or failed) or that nobody owned it and this delivery found the owner: its
-- outcome then replaces the record. When the record stays (a repeat), the statement fails
-- with SQLSTATE SW001, so that the transaction, whose commit travels with it, rolls back
-- what applying the repeat wrote.
WITH recorded AS (
    INSERT INTO webhook_events (provider, event_key, event_type, payload, headers, received_at,
                                status, error, user_id, call_id, processed_at)
    VALUES (@provider, @event_key, @event_type, @payload, @headers, coalesce(sqlc.narg(received_at)::timestamptz, now()),
            @status, sqlc.narg(error), sqlc.narg(user_id), sqlc.narg(call_id), now())
    ON CONFLICT (provider, event_key) DO UPDATE SET
        status       = excluded.status,
        error        = excluded.error,
        user_id      = excluded.user_id,
        call_id      = excluded.call_id,
        processed_at = excluded.processed_at
    WHERE webhook_events.status IN ('pending', 'failed')
       OR (webhook_events.status = 'unattributed' AND excluded.status = 'processed')
    RETURNING id
)
SELECT id FROM recorded
UNION ALL
SELECT webhook_event_repeat() WHERE NOT EXISTS (SELECT 1 FROM recorded);

-- name: GetWebhookEventByKey :one
SELECT id, status FROM webhook_events WHERE provider = @provider AND event_key = @event_key;

-- name: FinishWebhookEvent :exec
-- Records how applying an event ended. A failed event is due again after a backoff that
-- doubles with each attempt, up to an hour.
UPDATE webhook_events SET
    status          = @status,
    error           = sqlc.narg(error),
    user_id         = coalesce(sqlc.narg(user_id), user_id),
    call_id         = coalesce(sqlc.narg(call_id), call_id),
    processed_at    = CASE WHEN @status = 'failed' THEN processed_at ELSE now() END,
    next_attempt_at = CASE WHEN @status = 'failed'
        THEN now() + least(interval '1 hour', interval '15 seconds' * power(2, least(attempts, 12)))
        ELSE next_attempt_at END
WHERE id = @id;

-- name: ClaimDueWebhookEvents :many
-- Takes up to batch_size events that are due, leasing them for five minutes so that other
-- replicas skip them meanwhile; an event that was attempted max_attempts times stays
-- failed for an operator to look at.
UPDATE webhook_events SET
    attempts        = attempts + 1,
    next_attempt_at = now() + interval '5 minutes'
WHERE id IN (
    SELECT e.id FROM webhook_events e
    WHERE e.status IN ('pending', 'failed') AND e.next_attempt_at <= now() AND e.attempts < @max_attempts
      AND e.payload IS NOT NULL
    ORDER BY e.next_attempt_at
    LIMIT @batch_size
    FOR UPDATE SKIP LOCKED
)
RETURNING id, provider, event_key, event_type, payload, headers, attempts;

-- name: ListSettledCallEvents :many
-- Every tenant's settled call changes after a position, in order: what the live-update
-- hub delivers next.
SELECT id, user_id, call_id, kind, status, created_at, xid FROM call_events
WHERE (xid, id) > (@after_xid::bigint, @after_id::bigint) AND xid < call_events_horizon()
ORDER BY xid, id
LIMIT @row_limit;

-- name: CallEventsHorizon :one
-- Where the hub starts while no stream listens: after everything settled.
SELECT call_events_horizon()::bigint AS horizon;

-- name: PruneCallEvents :execrows
-- Live-update history older than a day is no longer needed to resume a stream.
DELETE FROM call_events WHERE created_at < now() - interval '1 day';

-- name: PruneInboxPayloads :execrows
-- Drops, in one bounded batch, the payloads and kept headers of events past their
-- retention: applied and ignored ones received before applied_before, failed and
-- unattributed ones (an operator may still need them) before held_before. Pending events
-- keep theirs. The rows stay: their keys still recognise repeat deliveries.
UPDATE webhook_events SET payload = NULL, headers = '{}'::jsonb, payload_pruned_at = now()
WHERE id IN (
    SELECT e.id FROM webhook_events e
    WHERE e.payload IS NOT NULL AND e.received_at < greatest(@applied_before::timestamptz, @held_before::timestamptz)
      AND ((e.status IN ('processed', 'ignored') AND e.received_at < @applied_before)
        OR (e.status IN ('failed', 'unattributed') AND e.received_at < @held_before))
    ORDER BY e.received_at
    LIMIT @batch_size
    FOR UPDATE SKIP LOCKED
);

-- name: InboxBacklog :one
-- For /metrics: events still to apply, and how long the oldest failed one has waited.
SELECT count(*) AS backlog,
       coalesce(extract(epoch FROM now() - min(received_at) FILTER (WHERE status = 'failed')), 0)::double precision AS oldest_failed_seconds
FROM webhook_events
WHERE status IN ('pending', 'failed');

-- name: ListStaleOpenCalls :many
-- Calls of any tenant still open long after they started, oldest first: reconciliation
-- asks VAPI what became of them (and then writes in each owner's tenant transaction).
SELECT id, user_id, vapi_call_id, handling FROM calls
WHERE NOT call_status_final(status) AND started_at < @started_before
ORDER BY started_at
LIMIT @batch_size;

-- name: IndexStaleCallSearch :execrows
-- Computes the search vectors of up to batch_size calls whose reports changed, across
-- tenants (it only derives each call's vector from its own text). SKIP LOCKED lets every
-- replica index at once without waiting on each other.
WITH due AS (
    SELECT user_id, call_id FROM call_details
    WHERE search_stale
    LIMIT @batch_size
    FOR UPDATE SKIP LOCKED
)
UPDATE call_details d
SET search = to_tsvector('english', coalesce(c.summary, '') || ' ' || coalesce(d.transcript, '')),
    search_stale = false
FROM due, calls c
WHERE d.user_id = due.user_id AND d.call_id = due.call_id AND c.user_id = due.user_id AND c.id = due.call_id;
