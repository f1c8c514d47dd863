-- A clinic's routing settings: its assistants, its routing policies (the clinic's and its
-- numbers' own) and its blocked callers. Every query takes user_id and filters by it;
-- row-level security confines them as well.

-- name: ListAssistants :many
SELECT * FROM assistants WHERE user_id = @user_id ORDER BY created_at DESC, vapi_assistant_id;

-- name: CreateAssistant :one
-- Fails on assistant_owners_pkey when another clinic registered the assistant, and on
-- assistants_pkey when this one did.
INSERT INTO assistants (vapi_assistant_id, user_id, name, created_by)
VALUES (@vapi_assistant_id, @user_id, sqlc.narg(name), @created_by)
RETURNING *;

-- name: DeleteAssistant :execrows
DELETE FROM assistants WHERE user_id = @user_id AND vapi_assistant_id = @vapi_assistant_id;

-- name: GetRoutingPolicy :one
-- The routing calls to a number follow: its own, else the clinic's (phone_number_id null
-- asks for the clinic's). No row: the clinic set none.
SELECT * FROM routing_policies
WHERE user_id = @user_id AND (phone_number_id = sqlc.narg(phone_number_id) OR phone_number_id IS NULL)
ORDER BY phone_number_id NULLS LAST
LIMIT 1;

-- name: PutRoutingPolicy :one
INSERT INTO routing_policies (
    user_id, phone_number_id, clinic_name, time_zone, weekly_hours, closures, closed_action,
    after_hours_assistant_id, on_call_number, fallback_number, voicemail_greeting, spam_policy, updated_by
) VALUES (
    @user_id, sqlc.narg(phone_number_id), sqlc.narg(clinic_name), sqlc.narg(time_zone), @weekly_hours, @closures,
    @closed_action, sqlc.narg(after_hours_assistant_id), sqlc.narg(on_call_number), sqlc.narg(fallback_number),
    sqlc.narg(voicemail_greeting), @spam_policy, @updated_by
)
ON CONFLICT (user_id, phone_number_id) DO UPDATE SET
    clinic_name              = excluded.clinic_name,
    time_zone                = excluded.time_zone,
    weekly_hours             = excluded.weekly_hours,
    closures                 = excluded.closures,
    closed_action            = excluded.closed_action,
    after_hours_assistant_id = excluded.after_hours_assistant_id,
    on_call_number           = excluded.on_call_number,
    fallback_number          = excluded.fallback_number,
    voicemail_greeting       = excluded.voicemail_greeting,
    spam_policy              = excluded.spam_policy,
    updated_by               = excluded.updated_by,
    updated_at               = now()
RETURNING *;

-- name: DeletePhoneNumberRouting :execrows
DELETE FROM routing_policies WHERE user_id = @user_id AND phone_number_id = @phone_number_id;

-- name: ListBlockedCallers :many
SELECT * FROM blocked_callers WHERE user_id = @user_id ORDER BY created_at DESC, id DESC;

-- name: CreateBlockedCaller :one
-- Fails on blocked_callers_user_id_phone_number_key when the caller is blocked already.
INSERT INTO blocked_callers (user_id, phone_number, reason, created_by)
VALUES (@user_id, @phone_number, sqlc.narg(reason), @created_by)
RETURNING *;

-- name: DeleteBlockedCaller :execrows
DELETE FROM blocked_callers WHERE user_id = @user_id AND id = @id;

-- name: GetClinicSettings :one
SELECT * FROM clinic_settings WHERE user_id = @user_id;

-- name: PutClinicSettings :one
-- Replaces the clinic's settings; a retention window left null is Switchboard's default.
INSERT INTO clinic_settings (user_id, hipaa_mode, transcript_retention_days, recording_retention_days, call_retention_days, updated_by)
VALUES (@user_id, @hipaa_mode, sqlc.narg(transcript_retention_days), sqlc.narg(recording_retention_days),
        sqlc.narg(call_retention_days), sqlc.narg(updated_by))
ON CONFLICT (user_id) DO UPDATE SET
    hipaa_mode                = excluded.hipaa_mode,
    transcript_retention_days = excluded.transcript_retention_days,
    recording_retention_days  = excluded.recording_retention_days,
    call_retention_days       = excluded.call_retention_days,
    updated_by                = excluded.updated_by,
    updated_at                = now()
RETURNING *;
