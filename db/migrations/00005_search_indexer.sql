-- Indexing a transcript for full-text search costs milliseconds of CPU (an 18 KB
-- transcript: about 3 ms), too much to spend while VAPI waits for its webhook's answer.
-- Reports mark their call's search vector stale; a background indexer computes it.

-- +goose Up
ALTER TABLE call_details ADD COLUMN search_stale boolean NOT NULL DEFAULT false;
CREATE INDEX call_details_search_stale_idx ON call_details (call_id) WHERE search_stale;

-- +goose Down
DROP INDEX call_details_search_stale_idx;
ALTER TABLE call_details DROP COLUMN search_stale;
