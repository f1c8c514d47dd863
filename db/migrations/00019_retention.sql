-- Retention: each clinic keeps transcripts and messages, recordings, and call records for
-- as long as it chooses (null: Switchboard's default; HIPAA mode: the shortest), and a
-- background job purges what has expired. A purged transcript or recording leaves a
-- marker, so the API can say it is gone rather than that there never was one; a purged
-- call record is deleted.

-- +goose Up
ALTER TABLE clinic_settings
    ADD COLUMN transcript_retention_days integer CHECK (transcript_retention_days BETWEEN 7 AND 3650),
    ADD COLUMN recording_retention_days  integer CHECK (recording_retention_days BETWEEN 1 AND 3650),
    ADD COLUMN call_retention_days       integer CHECK (call_retention_days BETWEEN 30 AND 3650);

ALTER TABLE calls ADD COLUMN recording_purged_at timestamptz;
-- Once purged, nothing can bring a recording back, whoever writes: not a late report, not a
-- tenant's transaction.
ALTER TABLE calls ADD CONSTRAINT calls_recording_purged_check CHECK (
    recording_purged_at IS NULL
    OR (recording_url IS NULL AND stereo_recording_url IS NULL AND voicemail_recording_sid IS NULL));
ALTER TABLE call_details ADD COLUMN transcript_purged_at timestamptz;
ALTER TABLE call_details ADD CONSTRAINT call_details_transcript_purged_check CHECK (
    transcript_purged_at IS NULL OR (transcript IS NULL AND messages = '[]'::jsonb));

-- +goose StatementBegin
-- A purge marker, once set, stays: clearing it would let the data be written again.
CREATE FUNCTION keep_purge_marker() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a purge cannot be undone' USING ERRCODE = 'SW002';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER calls_keep_purge_marker BEFORE UPDATE OF recording_purged_at ON calls FOR EACH ROW
    WHEN (OLD.recording_purged_at IS NOT NULL AND NEW.recording_purged_at IS DISTINCT FROM OLD.recording_purged_at)
    EXECUTE FUNCTION keep_purge_marker();
CREATE TRIGGER call_details_keep_purge_marker BEFORE UPDATE OF transcript_purged_at ON call_details FOR EACH ROW
    WHEN (OLD.transcript_purged_at IS NOT NULL AND NEW.transcript_purged_at IS DISTINCT FROM OLD.transcript_purged_at)
    EXECUTE FUNCTION keep_purge_marker();

-- The purges find what else holds a purged call's content by the call: its outbound
-- deliveries, and the inbox events still holding a payload (few: payloads are dropped days
-- after the event is applied).
CREATE INDEX webhook_deliveries_call_id_idx ON webhook_deliveries (user_id, call_id) WHERE call_id IS NOT NULL;
CREATE INDEX webhook_events_call_held_idx ON webhook_events (call_id) WHERE payload IS NOT NULL AND call_id IS NOT NULL;

-- Each run of the purge job (the service's; a clinic reads when the last one ran). It
-- holds no tenant's data (no user_id, only totals over every clinic): every tenant may
-- read when runs happened, and only that (a column grant).
CREATE TABLE retention_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    clinics     integer NOT NULL DEFAULT 0,
    transcripts bigint NOT NULL DEFAULT 0,
    recordings  bigint NOT NULL DEFAULT 0,
    calls       bigint NOT NULL DEFAULT 0,
    error       text
);
-- A clinic reads when runs happened, not what they did for other clinics.
GRANT SELECT (id, started_at, finished_at) ON retention_runs TO switchboard_tenant;
ALTER TABLE retention_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY every_clinic_reads ON retention_runs FOR SELECT TO switchboard_tenant USING (true);

-- What one run purged of one clinic's, when it purged anything: the clinic reads these.
CREATE TABLE retention_purges (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id            text NOT NULL CHECK (user_id <> ''),
    run_id             bigint NOT NULL REFERENCES retention_runs (id) ON DELETE CASCADE,
    purged_at          timestamptz NOT NULL DEFAULT now(),
    transcripts        bigint NOT NULL,
    recordings         bigint NOT NULL,
    calls              bigint NOT NULL,
    -- The windows applied: what started before each cutoff was purged.
    transcripts_before timestamptz NOT NULL,
    recordings_before  timestamptz NOT NULL,
    calls_before       timestamptz NOT NULL,
    UNIQUE (user_id, run_id)
);
CREATE INDEX retention_purges_user_idx ON retention_purges (user_id, id DESC);
GRANT SELECT ON retention_purges TO switchboard_tenant;
ALTER TABLE retention_purges ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON retention_purges TO switchboard_tenant
    USING (user_id = current_setting('app.user_id', true));

-- How far each clinic's purges have gone: the job starts the next run there (less a
-- margin for late writes) rather than at the clinic's oldest call. The service's alone.
CREATE TABLE retention_progress (
    user_id             text PRIMARY KEY CHECK (user_id <> ''),
    transcripts_through timestamptz,
    recordings_through  timestamptz,
    calls_through       timestamptz
);
ALTER TABLE retention_progress ENABLE ROW LEVEL SECURITY;

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
       disposition, tags, recording_purged_at
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
    ELSIF NEW.recording_purged_at IS DISTINCT FROM OLD.recording_purged_at THEN
        -- Retention purged the recording: not news for live streams or outbound webhooks.
        RETURN NULL;
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
       handling, handling_reason, forwarded_to, voicemail_recording_sid, voicemail_duration_seconds,
       disposition, tags
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
DROP TABLE retention_progress;
DROP TABLE retention_purges;
DROP TABLE retention_runs;
DROP INDEX webhook_events_call_held_idx;
DROP INDEX webhook_deliveries_call_id_idx;
DROP TRIGGER call_details_keep_purge_marker ON call_details;
DROP TRIGGER calls_keep_purge_marker ON calls;
DROP FUNCTION keep_purge_marker();
ALTER TABLE call_details DROP CONSTRAINT call_details_transcript_purged_check;
ALTER TABLE call_details DROP COLUMN transcript_purged_at;
ALTER TABLE calls DROP CONSTRAINT calls_recording_purged_check;
ALTER TABLE calls DROP COLUMN recording_purged_at;
ALTER TABLE clinic_settings
    DROP COLUMN transcript_retention_days,
    DROP COLUMN recording_retention_days,
    DROP COLUMN call_retention_days;
