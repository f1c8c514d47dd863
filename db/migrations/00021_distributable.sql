-- Ready to distribute by tenant (Citus, docs/scale-out.md): every primary key and unique
-- constraint of a tenant table includes user_id, and what must be unique across tenants (a
-- Twilio CallSid, a VAPI call id, a verified clinic line, a VAPI assistant) lives in a
-- lookup table keyed by that value, which the webhooks read first to find the tenant.
-- Triggers keep the lookups in step with the tenant tables, and their primary keys keep
-- the values unique across tenants as the tenant tables' own constraints did.
-- TestTenantTablesAreDistributableByTenant keeps it so.

-- +goose Up
-- Primary keys led by the tenant key. Lookups by id alone keep an index led by id: the
-- (id, user_id) unique constraints the foreign keys reference, or one added here.
ALTER TABLE calls DROP CONSTRAINT calls_pkey, ADD PRIMARY KEY (user_id, id);
ALTER TABLE call_details DROP CONSTRAINT call_details_pkey, ADD PRIMARY KEY (user_id, call_id);
ALTER TABLE phone_numbers DROP CONSTRAINT phone_numbers_pkey, ADD PRIMARY KEY (user_id, id);
ALTER TABLE call_events DROP CONSTRAINT call_events_pkey, ADD PRIMARY KEY (user_id, id);
DROP INDEX call_events_user_idx;
-- The live-update hub reads every tenant's events in id order.
CREATE INDEX call_events_id_idx ON call_events (id);
ALTER TABLE audit_events DROP CONSTRAINT audit_events_pkey, ADD PRIMARY KEY (user_id, id);
ALTER TABLE callbacks DROP CONSTRAINT callbacks_pkey, ADD PRIMARY KEY (user_id, id);
ALTER TABLE blocked_callers DROP CONSTRAINT blocked_callers_pkey, ADD PRIMARY KEY (user_id, id);
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_pkey, ADD PRIMARY KEY (user_id, id);
-- The delivery worker reads a delivery by its id.
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey, ADD PRIMARY KEY (user_id, id),
    ADD CONSTRAINT webhook_deliveries_id_user_id_key UNIQUE (id, user_id);
ALTER TABLE retention_purges DROP CONSTRAINT retention_purges_pkey, ADD PRIMARY KEY (user_id, id);
DROP INDEX retention_purges_user_idx;
ALTER TABLE assistants DROP CONSTRAINT assistants_pkey, ADD PRIMARY KEY (user_id, vapi_assistant_id);

-- The lookups. The service's alone: a tenant's role has no privilege on them.
CREATE TABLE call_sids (
    twilio_call_sid text PRIMARY KEY,
    user_id         text NOT NULL,
    call_id         uuid NOT NULL
);
CREATE TABLE vapi_calls (
    vapi_call_id text PRIMARY KEY,
    user_id      text NOT NULL,
    call_id      uuid NOT NULL
);
-- The verified claim of each line: one clinic's, the first to prove it.
CREATE TABLE verified_numbers (
    phone_number    text PRIMARY KEY,
    user_id         text NOT NULL,
    phone_number_id uuid NOT NULL
);
-- Each VAPI assistant belongs to one clinic.
CREATE TABLE assistant_owners (
    vapi_assistant_id text PRIMARY KEY,
    user_id           text NOT NULL
);
ALTER TABLE call_sids ENABLE ROW LEVEL SECURITY;
ALTER TABLE vapi_calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE verified_numbers ENABLE ROW LEVEL SECURITY;
ALTER TABLE assistant_owners ENABLE ROW LEVEL SECURITY;
INSERT INTO call_sids SELECT twilio_call_sid, user_id, id FROM calls WHERE twilio_call_sid IS NOT NULL;
INSERT INTO vapi_calls SELECT vapi_call_id, user_id, id FROM calls WHERE vapi_call_id IS NOT NULL;
INSERT INTO verified_numbers SELECT phone_number, user_id, id FROM phone_numbers WHERE verification_status = 'verified';
INSERT INTO assistant_owners SELECT vapi_assistant_id, user_id FROM assistants;

-- The tenant tables' own uniqueness is now per tenant (an upsert's conflict target).
ALTER TABLE calls DROP CONSTRAINT calls_twilio_call_sid_key, DROP CONSTRAINT calls_vapi_call_id_key;
ALTER TABLE calls ADD CONSTRAINT calls_user_twilio_call_sid_key UNIQUE (user_id, twilio_call_sid),
    ADD CONSTRAINT calls_user_vapi_call_id_key UNIQUE (user_id, vapi_call_id);
DROP INDEX phone_numbers_verified_key;

