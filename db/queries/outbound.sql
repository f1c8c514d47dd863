-- Outbound webhooks: a clinic's endpoints and their deliveries (as the tenant), and the
-- delivery work (as the service, across tenants: it only moves deliveries along).

-- name: CreateWebhookEndpoint :one
INSERT INTO webhook_endpoints (user_id, url, description, event_types, secret, created_by)
VALUES (@user_id, @url, sqlc.narg(description), @event_types, @secret, sqlc.narg(created_by))
RETURNING *;

-- name: ListWebhookEndpoints :many
SELECT * FROM webhook_endpoints WHERE user_id = @user_id ORDER BY created_at DESC, id DESC;

-- name: GetWebhookEndpoint :one
SELECT * FROM webhook_endpoints WHERE user_id = @user_id AND id = @id;

-- name: UpdateWebhookEndpoint :one
-- Each field comes with a set_ flag. Enabling an endpoint clears why it was disabled and
-- its failure streak.
UPDATE webhook_endpoints SET
    url             = CASE WHEN @set_url::boolean THEN @url ELSE url END,
    description     = CASE WHEN @set_description::boolean THEN sqlc.narg(description) ELSE description END,
    event_types     = CASE WHEN @set_event_types::boolean THEN @event_types::text[] ELSE event_types END,
    enabled         = coalesce(sqlc.narg(enabled), enabled),
    disabled_reason = CASE WHEN sqlc.narg(enabled)::boolean IS NULL THEN disabled_reason
                           WHEN sqlc.narg(enabled)::boolean THEN NULL ELSE 'disabled by the clinic' END,
    failing_since   = CASE WHEN sqlc.narg(enabled)::boolean THEN NULL ELSE failing_since END,
    updated_at      = now()
WHERE user_id = @user_id AND id = @id
RETURNING *;

-- name: RotateWebhookSecret :one
-- The new secret signs from now on; the old one signs beside it until grace_until.
UPDATE webhook_endpoints SET
    previous_secret = secret, previous_secret_until = @grace_until, secret = @secret, updated_at = now()
WHERE user_id = @user_id AND id = @id
RETURNING *;

-- name: DeleteWebhookEndpoint :execrows
DELETE FROM webhook_endpoints WHERE user_id = @user_id AND id = @id;

-- name: CreateTestDelivery :one
INSERT INTO webhook_deliveries (user_id, endpoint_id, event_type, payload)
VALUES (@user_id, @endpoint_id, 'webhook.test', @payload)
RETURNING *;

-- name: Redeliver :one
-- A new delivery of an earlier one's event, with the same body once it had one.
INSERT INTO webhook_deliveries (user_id, endpoint_id, event_type, call_id, callback_id, payload, redelivery_of)
SELECT d.user_id, d.endpoint_id, d.event_type, d.call_id, d.callback_id, d.payload, coalesce(d.redelivery_of, d.id)
FROM webhook_deliveries d
WHERE d.user_id = @user_id AND d.id = @id
RETURNING *;

-- name: ListWebhookDeliveries :many
-- Newest first by id (time-ordered), before before_id.
SELECT * FROM webhook_deliveries
WHERE user_id = @user_id AND endpoint_id = @endpoint_id AND id < @before_id
ORDER BY id DESC
LIMIT @row_limit;

-- name: ClaimPendingDeliveries :many
-- Moves up to batch_size deliveries from the outbox to the queue; the caller enqueues
-- their River jobs in the same transaction.
UPDATE webhook_deliveries SET status = 'queued'
WHERE id IN (SELECT d.id FROM webhook_deliveries d WHERE d.status = 'pending' ORDER BY d.id
             LIMIT @batch_size FOR UPDATE SKIP LOCKED)
RETURNING id;

-- name: GetDeliveryToSend :one
-- The delivery, its endpoint, and whether an earlier delivery about the same call to the
-- same endpoint is still on its way (this one then waits). Its message id is its first delivery's: a redelivery is the
-- same message again, which receivers that keep ids recognise.
SELECT d.id, coalesce(d.redelivery_of, d.id)::uuid AS message_id, d.user_id, d.event_type, d.call_id, d.payload, d.status, d.created_at,
       e.id AS endpoint_id, e.url, e.secret, e.previous_secret, e.previous_secret_until, e.enabled, e.failing_since,
       (d.call_id IS NOT NULL AND EXISTS (
           SELECT 1 FROM webhook_deliveries p
           WHERE p.endpoint_id = d.endpoint_id AND p.call_id = d.call_id AND p.id < d.id
             AND p.status IN ('pending', 'queued', 'failed')))::boolean AS waiting
FROM webhook_deliveries d
JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.user_id = d.user_id
WHERE d.id = @id;

-- name: RecordDeliveryAttempt :exec
UPDATE webhook_deliveries SET
    payload         = coalesce(payload, @payload),
    status          = @status,
    attempts        = attempts + 1,
    response_status = sqlc.narg(response_status),
    response_body   = sqlc.narg(response_body),
    error           = sqlc.narg(error),
    last_attempt_at = now(),
    delivered_at    = CASE WHEN @status = 'succeeded' THEN now() ELSE delivered_at END
WHERE id = @id;

-- name: MarkDeliveryDead :exec
UPDATE webhook_deliveries SET status = 'dead', error = coalesce(sqlc.narg(error), error) WHERE id = @id;

-- name: EndpointAnswered :exec
UPDATE webhook_endpoints SET failing_since = NULL WHERE id = @id AND failing_since IS NOT NULL;

-- name: EndpointFailed :one
-- Starts or continues the endpoint's failure streak; one that has failed every attempt
-- for longer than disable_after is disabled, with the reason. Returns whether it is.
UPDATE webhook_endpoints SET
    failing_since   = coalesce(failing_since, now()),
    enabled         = enabled AND coalesce(failing_since, now()) > now() - @disable_after::interval,
    disabled_reason = CASE WHEN enabled AND coalesce(failing_since, now()) <= now() - @disable_after::interval
                           THEN @reason ELSE disabled_reason END
WHERE id = @id
RETURNING enabled;

-- name: GetCallSummaryForWebhook :one
-- The call an event is about, read in its tenant's transaction to build the event's body.
SELECT * FROM call_summaries WHERE user_id = @user_id AND id = @id;

-- name: PruneWebhookDeliveries :execrows
-- Deletes, in one bounded batch, deliveries that are over (succeeded or dead) and were
-- created before created_before: their bodies hold the calls they were about.
DELETE FROM webhook_deliveries
WHERE id IN (SELECT d.id FROM webhook_deliveries d
             WHERE d.status IN ('succeeded', 'dead') AND d.created_at < @created_before
             ORDER BY d.id LIMIT @batch_size FOR UPDATE SKIP LOCKED);
