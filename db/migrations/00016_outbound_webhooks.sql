-- Outbound webhooks: a clinic's integrators register endpoints and receive signed events
-- (Standard Webhooks) about its calls and callbacks. An event becomes a delivery in the
-- transaction of the change it reports (a trigger on call_events, which every such change
-- writes), so none is lost and none is sent for a change that rolled back; the service
-- then hands deliveries to River, which delivers them with retries.

-- +goose Up
CREATE TABLE webhook_endpoints (
    id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
    user_id               text NOT NULL CHECK (user_id <> ''),
    url                   text NOT NULL CHECK (url ~ '^https?://'),
    description           text CHECK (length(description) <= 500),
    -- The event types wanted; empty: all of them.
    event_types           text[] NOT NULL DEFAULT '{}',
    -- whsec_… signing secrets; the previous one keeps signing beside the new one until
    -- previous_secret_until, so receivers can switch without missing a delivery.
    secret                text NOT NULL,
    previous_secret       text,
    previous_secret_until timestamptz,
    enabled               boolean NOT NULL DEFAULT true,
    disabled_reason       text,
    -- When the endpoint started failing every attempt (null while it answers).
    failing_since         timestamptz,
    created_by            text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, user_id)
);
CREATE INDEX webhook_endpoints_user_idx ON webhook_endpoints (user_id, created_at DESC);

CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT uuid_v7(),
    user_id         text NOT NULL CHECK (user_id <> ''),
    endpoint_id     uuid NOT NULL,
    event_type      text NOT NULL,
    call_id         uuid,
    callback_id     uuid,
    -- The body sent, fixed at the first attempt so that every retry and redelivery sends
    -- the same bytes (bytes, not jsonb, which would reorder them).
    payload         bytea,
    -- pending (in the outbox), queued (in River), succeeded, failed (retrying), dead
    -- (retries exhausted, or the endpoint was disabled or deleted).
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'queued', 'succeeded', 'failed', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    response_status integer,
    response_body   text CHECK (length(response_body) <= 4096),
    error           text,
    redelivery_of   uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    delivered_at    timestamptz,
    FOREIGN KEY (endpoint_id, user_id) REFERENCES webhook_endpoints (id, user_id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC);
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (id) WHERE status = 'pending';
-- Deliveries about one call to one endpoint go in order: the worker looks for earlier ones.
CREATE INDEX webhook_deliveries_call_idx ON webhook_deliveries (endpoint_id, call_id, id) WHERE status <> 'succeeded';

GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints, webhook_deliveries TO switchboard_tenant;
ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_endpoints TO switchboard_tenant
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_deliveries TO switchboard_tenant
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

-- +goose StatementBegin
-- Turns a call change into the events integrators subscribe to, one delivery for each of
-- the tenant's enabled endpoints that wants the event.
CREATE FUNCTION enqueue_webhook_deliveries() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    types         text[];
    call_handling text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE user_id = NEW.user_id AND enabled) THEN
        RETURN NULL;
    END IF;
    types := CASE NEW.kind
        WHEN 'created' THEN ARRAY['call.started']
        WHEN 'status_changed' THEN CASE WHEN call_status_final(NEW.status) THEN ARRAY['call.ended'] ELSE ARRAY[]::text[] END
        WHEN 'report_stored' THEN ARRAY['call.analysed']
        WHEN 'callback_opened' THEN ARRAY['callback.opened']
        WHEN 'callback_completed' THEN ARRAY['callback.completed']
        ELSE ARRAY[]::text[]
    END;
    IF NEW.kind = 'created' THEN
        SELECT c.handling INTO call_handling FROM calls c WHERE c.id = NEW.call_id;
        IF call_handling IN ('voicemail', 'forwarded') THEN
            types := types || 'call.routed'::text;
        END IF;
    END IF;
    INSERT INTO webhook_deliveries (user_id, endpoint_id, event_type, call_id)
    SELECT NEW.user_id, e.id, t.type, NEW.call_id
    FROM webhook_endpoints e CROSS JOIN unnest(types) AS t(type)
    WHERE e.user_id = NEW.user_id AND e.enabled
      AND (cardinality(e.event_types) = 0 OR t.type = ANY (e.event_types));
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER call_events_webhooks AFTER INSERT ON call_events
    FOR EACH ROW EXECUTE FUNCTION enqueue_webhook_deliveries();

-- +goose Down
DROP TRIGGER call_events_webhooks ON call_events;
DROP FUNCTION enqueue_webhook_deliveries();
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
