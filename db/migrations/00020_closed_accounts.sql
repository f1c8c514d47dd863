-- Closing accounts from Clerk's webhooks. A tenant whose Clerk organisation or user was
-- deleted is closed at once: its API access ends (every tenant transaction refuses it),
-- its numbers stop routing and are released for another clinic to prove, and its data is
-- deleted after a grace period. A member removed from an organisation loses access with
-- every session issued before the removal.

-- +goose Up
CREATE TABLE closed_tenants (
    user_id      text PRIMARY KEY CHECK (user_id <> ''),
    reason       text NOT NULL CHECK (reason IN ('organization.deleted', 'user.deleted')),
    closed_at    timestamptz NOT NULL DEFAULT now(),
    delete_after timestamptz NOT NULL,
    -- When the purge job deleted the tenant's data; the row stays as the record of it.
    deleted_at   timestamptz
);
CREATE INDEX closed_tenants_due_idx ON closed_tenants (delete_after) WHERE deleted_at IS NULL;
ALTER TABLE closed_tenants ENABLE ROW LEVEL SECURITY;

CREATE TABLE removed_members (
    user_id    text NOT NULL CHECK (user_id <> ''), -- the organisation
    member_id  text NOT NULL CHECK (member_id <> ''),
    -- When Clerk removed the member (the event's timestamp): sessions issued up to then
    -- are refused; a later one means the member was added again.
    removed_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, member_id)
);
ALTER TABLE removed_members ENABLE ROW LEVEL SECURITY;

-- Clerk's webhook deliveries, by Svix's message id: a repeat is recognised, and what
-- passed verification is kept when applying it fails. Only the ids an event is about are
-- kept, never Clerk's payload (staff's names and addresses).
CREATE TABLE clerk_events (
    svix_id     text PRIMARY KEY CHECK (svix_id <> ''),
    event_type  text NOT NULL,
    tenant_id   text,
    member_id   text,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'ignored', 'failed')),
    error       text
);
ALTER TABLE clerk_events ENABLE ROW LEVEL SECURITY;

-- +goose StatementBegin
-- Opens a tenant transaction only for an open tenant, and for a person still allowed to
-- act in it: called with the tenant setting, in the same statement, so it costs no round
-- trip. A closed tenant, or a deleted user acting anywhere, fails with SW003; a session
-- issued before its person was removed from the organisation fails with SW004.
CREATE FUNCTION tenant_open(tenant text, actor text, issued_at timestamptz) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM closed_tenants c WHERE c.user_id = tenant OR c.user_id = actor) THEN
        RAISE EXCEPTION 'the account is closed' USING ERRCODE = 'SW003';
    END IF;
    IF actor IS NOT NULL AND EXISTS (
        SELECT 1 FROM removed_members m
        WHERE m.user_id = tenant AND m.member_id = actor AND (issued_at IS NULL OR m.removed_at >= issued_at)
    ) THEN
        RAISE EXCEPTION 'the member was removed' USING ERRCODE = 'SW004';
    END IF;
    RETURN true;
END
$$;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION tenant_open(text, text, timestamptz) TO switchboard_tenant;

-- +goose Down
DROP FUNCTION tenant_open(text, text, timestamptz);
DROP TABLE clerk_events;
DROP TABLE removed_members;
DROP TABLE closed_tenants;
