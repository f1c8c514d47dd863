-- Who owns a number is proven, not claimed. Registering a number makes a pending claim;
-- a claim becomes verified when its clinic proves it answers the line (a one-time code
-- sent to the number through Twilio Verify) or when the operator marks a number they
-- provisioned (`switchboard verify-number`). Only verified numbers route calls and claim
-- VAPI's messages. Several clinics may hold a pending claim on one number, so that a
-- clinic registering its own line is never told that someone else claimed it; at most
-- one claim is verified, and it wins: no other claim can be verified after it.

-- +goose Up
ALTER TABLE phone_numbers
    ADD COLUMN verification_status text NOT NULL DEFAULT 'pending'
        CHECK (verification_status IN ('pending', 'verified')),
    ADD COLUMN verified_at timestamptz,
    -- How the claim was proven: code (Twilio Verify), operator, or migrated (a number that
    -- already routed before claims had to be proven).
    ADD COLUMN verified_by text CHECK (verified_by IN ('code', 'operator', 'migrated')),
    ADD CHECK ((verification_status = 'verified') = (verified_at IS NOT NULL AND verified_by IS NOT NULL));

-- Numbers registered before this migration routed already; they keep doing so.
UPDATE phone_numbers SET verification_status = 'verified', verified_at = now(), verified_by = 'migrated';

ALTER TABLE phone_numbers DROP CONSTRAINT phone_numbers_phone_number_key;
-- A clinic claims a number once; one claim of a number is verified at most.
ALTER TABLE phone_numbers ADD CONSTRAINT phone_numbers_user_number_key UNIQUE (user_id, phone_number);
CREATE UNIQUE INDEX phone_numbers_verified_key ON phone_numbers (phone_number)
    WHERE verification_status = 'verified';

-- +goose Down
DROP INDEX phone_numbers_verified_key;
ALTER TABLE phone_numbers DROP CONSTRAINT phone_numbers_user_number_key;
DELETE FROM phone_numbers WHERE verification_status <> 'verified';
ALTER TABLE phone_numbers ADD CONSTRAINT phone_numbers_phone_number_key UNIQUE (phone_number);
ALTER TABLE phone_numbers DROP COLUMN verified_by, DROP COLUMN verified_at, DROP COLUMN verification_status;
