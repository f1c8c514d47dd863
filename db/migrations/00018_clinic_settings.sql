-- Settings that are the whole clinic's, not one of its numbers': HIPAA mode, in which
-- VAPI is asked not to keep the call (no recording, no transcript kept on its side) and
-- Switchboard keeps no recording URL.

-- +goose Up
CREATE TABLE clinic_settings (
    user_id    text PRIMARY KEY CHECK (user_id <> ''),
    hipaa_mode boolean NOT NULL DEFAULT false,
    updated_by text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT, UPDATE, DELETE ON clinic_settings TO switchboard_tenant;
ALTER TABLE clinic_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON clinic_settings TO switchboard_tenant
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

-- +goose StatementBegin
-- Whether tenant id is in HIPAA mode; false for a clinic that set nothing. STABLE: once a
-- statement.
CREATE FUNCTION hipaa_mode(id text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT s.hipaa_mode FROM clinic_settings s WHERE s.user_id = id), false)
$$;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION hipaa_mode(text) TO switchboard_tenant;

-- +goose Down
DROP FUNCTION hipaa_mode(text);
DROP TABLE clinic_settings;
