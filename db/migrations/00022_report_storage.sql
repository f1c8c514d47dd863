-- What a report costs PostgreSQL to store. The large values it writes (the raw message in
-- the inbox, the transcript, the messages) are compressed with LZ4 rather than the
-- default pglz: several times less CPU, for slightly larger values. The messages are kept
-- as json (the text, checked) rather than jsonb: Switchboard serves them as VAPI sent them
-- and never queries inside them, and building jsonb's binary form of 20 KB, then printing
-- it back on every read, cost about 0.4 ms of CPU each time. Values already stored keep
-- their compression; new ones take the column's.

-- +goose Up
ALTER TABLE webhook_events ALTER COLUMN payload SET COMPRESSION lz4;
ALTER TABLE call_details DROP CONSTRAINT call_details_messages_check, DROP CONSTRAINT call_details_transcript_purged_check;
ALTER TABLE call_details ALTER COLUMN messages DROP DEFAULT,
    ALTER COLUMN messages TYPE json USING messages::json,
    ALTER COLUMN messages SET DEFAULT '[]'::json,
    ALTER COLUMN messages SET COMPRESSION lz4,
    ALTER COLUMN transcript SET COMPRESSION lz4;
ALTER TABLE call_details ADD CONSTRAINT call_details_messages_check CHECK (json_typeof(messages) = 'array'),
    ADD CONSTRAINT call_details_transcript_purged_check CHECK (
        transcript_purged_at IS NULL OR (transcript IS NULL AND messages::text = '[]'));
ALTER TABLE calls ALTER COLUMN structured_outputs SET COMPRESSION lz4;

-- +goose Down
ALTER TABLE calls ALTER COLUMN structured_outputs SET COMPRESSION default;
ALTER TABLE call_details DROP CONSTRAINT call_details_messages_check, DROP CONSTRAINT call_details_transcript_purged_check;
ALTER TABLE call_details ALTER COLUMN messages DROP DEFAULT,
    ALTER COLUMN messages TYPE jsonb USING messages::jsonb,
    ALTER COLUMN messages SET DEFAULT '[]'::jsonb,
    ALTER COLUMN messages SET COMPRESSION default,
    ALTER COLUMN transcript SET COMPRESSION default;
ALTER TABLE call_details ADD CONSTRAINT call_details_messages_check CHECK (jsonb_typeof(messages) = 'array'),
    ADD CONSTRAINT call_details_transcript_purged_check CHECK (
        transcript_purged_at IS NULL OR (transcript IS NULL AND messages = '[]'::jsonb));
ALTER TABLE webhook_events ALTER COLUMN payload SET COMPRESSION default;
