-- The callback queue: calls a human should call back, opened by staff or by the clinic's
-- rules (a failed call, a very short one, a voicemail, a call after hours, a caller who
-- asked for one in VAPI's analysis), assigned to a member and completed with an outcome.
-- The rules are applied by a trigger on calls, so every way a call changes (live webhooks,
-- reprocessing, reconciliation) applies them the same way, in the change's transaction.

-- +goose Up
-- VAPI's structured outputs (artifact.structuredOutputs: {id: {name, result}}), kept
-- beside analysis.structuredData.
ALTER TABLE calls ADD COLUMN structured_outputs jsonb CHECK (jsonb_typeof(structured_outputs) = 'object');

-- A clinic's rules; no row means the defaults.
CREATE TABLE callback_rules (
    user_id            text PRIMARY KEY CHECK (user_id <> ''),
    on_failed          boolean NOT NULL DEFAULT true,
    -- A call that ended within this many seconds; null: the rule is off.
    short_call_seconds integer DEFAULT 20 CHECK (short_call_seconds BETWEEN 1 AND 600),
    on_voicemail       boolean NOT NULL DEFAULT true,
    on_after_hours     boolean NOT NULL DEFAULT true,
    -- The field of VAPI's analysis (structuredData) or the name of a structured output whose
    -- true value means "the caller asked for a callback"; null: the rule is off.
    requested_field    text DEFAULT 'callbackRequested' CHECK (length(requested_field) BETWEEN 1 AND 100),
    updated_by         text,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE callbacks (
    id            uuid PRIMARY KEY DEFAULT uuid_v7(),
    user_id       text NOT NULL CHECK (user_id <> ''),
    call_id       uuid NOT NULL,
    reason        text NOT NULL CHECK (reason IN ('requested_by_staff', 'caller_asked', 'call_failed',
                      'voicemail', 'after_hours', 'short_call')),
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed')),
    assignee      text,
    outcome       text CHECK (outcome IN ('reached', 'no_answer', 'left_message', 'not_needed', 'other')),
    outcome_notes text CHECK (length(outcome_notes) <= 10000),
    created_by    text NOT NULL, -- 'rule', or who opened it
    created_at    timestamptz NOT NULL DEFAULT now(),
    assigned_by   text,
    assigned_at   timestamptz,
    completed_by  text,
    completed_at  timestamptz,
    CHECK ((status = 'completed') = (completed_at IS NOT NULL AND outcome IS NOT NULL)),
    FOREIGN KEY (call_id, user_id) REFERENCES calls (id, user_id) ON DELETE CASCADE
);
-- One open callback per call. Keyed with the tenant too, so that another tenant naming the
-- call meets the foreign key (no such call), never this index (which would tell it exists).
CREATE UNIQUE INDEX callbacks_one_open_key ON callbacks (user_id, call_id) WHERE status = 'open';
-- The queue: a clinic's open callbacks, oldest first.
CREATE INDEX callbacks_open_idx ON callbacks (user_id, created_at, id) WHERE status = 'open';
CREATE INDEX callbacks_user_idx ON callbacks (user_id, created_at DESC, id DESC);
CREATE INDEX callbacks_call_idx ON callbacks (call_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON callback_rules, callbacks TO switchboard_tenant;
ALTER TABLE callback_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON callback_rules TO switchboard_tenant
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));
ALTER TABLE callbacks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON callbacks TO switchboard_tenant
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

-- +goose StatementBegin
-- Opens a callback for a call when one of its clinic's rules says so, once per call: a
-- call that had a callback (open or done) gets no second one from the rules. Declined
-- calls (blocked, spam, rejected while closed) never do.
CREATE FUNCTION open_callback_by_rule() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    r      record;
    reason text;
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.status, NEW.handling, NEW.duration_seconds, NEW.structured_data::text, NEW.structured_outputs::text)
        IS NOT DISTINCT FROM (OLD.status, OLD.handling, OLD.duration_seconds, OLD.structured_data::text, OLD.structured_outputs::text) THEN
        RETURN NULL;
    END IF;
    IF NEW.handling IN ('blocked', 'spam_rejected', 'closed_rejected') THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(c.on_failed, true) AS on_failed,
           CASE WHEN c.user_id IS NULL THEN 20 ELSE c.short_call_seconds END AS short_call_seconds,
           coalesce(c.on_voicemail, true) AS on_voicemail,
           coalesce(c.on_after_hours, true) AS on_after_hours,
           CASE WHEN c.user_id IS NULL THEN 'callbackRequested' ELSE c.requested_field END AS requested_field
    INTO r
    FROM (SELECT 1) AS one LEFT JOIN callback_rules c ON c.user_id = NEW.user_id;
    reason := CASE
        WHEN r.requested_field IS NOT NULL AND (
                 NEW.structured_data -> r.requested_field = 'true'::jsonb
              OR jsonb_path_exists(NEW.structured_outputs, '$.* ? (@.name == $f && @.result == true)',
                                   jsonb_build_object('f', r.requested_field)))
            THEN 'caller_asked'
        WHEN r.on_failed AND NEW.status = 'failed' THEN 'call_failed'
        WHEN r.on_voicemail AND NEW.handling = 'voicemail' THEN 'voicemail'
        WHEN r.on_after_hours AND NEW.handling_reason IN ('closed', 'closure') THEN 'after_hours'
        WHEN r.short_call_seconds IS NOT NULL AND NEW.status = 'ended' AND NEW.duration_seconds < r.short_call_seconds THEN 'short_call'
    END;
    IF reason IS NULL OR EXISTS (SELECT 1 FROM callbacks WHERE call_id = NEW.id) THEN
        RETURN NULL;
    END IF;
    INSERT INTO callbacks (user_id, call_id, reason, created_by) VALUES (NEW.user_id, NEW.id, reason, 'rule');
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER calls_open_callback AFTER INSERT OR UPDATE ON calls
    FOR EACH ROW EXECUTE FUNCTION open_callback_by_rule();

ALTER TABLE call_events DROP CONSTRAINT call_events_kind_check;
ALTER TABLE call_events ADD CONSTRAINT call_events_kind_check
    CHECK (kind IN ('created', 'status_changed', 'report_stored', 'follow_up_changed',
                    'callback_opened', 'callback_assigned', 'callback_completed'));

-- +goose StatementBegin
-- A callback's life is a change of its call, streamed like the others; the event's status
-- is the callback's (open, completed).
CREATE FUNCTION record_callback_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    k text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        k := 'callback_opened';
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        k := 'callback_completed';
    ELSIF NEW.assignee IS DISTINCT FROM OLD.assignee THEN
        k := 'callback_assigned';
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO call_events (user_id, call_id, kind, status) VALUES (NEW.user_id, NEW.call_id, k, NEW.status);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER callbacks_event AFTER INSERT OR UPDATE ON callbacks
    FOR EACH ROW EXECUTE FUNCTION record_callback_event();

-- +goose Down
DROP TRIGGER callbacks_event ON callbacks;
DROP FUNCTION record_callback_event();
DELETE FROM call_events WHERE kind LIKE 'callback_%';
ALTER TABLE call_events DROP CONSTRAINT call_events_kind_check;
ALTER TABLE call_events ADD CONSTRAINT call_events_kind_check
    CHECK (kind IN ('created', 'status_changed', 'report_stored', 'follow_up_changed'));
DROP TRIGGER calls_open_callback ON calls;
DROP FUNCTION open_callback_by_rule();
DROP TABLE callbacks;
DROP TABLE callback_rules;
ALTER TABLE calls DROP COLUMN structured_outputs;
