-- The inbox is operational data, not a second archive of patients' calls: once an event
-- has done its work its payload (and the headers kept with it) is dropped after a while,
-- and the row stays, so that its key still recognises a repeat delivery.

-- +goose Up
ALTER TABLE webhook_events ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE webhook_events ADD COLUMN payload_pruned_at timestamptz;
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_pruned_check CHECK ((payload IS NULL) = (payload_pruned_at IS NOT NULL));
-- Serves the pruning job: the events that still hold a payload, oldest first.
CREATE INDEX webhook_events_payload_held_idx ON webhook_events (received_at) WHERE payload IS NOT NULL;

-- +goose Down
DROP INDEX webhook_events_payload_held_idx;
DELETE FROM webhook_events WHERE payload IS NULL;
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_pruned_check;
ALTER TABLE webhook_events DROP COLUMN payload_pruned_at;
ALTER TABLE webhook_events ALTER COLUMN payload SET NOT NULL;
