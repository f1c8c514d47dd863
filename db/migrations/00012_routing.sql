-- Call routing a clinic controls: which VAPI assistants are the clinic's, when it is open,
-- what happens to a call when it is closed or the assistant cannot take it, and whose
-- calls it declines. The decision a call got is kept on the call.

-- +goose Up

-- The assistants a clinic may route to. An assistant belongs to one clinic (the primary
-- key is the assistant alone): no clinic can point its number at another's assistant.
CREATE TABLE assistants (
    vapi_assistant_id text PRIMARY KEY CHECK (vapi_assistant_id <> ''),
    user_id           text NOT NULL CHECK (user_id <> ''),
    name              text,
    created_by        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (vapi_assistant_id, user_id)
);
CREATE INDEX assistants_user_idx ON assistants (user_id, created_at DESC);

-- Numbers registered before this migration keep their assistant when the assistant was
-- theirs alone. Where several clinics named the same assistant, the clinic whose number
-- was verified first keeps it; the others' numbers lose it and their calls take the
-- fallback (pointing at another clinic's assistant is the defect this closes).
INSERT INTO assistants (vapi_assistant_id, user_id, created_by)
SELECT DISTINCT ON (vapi_assistant_id) vapi_assistant_id, user_id, 'migrated'
FROM phone_numbers
WHERE vapi_assistant_id IS NOT NULL AND vapi_assistant_id <> ''
ORDER BY vapi_assistant_id, verification_status = 'verified' DESC, verified_at, created_at;

UPDATE phone_numbers p SET vapi_assistant_id = NULL
WHERE vapi_assistant_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM assistants a WHERE a.vapi_assistant_id = p.vapi_assistant_id AND a.user_id = p.user_id);

ALTER TABLE phone_numbers ADD CONSTRAINT phone_numbers_assistant_fkey
    FOREIGN KEY (vapi_assistant_id, user_id) REFERENCES assistants (vapi_assistant_id, user_id)
    ON DELETE SET NULL (vapi_assistant_id);

-- A clinic's routing (phone_number_id null), or one number's, which replaces the
-- clinic's for calls to that number (a clinic with several sites). No row: always open,
-- the number's assistant, voicemail when it cannot take the call.
CREATE TABLE routing_policies (
    user_id                  text NOT NULL CHECK (user_id <> ''),
    phone_number_id          uuid,
    clinic_name              text,
    -- IANA zone; weekly_hours and closures are read in it. Null: no hours, always open.
    time_zone                text,
    weekly_hours             jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(weekly_hours) = 'array'),
    closures                 jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(closures) = 'array'),
    closed_action            text NOT NULL DEFAULT 'voicemail'
        CHECK (closed_action IN ('after_hours_assistant', 'forward', 'voicemail', 'reject')),
    after_hours_assistant_id text,
    on_call_number           text CHECK (on_call_number ~ '^\+[1-9][0-9]{1,14}$'),
    fallback_number          text CHECK (fallback_number ~ '^\+[1-9][0-9]{1,14}$'),
    voicemail_greeting       text,
    spam_policy              text NOT NULL DEFAULT 'allow' CHECK (spam_policy IN ('allow', 'voicemail', 'reject')),
    updated_by               text,
    updated_at               timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (user_id, phone_number_id),
    FOREIGN KEY (phone_number_id, user_id) REFERENCES phone_numbers (id, user_id) ON DELETE CASCADE,
    FOREIGN KEY (after_hours_assistant_id, user_id) REFERENCES assistants (vapi_assistant_id, user_id)
        ON DELETE SET NULL (after_hours_assistant_id)
);

-- Callers a clinic declines: their calls are rejected before any assistant is asked, and
-- still recorded.
CREATE TABLE blocked_callers (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      text NOT NULL CHECK (user_id <> ''),
    phone_number text NOT NULL CHECK (phone_number ~ '^\+[1-9][0-9]{1,14}$'),
    reason       text,
    created_by   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, phone_number)
);

-- How each call was handled, and why; calls recorded before routing existed have none.
ALTER TABLE calls
    ADD COLUMN handling text CHECK (handling IN ('assistant', 'after_hours_assistant', 'forwarded',
        'voicemail', 'announced', 'blocked', 'spam_rejected', 'closed_rejected')),
    ADD COLUMN handling_reason text,
    ADD COLUMN routed_assistant_id text,
    ADD COLUMN forwarded_to text,
    ADD COLUMN voicemail_recording_sid text,
    ADD COLUMN voicemail_duration_seconds integer CHECK (voicemail_duration_seconds >= 0);

-- What lists show of a call: how it was handled too.
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

GRANT SELECT, INSERT, UPDATE, DELETE ON assistants, routing_policies, blocked_callers TO switchboard_tenant;

ALTER TABLE assistants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON assistants TO switchboard_tenant
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

ALTER TABLE routing_policies ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON routing_policies TO switchboard_tenant
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

ALTER TABLE blocked_callers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON blocked_callers TO switchboard_tenant
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

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
       END)::boolean AS succeeded
FROM calls;
GRANT SELECT ON call_summaries TO switchboard_tenant;
ALTER TABLE calls
    DROP COLUMN voicemail_duration_seconds, DROP COLUMN voicemail_recording_sid, DROP COLUMN forwarded_to,
    DROP COLUMN routed_assistant_id, DROP COLUMN handling_reason, DROP COLUMN handling;
DROP TABLE blocked_callers;
DROP TABLE routing_policies;
ALTER TABLE phone_numbers DROP CONSTRAINT phone_numbers_assistant_fkey;
DROP TABLE assistants;
