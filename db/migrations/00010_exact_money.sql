-- Money is summed exactly: a call's cost is a decimal number of dollars, not a binary
-- floating-point one (whose sums came back as 64.16630000000002). Six decimal places keep
-- what VAPI reports; the service refuses costs of a million dollars or more as no call's.

-- +goose Up
DROP VIEW call_summaries;
ALTER TABLE calls ALTER COLUMN cost TYPE numeric(14, 6);
ALTER TABLE calls ADD CONSTRAINT calls_cost_check CHECK (cost >= 0);
CREATE VIEW call_summaries WITH (security_invoker = true) AS
SELECT id, user_id, phone_number_id, status, direction, caller_number, clinic_number,
       assistant_number, matched_by, twilio_call_sid, vapi_call_id, started_at, ended_at,
       duration_seconds, ended_reason, recording_url, stereo_recording_url, summary,
       success_evaluation, structured_data, cost, created_at, updated_at,
       (CASE
           WHEN lower(btrim(success_evaluation)) IN ('true', 'pass', 'passed', 'success', 'successful', 'yes') THEN true
           WHEN lower(btrim(success_evaluation)) IN ('false', 'fail', 'failed', 'failure', 'unsuccessful', 'no') THEN false
       END)::boolean AS succeeded
FROM calls;
GRANT SELECT ON call_summaries TO switchboard_tenant;

-- +goose Down
DROP VIEW call_summaries;
ALTER TABLE calls DROP CONSTRAINT calls_cost_check;
ALTER TABLE calls ALTER COLUMN cost TYPE double precision;
CREATE VIEW call_summaries WITH (security_invoker = true) AS
SELECT id, user_id, phone_number_id, status, direction, caller_number, clinic_number,
       assistant_number, matched_by, twilio_call_sid, vapi_call_id, started_at, ended_at,
       duration_seconds, ended_reason, recording_url, stereo_recording_url, summary,
       success_evaluation, structured_data, cost, created_at, updated_at,
       (CASE
           WHEN lower(btrim(success_evaluation)) IN ('true', 'pass', 'passed', 'success', 'successful', 'yes') THEN true
           WHEN lower(btrim(success_evaluation)) IN ('false', 'fail', 'failed', 'failure', 'unsuccessful', 'no') THEN false
       END)::boolean AS succeeded
FROM calls;
GRANT SELECT ON call_summaries TO switchboard_tenant;
