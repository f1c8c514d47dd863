-- The call lifecycle: what the webhooks need on calls, and the inbox that keeps every
-- authenticated webhook request so that nothing accepted is lost.

-- +goose Up

-- VAPI's TwiML answer is kept with the call, so a retried Twilio request answers the same.
ALTER TABLE calls ADD COLUMN twiml text;

-- Status order: a call only moves forward, so late or reordered updates cannot move an
-- ended call back. Both terminal states share the highest rank: neither replaces the other.
-- +goose StatementBegin
CREATE FUNCTION call_status_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE status
        WHEN 'initiated' THEN 0
        WHEN 'ringing' THEN 1
        WHEN 'in_progress' THEN 2
        WHEN 'forwarding' THEN 3
        WHEN 'ended' THEN 4
        WHEN 'failed' THEN 4
    END
$$;
-- +goose StatementEnd

GRANT EXECUTE ON FUNCTION call_status_rank(text) TO switchboard_tenant;

-- What the API shows of a call: everything but the webhook plumbing (twiml). Lists and
-- single calls read through it, so both map to one type. security_invoker makes the
-- calls table's row-level security apply to whoever reads the view.
CREATE VIEW call_summaries WITH (security_invoker = true) AS
SELECT id, user_id, phone_number_id, status, direction, caller_number, clinic_number,
       assistant_number, matched_by, twilio_call_sid, vapi_call_id, started_at, ended_at,
       duration_seconds, ended_reason, recording_url, stereo_recording_url, summary,
       success_evaluation, structured_data, cost, created_at, updated_at
FROM calls;

GRANT SELECT ON call_summaries TO switchboard_tenant;

-- The inbox: every webhook request that passed authentication, stored raw before (or
-- atomically with) processing. event_key makes deliveries of the same event one row.
CREATE TABLE webhook_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider        text NOT NULL CHECK (provider IN ('twilio', 'vapi')),
    event_key       text NOT NULL,
    event_type      text NOT NULL,
    payload         bytea NOT NULL,
    headers         jsonb NOT NULL DEFAULT '{}'::jsonb,
    received_at     timestamptz NOT NULL DEFAULT now(),
    -- pending: stored, not yet applied; processed: applied; unattributed: kept, owned by no
    -- tenant; ignored: a type Switchboard does not act on; failed: applying it failed.
    status          text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'processed', 'unattributed', 'ignored', 'failed')),
    error           text,
    attempts        integer NOT NULL DEFAULT 0,
    -- When reprocessing may next pick the event up. A fresh event gets a grace period in
    -- which the request that stored it applies it.
    next_attempt_at timestamptz NOT NULL DEFAULT now() + interval '1 minute',
    processed_at    timestamptz,
    user_id         text,
    call_id         uuid,
    UNIQUE (provider, event_key)
);

-- Serves reprocessing: the events still to apply, oldest due first.
CREATE INDEX webhook_events_due_idx ON webhook_events (next_attempt_at)
    WHERE status IN ('pending', 'failed');

-- Raw payloads hold every tenant's transcripts before they are attributed: the tenant role
-- gets no grant and no policy, so a tenant transaction can never read the inbox.
ALTER TABLE webhook_events ENABLE ROW LEVEL SECURITY;

-- +goose Down
DROP TABLE webhook_events;
DROP VIEW call_summaries;
DROP FUNCTION call_status_rank(text);
ALTER TABLE calls DROP COLUMN twiml;
