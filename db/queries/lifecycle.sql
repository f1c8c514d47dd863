-- The life of a call, written by the webhooks inside the owner's tenant transaction.

-- name: CreateInboundCall :one
-- Returns no row when a call with this CallSid exists: a retried or duplicate delivery.
INSERT INTO calls (
    user_id, phone_number_id, status, direction, caller_number, clinic_number,
    assistant_number, matched_by, twilio_call_sid, started_at
) VALUES (
    @user_id, @phone_number_id, 'initiated', 'inbound', sqlc.narg(caller_number),
    @clinic_number, sqlc.narg(assistant_number), @matched_by, @twilio_call_sid, now()
)
ON CONFLICT (twilio_call_sid) DO NOTHING
RETURNING *;

-- name: GetCallBySid :one
SELECT * FROM calls WHERE user_id = @user_id AND twilio_call_sid = @twilio_call_sid;

-- name: RecordHandoff :one
-- Stores the outcome of asking VAPI to take the call: the TwiML Twilio was given and, when
-- VAPI took it, its call id; when it did not, the call ends failed with the reason.
UPDATE calls SET
    twiml        = @twiml,
    vapi_call_id = coalesce(vapi_call_id, sqlc.narg(vapi_call_id)),
    status       = CASE WHEN sqlc.narg(failed_reason)::text IS NOT NULL AND call_status_rank(status) < 4
                        THEN 'failed' ELSE status END,
    ended_reason = coalesce(ended_reason, sqlc.narg(failed_reason)),
    ended_at     = CASE WHEN sqlc.narg(failed_reason)::text IS NOT NULL THEN coalesce(ended_at, now())
                        ELSE ended_at END
WHERE user_id = @user_id AND id = @id
RETURNING *;

-- name: AdvanceCallStatus :one
-- Moves a call forward. An update that is not ahead of the call's status (a late or
-- reordered delivery) changes nothing, so an ended call never moves back.
UPDATE calls SET
    status           = CASE WHEN call_status_rank(@status) > call_status_rank(status) THEN @status ELSE status END,
    ended_reason     = CASE WHEN call_status_rank(@status) = 4 THEN coalesce(ended_reason, sqlc.narg(ended_reason)) ELSE ended_reason END,
    ended_at         = CASE WHEN call_status_rank(@status) = 4 THEN coalesce(ended_at, now()) ELSE ended_at END,
    duration_seconds = coalesce(duration_seconds, sqlc.narg(duration_seconds)),
    vapi_call_id     = coalesce(vapi_call_id, sqlc.narg(vapi_call_id))
WHERE user_id = @user_id AND id = @id
RETURNING *;

-- name: InsertReportedCall :one
-- A call first heard of through VAPI (its report came before, or without, Twilio's side).
-- Upserts on vapi_call_id, so concurrent messages about the same call make one row.
INSERT INTO calls (user_id, phone_number_id, status, direction, vapi_call_id, caller_number, started_at)
VALUES (@user_id, @phone_number_id, 'initiated', 'inbound', @vapi_call_id, sqlc.narg(caller_number),
        coalesce(sqlc.narg(started_at)::timestamptz, now()))
ON CONFLICT (vapi_call_id) DO UPDATE SET vapi_call_id = excluded.vapi_call_id
RETURNING *;

-- name: ApplyEndOfCallReport :one
-- Stores VAPI's end-of-call report. Applying the same report again changes nothing. The
-- call keeps its started_at, so pages already read stay consistent.
UPDATE calls SET
    vapi_call_id         = coalesce(vapi_call_id, sqlc.narg(vapi_call_id)),
    status               = CASE WHEN call_status_rank(status) < 4 THEN 'ended' ELSE status END,
    ended_at             = coalesce(sqlc.narg(ended_at), ended_at, now()),
    duration_seconds     = coalesce(sqlc.narg(duration_seconds), duration_seconds),
    ended_reason         = coalesce(sqlc.narg(ended_reason), ended_reason),
    recording_url        = coalesce(sqlc.narg(recording_url), recording_url),
    stereo_recording_url = coalesce(sqlc.narg(stereo_recording_url), stereo_recording_url),
    summary              = coalesce(sqlc.narg(summary), summary),
    success_evaluation   = coalesce(sqlc.narg(success_evaluation), success_evaluation),
    structured_data      = coalesce(sqlc.narg(structured_data), structured_data),
    cost                 = coalesce(sqlc.narg(cost), cost)
WHERE user_id = @user_id AND id = @id
RETURNING *;
