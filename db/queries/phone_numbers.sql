-- Every query takes user_id and filters by it, although row-level security would confine
-- it anyway: the policy is the second wall, not the first.

-- name: ListPhoneNumbers :many
SELECT * FROM phone_numbers
WHERE user_id = @user_id
ORDER BY created_at DESC, id DESC;

-- name: GetPhoneNumber :one
SELECT * FROM phone_numbers
WHERE user_id = @user_id AND id = @id;

-- name: CreatePhoneNumber :one
INSERT INTO phone_numbers (user_id, phone_number, label, vapi_assistant_id, vapi_phone_number_id)
VALUES (@user_id, @phone_number, sqlc.narg(label), sqlc.narg(vapi_assistant_id), sqlc.narg(vapi_phone_number_id))
RETURNING *;

-- name: UpdatePhoneNumber :one
-- Each optional field comes with a set_ flag, so that an explicit null clears it while a
-- field left out of the request keeps its value.
UPDATE phone_numbers SET
    label                = CASE WHEN @set_label::boolean THEN sqlc.narg(label) ELSE label END,
    vapi_assistant_id    = CASE WHEN @set_vapi_assistant_id::boolean THEN sqlc.narg(vapi_assistant_id) ELSE vapi_assistant_id END,
    vapi_phone_number_id = CASE WHEN @set_vapi_phone_number_id::boolean THEN sqlc.narg(vapi_phone_number_id) ELSE vapi_phone_number_id END,
    is_active            = coalesce(sqlc.narg(is_active), is_active)
WHERE user_id = @user_id AND id = @id
RETURNING *;

-- name: DeletePhoneNumber :execrows
DELETE FROM phone_numbers
WHERE user_id = @user_id AND id = @id;

-- name: IsNumberVerifiedElsewhere :one
-- Whether another clinic holds the verified claim of this number. It runs as the service
-- (no tenant can see another's claims) and says only yes or no.
SELECT EXISTS (
    SELECT 1 FROM verified_numbers
    WHERE phone_number = @phone_number AND user_id <> @user_id
) AS taken;

-- name: MarkPhoneNumberVerified :one
-- Makes the tenant's claim the verified one. Fails on verified_numbers_pkey when
-- another claim of the number is verified already.
UPDATE phone_numbers SET
    verification_status = 'verified',
    verified_at         = coalesce(verified_at, now()),
    verified_by         = coalesce(verified_by, @verified_by)
WHERE user_id = @user_id AND id = @id
RETURNING *;

-- name: GetPhoneNumberByNumber :one
SELECT * FROM phone_numbers
WHERE user_id = @user_id AND phone_number = @phone_number;
