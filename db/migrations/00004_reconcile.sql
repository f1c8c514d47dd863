-- Reconciliation finds calls that never finished: VAPI sends its end-of-call report once,
-- and a report lost before it reached Switchboard would leave a call open for ever.

-- +goose Up
CREATE INDEX calls_open_idx ON calls (started_at) WHERE status NOT IN ('ended', 'failed');

-- +goose Down
DROP INDEX calls_open_idx;
