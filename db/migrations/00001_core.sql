-- The core schema: clinics' phone numbers and the calls handled for them.
--
-- Tenancy: every tenant row carries user_id (today a Clerk user id, later possibly a Clerk
-- organisation id). Tenant requests run in a transaction that sets app.user_id and switches
-- to the switchboard_tenant role (see internal/tenant); row-level security on that role
-- confines them to their own rows even when the service's login role is a superuser or the
-- tables' owner. The login role itself is not confined (RLS is enabled, not forced), because
-- the webhooks must resolve a call's owner across tenants before they know it.

-- +goose Up

-- Roles are cluster-wide, so several databases (and concurrent migrations) may share it.
-- +goose StatementBegin
DO $$
BEGIN
    CREATE ROLE switchboard_tenant NOLOGIN NOBYPASSRLS;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'switchboard_tenant', 'MEMBER') THEN
        EXECUTE format('GRANT switchboard_tenant TO %I', current_user);
    END IF;
END
$$;
-- +goose StatementEnd

GRANT USAGE ON SCHEMA public TO switchboard_tenant;

-- +goose StatementBegin
-- updated_at moves only when something else did: replays of webhooks write the same
-- values again, and must not look like changes to a dashboard.
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TABLE phone_numbers (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id              text NOT NULL CHECK (user_id <> ''),
    -- E.164, unique across all tenants: one line has one owner.
    phone_number         text NOT NULL UNIQUE CHECK (phone_number ~ '^\+[1-9][0-9]{1,14}$'),
    label                text,
    vapi_assistant_id    text,
    vapi_phone_number_id text,
    is_active            boolean NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    -- Lets calls reference (id, user_id), so a call can only point at its owner's number.
    UNIQUE (id, user_id)
);

CREATE INDEX phone_numbers_user_created_idx ON phone_numbers (user_id, created_at DESC, id DESC);

CREATE TRIGGER phone_numbers_touch BEFORE UPDATE ON phone_numbers
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

CREATE TABLE calls (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id              text NOT NULL CHECK (user_id <> ''),
    phone_number_id      uuid,
    status               text NOT NULL DEFAULT 'initiated'
        CHECK (status IN ('initiated', 'ringing', 'in_progress', 'forwarding', 'ended', 'failed')),
    direction            text NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound', 'outbound')),
    caller_number        text,
    clinic_number        text,
    assistant_number     text,
    matched_by           text CHECK (matched_by IN ('forwarded_from', 'to', 'from')),
    twilio_call_sid      text UNIQUE,
    vapi_call_id         text UNIQUE,
    started_at           timestamptz NOT NULL DEFAULT now(),
    ended_at             timestamptz,
    duration_seconds     integer CHECK (duration_seconds >= 0),
    ended_reason         text,
    recording_url        text,
    stereo_recording_url text,
    summary              text,
    success_evaluation   text,
    structured_data      jsonb,
    cost                 double precision,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, user_id),
    -- Deleting a number keeps its calls: only the reference is cleared, the owner stays.
    FOREIGN KEY (phone_number_id, user_id) REFERENCES phone_numbers (id, user_id)
        ON DELETE SET NULL (phone_number_id)
);

-- Serves the calls list: a tenant's calls newest first, read by keyset.
CREATE INDEX calls_user_started_idx ON calls (user_id, started_at DESC, id DESC);
-- Serves the foreign key's ON DELETE and the phone_number_id filter.
CREATE INDEX calls_phone_number_idx ON calls (phone_number_id, started_at DESC, id DESC)
    WHERE phone_number_id IS NOT NULL;

CREATE TRIGGER calls_touch BEFORE UPDATE ON calls
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- The large parts of a call live apart, so the rows the list reads stay small.
CREATE TABLE call_details (
    call_id    uuid PRIMARY KEY,
    user_id    text NOT NULL CHECK (user_id <> ''),
    transcript text,
    messages   jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(messages) = 'array'),
    FOREIGN KEY (call_id, user_id) REFERENCES calls (id, user_id) ON DELETE CASCADE
);

GRANT SELECT, INSERT, UPDATE, DELETE ON phone_numbers, calls, call_details TO switchboard_tenant;

-- current_setting(..., true) is NULL when never set and '' when set earlier on a reused
-- connection and reset at commit; neither equals a user_id (the CHECKs refuse ''), so a
-- transaction without a tenant sees and writes nothing.
ALTER TABLE phone_numbers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON phone_numbers TO switchboard_tenant
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

ALTER TABLE calls ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON calls TO switchboard_tenant
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

ALTER TABLE call_details ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON call_details TO switchboard_tenant
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

-- +goose Down
DROP TABLE call_details;
DROP TABLE calls;
DROP TABLE phone_numbers;
DROP FUNCTION touch_updated_at();
REVOKE USAGE ON SCHEMA public FROM switchboard_tenant;