-- +goose StatementBegin
-- Keeps call_sids and vapi_calls in step with calls: a call's keys are added when it gets
-- them (a key another call holds fails the statement, as a unique constraint on calls did)
-- and removed with the call.
CREATE FUNCTION index_call_keys() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM call_sids WHERE twilio_call_sid = OLD.twilio_call_sid AND call_id = OLD.id;
        DELETE FROM vapi_calls WHERE vapi_call_id = OLD.vapi_call_id AND call_id = OLD.id;
        RETURN NULL;
    END IF;
    IF NEW.twilio_call_sid IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.twilio_call_sid IS DISTINCT FROM OLD.twilio_call_sid) THEN
        INSERT INTO call_sids (twilio_call_sid, user_id, call_id) VALUES (NEW.twilio_call_sid, NEW.user_id, NEW.id);
    END IF;
    IF NEW.vapi_call_id IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.vapi_call_id IS DISTINCT FROM OLD.vapi_call_id) THEN
        INSERT INTO vapi_calls (vapi_call_id, user_id, call_id) VALUES (NEW.vapi_call_id, NEW.user_id, NEW.id);
    END IF;
    RETURN NULL;
END
$$;

-- Keeps verified_numbers in step with phone_numbers: a claim enters it when it is
-- verified (a line another clinic verified first fails the statement) and leaves it when
-- it is no longer verified or is deleted.
CREATE FUNCTION index_verified_number() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.verification_status = 'verified' THEN
        DELETE FROM verified_numbers WHERE phone_number = OLD.phone_number AND phone_number_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.verification_status = 'verified' THEN
        INSERT INTO verified_numbers (phone_number, user_id, phone_number_id) VALUES (NEW.phone_number, NEW.user_id, NEW.id);
    END IF;
    RETURN NULL;
END
$$;

-- Keeps assistant_owners in step with assistants.
CREATE FUNCTION index_assistant_owner() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM assistant_owners WHERE vapi_assistant_id = OLD.vapi_assistant_id AND user_id = OLD.user_id;
    ELSE
        INSERT INTO assistant_owners (vapi_assistant_id, user_id) VALUES (NEW.vapi_assistant_id, NEW.user_id);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER calls_keys AFTER INSERT OR DELETE ON calls
    FOR EACH ROW EXECUTE FUNCTION index_call_keys();
-- Reports set vapi_call_id to itself: only a change calls the function.
CREATE TRIGGER calls_keys_changed AFTER UPDATE OF twilio_call_sid, vapi_call_id ON calls FOR EACH ROW
    WHEN (OLD.twilio_call_sid IS DISTINCT FROM NEW.twilio_call_sid OR OLD.vapi_call_id IS DISTINCT FROM NEW.vapi_call_id)
    EXECUTE FUNCTION index_call_keys();
CREATE TRIGGER phone_numbers_verified AFTER INSERT OR DELETE OR UPDATE OF verification_status, phone_number ON phone_numbers
    FOR EACH ROW EXECUTE FUNCTION index_verified_number();
CREATE TRIGGER assistants_owner AFTER INSERT OR DELETE ON assistants
    FOR EACH ROW EXECUTE FUNCTION index_assistant_owner();

-- +goose Down
DROP TRIGGER assistants_owner ON assistants;
DROP TRIGGER phone_numbers_verified ON phone_numbers;
DROP TRIGGER calls_keys_changed ON calls;
DROP TRIGGER calls_keys ON calls;
DROP FUNCTION index_assistant_owner();
DROP FUNCTION index_verified_number();
DROP FUNCTION index_call_keys();
CREATE UNIQUE INDEX phone_numbers_verified_key ON phone_numbers (phone_number) WHERE verification_status = 'verified';
ALTER TABLE calls DROP CONSTRAINT calls_user_twilio_call_sid_key, DROP CONSTRAINT calls_user_vapi_call_id_key;
ALTER TABLE calls ADD CONSTRAINT calls_twilio_call_sid_key UNIQUE (twilio_call_sid),
    ADD CONSTRAINT calls_vapi_call_id_key UNIQUE (vapi_call_id);
DROP TABLE assistant_owners;
DROP TABLE verified_numbers;
DROP TABLE vapi_calls;
DROP TABLE call_sids;
ALTER TABLE assistants DROP CONSTRAINT assistants_pkey, ADD PRIMARY KEY (vapi_assistant_id);
CREATE INDEX retention_purges_user_idx ON retention_purges (user_id, id DESC);
ALTER TABLE retention_purges DROP CONSTRAINT retention_purges_pkey, ADD PRIMARY KEY (id);
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_id_user_id_key;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey, ADD PRIMARY KEY (id);
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_pkey, ADD PRIMARY KEY (id);
ALTER TABLE blocked_callers DROP CONSTRAINT blocked_callers_pkey, ADD PRIMARY KEY (id);
ALTER TABLE callbacks DROP CONSTRAINT callbacks_pkey, ADD PRIMARY KEY (id);
ALTER TABLE audit_events DROP CONSTRAINT audit_events_pkey, ADD PRIMARY KEY (id);
DROP INDEX call_events_id_idx;
CREATE INDEX call_events_user_idx ON call_events (user_id, id);
ALTER TABLE call_events DROP CONSTRAINT call_events_pkey, ADD PRIMARY KEY (id);
ALTER TABLE phone_numbers DROP CONSTRAINT phone_numbers_pkey, ADD PRIMARY KEY (id);
ALTER TABLE call_details DROP CONSTRAINT call_details_pkey, ADD PRIMARY KEY (call_id);
ALTER TABLE calls DROP CONSTRAINT calls_pkey, ADD PRIMARY KEY (id);
