-- A call's statuses are declared once on each side: in Go by calls.Status, and here by
-- call_status_rank, which the status column's CHECK, the queries and the open-calls index
-- all read instead of repeating the list (a test keeps the two sides in step).

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION call_status_final(status text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN call_status_rank(status) = 4;
-- +goose StatementEnd
GRANT EXECUTE ON FUNCTION call_status_final(text) TO switchboard_tenant;

ALTER TABLE calls DROP CONSTRAINT calls_status_check;
ALTER TABLE calls ADD CONSTRAINT calls_status_check CHECK (call_status_rank(status) IS NOT NULL);

DROP INDEX calls_open_idx;
CREATE INDEX calls_open_idx ON calls (started_at) WHERE NOT call_status_final(status);

-- +goose Down
DROP INDEX calls_open_idx;
CREATE INDEX calls_open_idx ON calls (started_at) WHERE status NOT IN ('ended', 'failed');
ALTER TABLE calls DROP CONSTRAINT calls_status_check;
ALTER TABLE calls ADD CONSTRAINT calls_status_check
    CHECK (status IN ('initiated', 'ringing', 'in_progress', 'forwarding', 'ended', 'failed'));
DROP FUNCTION call_status_final(text);
