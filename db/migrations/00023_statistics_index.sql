-- A clinic's statistics read every call in their range, once per breakdown. For a clinic
-- with 100 000 calls a year those rows lie scattered over the whole table (the calls of all
-- clinics arrive interleaved), so a year of statistics fetched 100 000 heap rows nine
-- times: 1.4 s on a warm cache, and no answer within 10 s under eight concurrent requests
-- at 10 M calls. The list's index now carries the columns the statistics read, so each
-- breakdown is an index-only scan of one contiguous range (about 12 ms for 100 000 calls),
-- whatever the table's size. Pre-aggregated counts were the alternative: cheaper to read,
-- but a write on every report and on every follow-up, and inexact for time zones whose
-- offset is not whole hours, for a read that is now a fraction of a second.
--
-- The included columns make the index about 60 bytes a call larger, and an update of
-- them no longer heap-only; the report's update changed indexed columns already.
--
-- An index-only scan skips the heap only for pages the visibility map marks all-visible,
-- which vacuum sets. By default autovacuum visits a table after a fifth of it changed
-- (2 M calls of 10 M: weeks of recent calls read from the heap); a fiftieth keeps the
-- recent part small, and vacuum skips the pages already all-visible.

-- +goose Up
DROP INDEX calls_user_started_idx;
CREATE INDEX calls_user_started_idx ON calls (user_id, started_at DESC, id DESC)
    INCLUDE (status, duration_seconds, cost, handling, disposition, ended_reason, phone_number_id, tags);
ALTER TABLE calls SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02);

-- +goose Down
ALTER TABLE calls RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor);
DROP INDEX calls_user_started_idx;
CREATE INDEX calls_user_started_idx ON calls (user_id, started_at DESC, id DESC);
