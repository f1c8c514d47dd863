-- The inbox is operational data, not a second archive of patients' calls: once an event
-- has done its work its payload (and the headers kept with it) is dropped after a while,
-- and the row stays, so that its key still recognises a repeat delivery.

-- A repeat of an event already applied must change nothing, even when applying it again
-- would (the call it made was erased since). The statement that records the event fails
-- the transaction for a repeat, through this function, so its commit rolls back.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION webhook_event_repeat() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a repeat of an applied webhook event' USING ERRCODE = 'SW001';
END
$$;
-- +goose StatementEnd
ALTER TABLE webhook_events ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE webhook_events ADD COLUMN payload_pruned_at timestamptz;
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_pruned_check CHECK ((payload IS NULL) = (payload_pruned_at IS NOT NULL));
-- Serves the pruning job: the events that still hold a payload, oldest first.
CREATE INDEX webhook_events_payload_held_idx ON webhook_events (received_at) WHERE payload IS NOT NULL;

-- +goose Down
DROP FUNCTION webhook_event_repeat();
DROP INDEX webhook_events_payload_held_idx;
DELETE FROM webhook_events WHERE payload IS NULL;
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_pruned_check;
ALTER TABLE webhook_events DROP COLUMN payload_pruned_at;
ALTER TABLE webhook_events ALTER COLUMN payload SET NOT NULL;
