-- What a clinic dashboard reads: search, a success flag to filter on, and the stream of
-- call changes that feeds live updates.

-- +goose Up

-- Both are trusted extensions: the tables' owner may create them without superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- Digits of the caller's and the clinic's numbers, searchable by substring.
CREATE INDEX calls_numbers_trgm_idx ON calls
    USING gin (user_id, caller_number gin_trgm_ops, clinic_number gin_trgm_ops);

-- Full-text search over summary and transcript, kept beside the transcript it indexes.
ALTER TABLE call_details ADD COLUMN search tsvector;
CREATE INDEX call_details_search_idx ON call_details USING gin (user_id, search);

-- succeeded reads VAPI's successEvaluation, which is free text ("true", "Pass", a score…):
-- the common verdicts become true or false, everything else null.
CREATE OR REPLACE VIEW call_summaries WITH (security_invoker = true) AS
SELECT id, user_id, phone_number_id, status, direction, caller_number, clinic_number,
       assistant_number, matched_by, twilio_call_sid, vapi_call_id, started_at, ended_at,
       duration_seconds, ended_reason, recording_url, stereo_recording_url, summary,
       success_evaluation, structured_data, cost, created_at, updated_at,
       (CASE
           WHEN lower(btrim(success_evaluation)) IN ('true', 'pass', 'passed', 'success', 'successful', 'yes') THEN true
           WHEN lower(btrim(success_evaluation)) IN ('false', 'fail', 'failed', 'failure', 'unsuccessful', 'no') THEN false
       END)::boolean AS succeeded
FROM calls;

-- The ids of the current tenant's calls a search matches. Row-level security would keep
-- the planner from using the GIN indexes here: the full-text and LIKE operators are not
-- leakproof, so under a policy they may only filter rows, never drive an index scan. This
-- function therefore runs as the tables' owner and confines itself to the tenant of the
-- transaction (app.user_id, never an argument); the query that calls it still reads the
-- calls through row-level security.
-- +goose StatementBegin
CREATE FUNCTION search_call_ids(query text, digits text) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp ROWS 200 AS $$
    SELECT d.call_id FROM call_details d
    WHERE d.user_id = current_setting('app.user_id', true)
      AND d.search @@ websearch_to_tsquery('english', query)
    UNION
    SELECT n.id FROM calls n
    WHERE n.user_id = current_setting('app.user_id', true)
      AND digits IS NOT NULL
      AND (n.caller_number LIKE '%' || digits || '%' OR n.clinic_number LIKE '%' || digits || '%')
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION search_call_ids(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION search_call_ids(text, text) TO switchboard_tenant;

-- Every change a dashboard shows, in order: what live updates stream and what
-- Last-Event-ID resumes from. Rows are pruned after a day.
CREATE TABLE call_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    text NOT NULL CHECK (user_id <> ''),
    call_id    uuid NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('created', 'status_changed', 'report_stored')),
    status     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX call_events_user_idx ON call_events (user_id, id);
CREATE INDEX call_events_created_idx ON call_events (created_at);

GRANT SELECT ON call_events TO switchboard_tenant;
ALTER TABLE call_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON call_events TO switchboard_tenant
    USING (user_id = current_setting('app.user_id', true));

-- Records a call's change and tells every replica (pg_notify is delivered on commit, so
-- a rolled-back change is never announced). It runs as the function's owner so that the
-- tenant role needs no write access to the event log; the row it writes is the call's own.
-- +goose StatementBegin
CREATE FUNCTION record_call_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    k  text;
    ev call_events;
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
    INSERT INTO call_events (user_id, call_id, kind, status)
    VALUES (NEW.user_id, NEW.id, k, NEW.status)
    RETURNING * INTO ev;
    PERFORM pg_notify('call_events', json_build_object(
        'id', ev.id, 'user_id', ev.user_id, 'call_id', ev.call_id,
        'kind', ev.kind, 'status', ev.status, 'created_at', ev.created_at)::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER calls_events AFTER INSERT OR UPDATE ON calls
    FOR EACH ROW EXECUTE FUNCTION record_call_event();

-- +goose Down
DROP FUNCTION search_call_ids(text, text);
DROP TRIGGER calls_events ON calls;
DROP FUNCTION record_call_event();
DROP TABLE call_events;
DROP VIEW call_summaries;
CREATE VIEW call_summaries WITH (security_invoker = true) AS
SELECT id, user_id, phone_number_id, status, direction, caller_number, clinic_number,
       assistant_number, matched_by, twilio_call_sid, vapi_call_id, started_at, ended_at,
       duration_seconds, ended_reason, recording_url, stereo_recording_url, summary,
       success_evaluation, structured_data, cost, created_at, updated_at
FROM calls;
GRANT SELECT ON call_summaries TO switchboard_tenant;
DROP INDEX call_details_search_idx;
ALTER TABLE call_details DROP COLUMN search;
DROP INDEX calls_numbers_trgm_idx;
