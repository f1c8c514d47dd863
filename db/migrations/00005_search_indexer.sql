-- Indexing a transcript for full-text search costs milliseconds of CPU (an 18 KB
-- transcript: about 3 ms), too much to spend while VAPI waits for its webhook's answer.
-- Reports mark their call's search vector stale; a background indexer computes it.

-- +goose Up
ALTER TABLE call_details ADD COLUMN search_stale boolean NOT NULL DEFAULT false;
CREATE INDEX call_details_search_stale_idx ON call_details (call_id) WHERE search_stale;

-- Raw payloads and transcripts are stored compressed; lz4 compresses them about ten times
-- faster than PostgreSQL's default. Servers built without lz4 keep the default.
-- +goose StatementBegin
DO $$
BEGIN
    ALTER TABLE webhook_events ALTER COLUMN payload SET COMPRESSION lz4;
    ALTER TABLE call_details ALTER COLUMN transcript SET COMPRESSION lz4;
    ALTER TABLE call_details ALTER COLUMN messages SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available: keeping the default compression';
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX call_details_search_stale_idx;
ALTER TABLE call_details DROP COLUMN search_stale;
