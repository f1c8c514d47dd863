-- What a call cost on VAPI, part by part (its report's costBreakdown: transport, speech to
-- text, the language model, text to speech, VAPI's own fee), for the monthly cost analytics.

-- +goose Up
ALTER TABLE calls ADD COLUMN cost_breakdown jsonb CHECK (jsonb_typeof(cost_breakdown) = 'object');

-- +goose Down
ALTER TABLE calls DROP COLUMN cost_breakdown;
