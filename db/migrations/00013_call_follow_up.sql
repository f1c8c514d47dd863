-- Staff follow up on calls: a disposition, free-text notes and tags, edited concurrently
-- by several people. follow_up_version counts the edits: it is the follow-up's ETag, and an
-- edit made against an older version is refused rather than overwriting a colleague's.
-- The columns live on calls (under its row-level security): a call has one follow-up.
-- Lists show a call's disposition and tags; its notes are read with the call alone.

-- +goose Up
ALTER TABLE calls
    ADD COLUMN disposition text CHECK (disposition IN ('booked', 'resolved', 'needs_callback', 'wrong_number', 'spam', 'other')),
    ADD COLUMN notes text CHECK (length(notes) <= 10000),
    ADD COLUMN tags text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20),
    ADD COLUMN follow_up_version integer NOT NULL DEFAULT 0,
    ADD COLUMN follow_up_by text,
    ADD COLUMN follow_up_at timestamptz;

-- Serves the tag filter and the tag counts.
CREATE INDEX calls_tags_idx ON calls USING gin (tags);

ALTER TABLE call_events DROP CONSTRAINT call_events_kind_check;
ALTER TABLE call_events ADD CONSTRAINT call_events_kind_check
    CHECK (kind IN ('created', 'status_changed', 'report_stored', 'follow_up_changed'));

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION record_call_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    k text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        k := 'created';
    ELSIF (NEW.summary, NEW.recording_url, NEW.stereo_recording_url, NEW.cost, NEW.structured_data::text, NEW.success_evaluation)
          IS DISTINCT FROM
          (OLD.summary, OLD.recording_url, OLD.stereo_recording_url, OLD.cost, OLD.structured_data::text, OLD.success_evaluation) THEN
        k := 'report_stored';
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        k := 'status_changed';
    ELSIF NEW.follow_up_version IS DISTINCT FROM OLD.follow_up_version THEN
        k := 'follow_up_changed';
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO call_events (user_id, call_id, kind, status) VALUES (NEW.user_id, NEW.id, k, NEW.status);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

DROP VIEW call_summaries;
CREATE VIEW call_summaries WITH (security_invoker = true) AS
SELECT id, user_id, phone_number_id, status, direction, caller_number, clinic_number,
       assistant_number, matched_by, twilio_call_sid, vapi_call_id, started_at, ended_at,
       duration_seconds, ended_reason, recording_url, stereo_recording_url, summary,
       success_evaluation, structured_data, cost, created_at, updated_at,
       (CASE
           WHEN lower(btrim(success_evaluation)) IN ('true', 'pass', 'passed', 'success', 'successful', 'yes') THEN true
           WHEN lower(btrim(success_evaluation)) IN ('false', 'fail', 'failed', 'failure', 'unsuccessful', 'no') THEN false
       END)::boolean AS succeeded,
       handling, handling_reason, forwarded_to, voicemail_recording_sid, voicemail_duration_seconds,
       disposition, tags
FROM calls;
GRANT SELECT ON call_summaries TO switchboard_tenant;

-- +goose Down
DROP VIEW call_summaries;
CREATE VIEW call_summaries WITH (security_invoker = true) AS
SELECT id, user_id, phone_number_id, status, direction, caller_number, clinic_number,
       assistant_number, matched_by, twilio_call_sid, vapi_call_id, started_at, ended_at,
       duration_seconds, ended_reason, recording_url, stereo_recording_url, summary,
       success_evaluation, structured_data, cost, created_at, updated_at,
       (CASE
           WHEN lower(btrim(success_evaluation)) IN ('true', 'pass', 'passed', 'success', 'successful', 'yes') THEN true
           WHEN lower(btrim(success_evaluation)) IN ('false', 'fail', 'failed', 'failure', 'unsuccessful', 'no') THEN false
       END)::boolean AS succeeded,
       handling, handling_reason, forwarded_to, voicemail_recording_sid, voicemail_duration_seconds
FROM calls;
GRANT SELECT ON call_summaries TO switchboard_tenant;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION record_call_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    k text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        k := 'created';
    ELSIF (NEW.summary, NEW.recording_url, NEW.stereo_recording_url, NEW.cost, NEW.structured_data::text, NEW.success_evaluation)
          IS DISTINCT FROM
          (OLD.summary, OLD.recording_url, OLD.stereo_recording_url, OLD.cost, OLD.structured_data::text, OLD.success_evaluation) THEN
        k := 'report_stored';
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        k := 'status_changed';
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO call_events (user_id, call_id, kind, status) VALUES (NEW.user_id, NEW.id, k, NEW.status);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
DELETE FROM call_events WHERE kind = 'follow_up_changed';
ALTER TABLE call_events DROP CONSTRAINT call_events_kind_check;
ALTER TABLE call_events ADD CONSTRAINT call_events_kind_check CHECK (kind IN ('created', 'status_changed', 'report_stored'));
DROP INDEX calls_tags_idx;
ALTER TABLE calls
    DROP COLUMN follow_up_at, DROP COLUMN follow_up_by, DROP COLUMN follow_up_version,
    DROP COLUMN tags, DROP COLUMN notes, DROP COLUMN disposition;
