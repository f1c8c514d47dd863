-- The audit log: who read or changed what of a clinic's data, for its compliance officer.
-- Entries are written in the transaction of what they record, as the tenant, and are
-- append-only: the tenant role may insert and read its own entries and nothing else (no
-- UPDATE or DELETE grant at all), so no request can alter or remove one, even with a
-- statement that forgets its WHERE. Entries name what they are about, never its content:
-- no transcript text, recording URL or caller number.

-- +goose Up
CREATE TABLE audit_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        text NOT NULL CHECK (user_id <> ''), -- the tenant
    actor          text NOT NULL CHECK (actor <> ''),   -- user_… or apikey:…
    action         text NOT NULL,                       -- e.g. phone_number.create, call.read
    target_type    text NOT NULL,
    target_id      text,
    detail         jsonb NOT NULL DEFAULT '{}'::jsonb,  -- counts and names, never patient data
    request_id     text,
    client_address text,
    user_agent     text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_user_created_idx ON audit_events (user_id, created_at DESC, id DESC);

GRANT SELECT, INSERT ON audit_events TO switchboard_tenant;
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_reads_own ON audit_events FOR SELECT TO switchboard_tenant
    USING (user_id = current_setting('app.user_id', true));
CREATE POLICY tenant_appends_own ON audit_events FOR INSERT TO switchboard_tenant
    WITH CHECK (user_id = current_setting('app.user_id', true));

-- +goose Down
DROP TABLE audit_events;
