-- The life of a call, written by the webhooks inside the owner's tenant transaction.

-- name: CreateInboundCall :one
-- Returns no row when a call with this CallSid exists: a retried or duplicate delivery.
INSERT INTO calls (
    id, user_id, phone_number_id, status, direction, caller_number, clinic_number,
    assistant_number, matched_by, twilio_call_sid, started_at, ended_at, ended_reason,
    handling, handling_reason, routed_assistant_id, forwarded_to, twiml
) VALUES (
    @id, @user_id, @phone_number_id, @status, 'inbound', sqlc.narg(caller_number),
    @clinic_number, sqlc.narg(assistant_number), @matched_by, @twilio_call_sid, now(),
    CASE WHEN call_status_final(@status) THEN now() END, sqlc.narg(ended_reason),
    sqlc.narg(handling), sqlc.narg(handling_reason), sqlc.narg(routed_assistant_id),
    sqlc.narg(forwarded_to), sqlc.narg(twiml)
)
ON CONFLICT (user_id, twilio_call_sid) DO NOTHING
RETURNING *;

-- name: InsertInboundCall :exec
-- The first delivery's way to record an inbound call: without a result, so it travels in
-- one round trip with the inbox record and the commit. A call with this CallSid already
-- recorded fails it (unique violation), and the delivery then takes CreateInboundCall's way.
INSERT INTO calls (
    id, user_id, phone_number_id, status, direction, caller_number, clinic_number,
    assistant_number, matched_by, twilio_call_sid, started_at, ended_at, ended_reason,
    handling, handling_reason, routed_assistant_id, forwarded_to, twiml
) VALUES (
    @id, @user_id, @phone_number_id, @status, 'inbound', sqlc.narg(caller_number),
    @clinic_number, sqlc.narg(assistant_number), @matched_by, @twilio_call_sid, now(),
    CASE WHEN call_status_final(@status) THEN now() END, sqlc.narg(ended_reason),
    sqlc.narg(handling), sqlc.narg(handling_reason), sqlc.narg(routed_assistant_id),
    sqlc.narg(forwarded_to), sqlc.narg(twiml)
);

-- name: GetCallBySid :one
SELECT * FROM calls WHERE user_id = @user_id AND twilio_call_sid = @twilio_call_sid;

-- name: RecordHandoff :exec
-- Stores the outcome of asking VAPI to take the call: the TwiML Twilio was given and, when
-- VAPI took it, its call id; when it did not, how the call was handled instead (the
-- fallback). A call never handed off (failed_reason) ends failed with the reason.
UPDATE calls SET
    twiml           = @twiml,
    vapi_call_id    = coalesce(vapi_call_id, sqlc.narg(vapi_call_id)),
    handling        = coalesce(sqlc.narg(handling), handling),
    handling_reason = coalesce(sqlc.narg(handling_reason), handling_reason),
    forwarded_to    = coalesce(sqlc.narg(forwarded_to), forwarded_to),
    status       = CASE WHEN sqlc.narg(failed_reason)::text IS NOT NULL AND NOT call_status_final(status)
                        THEN 'failed' ELSE status END,
    ended_reason = coalesce(ended_reason, sqlc.narg(failed_reason)),
    ended_at     = CASE WHEN sqlc.narg(failed_reason)::text IS NOT NULL THEN coalesce(ended_at, now())
                        ELSE ended_at END
WHERE user_id = @user_id AND id = @id;

-- name: AdvanceCallStatus :exec
-- Moves a call forward. An update that is not ahead of the call's status (a late or
-- reordered delivery) changes nothing, so an ended call never moves back.
UPDATE calls SET
    status           = CASE WHEN call_status_rank(@status) > call_status_rank(status) THEN @status ELSE status END,
    ended_reason     = CASE WHEN call_status_final(@status) THEN coalesce(ended_reason, sqlc.narg(ended_reason)) ELSE ended_reason END,
    ended_at         = CASE WHEN call_status_final(@status) THEN coalesce(ended_at, now()) ELSE ended_at END,
    duration_seconds = coalesce(duration_seconds, sqlc.narg(duration_seconds)),
    vapi_call_id     = coalesce(vapi_call_id, sqlc.narg(vapi_call_id))
WHERE user_id = @user_id AND id = @id;

-- name: InsertReportedCall :one
-- A call first heard of through VAPI (its report came before, or without, Twilio's side).
-- Upserts on vapi_call_id, so concurrent messages about the same call make one row.
INSERT INTO calls (user_id, phone_number_id, status, direction, vapi_call_id, caller_number, started_at)
VALUES (@user_id, @phone_number_id, 'initiated', 'inbound', @vapi_call_id, sqlc.narg(caller_number),
        coalesce(sqlc.narg(started_at)::timestamptz, now()))
ON CONFLICT (user_id, vapi_call_id) DO UPDATE SET vapi_call_id = excluded.vapi_call_id
RETURNING *;

-- name: StoreEndOfCallReport :exec
-- Stores VAPI's end-of-call report on the call with this id, or records the call with its
-- report when Switchboard never did (the report came before, or without, Twilio's side),
-- and the transcript beside it, in one statement. Storing the same report again changes
-- nothing. An existing call keeps its started_at, so pages already read stay consistent.
-- A value left out (null) keeps what is stored. The call's search vector becomes stale:
-- the search indexer recomputes it from the summary and the transcript.
WITH call AS (
    INSERT INTO calls AS c (
        id, user_id, phone_number_id, status, direction, vapi_call_id, caller_number, started_at,
        ended_at, duration_seconds, ended_reason, recording_url, stereo_recording_url, summary,
        success_evaluation, structured_data, structured_outputs, cost, cost_breakdown
    ) VALUES (
        @id, @user_id, sqlc.narg(phone_number_id), 'ended', 'inbound', sqlc.narg(vapi_call_id),
        sqlc.narg(caller_number), coalesce(sqlc.narg(started_at)::timestamptz, now()),
        coalesce(sqlc.narg(ended_at)::timestamptz, now()), sqlc.narg(duration_seconds), sqlc.narg(ended_reason),
        -- A clinic in HIPAA mode keeps no recording URL.
        CASE WHEN NOT hipaa_mode(@user_id) THEN sqlc.narg(recording_url) END,
        CASE WHEN NOT hipaa_mode(@user_id) THEN sqlc.narg(stereo_recording_url) END,
        sqlc.narg(summary), sqlc.narg(success_evaluation), sqlc.narg(structured_data), sqlc.narg(structured_outputs),
        sqlc.narg(cost), sqlc.narg(cost_breakdown)
    )
    ON CONFLICT (id, user_id) DO UPDATE SET
        vapi_call_id         = coalesce(c.vapi_call_id, excluded.vapi_call_id),
        status               = CASE WHEN NOT call_status_final(c.status) THEN 'ended' ELSE c.status END,
        ended_at             = coalesce(sqlc.narg(ended_at)::timestamptz, c.ended_at, now()),
        duration_seconds     = coalesce(excluded.duration_seconds, c.duration_seconds),
        ended_reason         = coalesce(excluded.ended_reason, c.ended_reason),
        -- A recording purged by retention stays purged.
        recording_url        = CASE WHEN c.recording_purged_at IS NULL THEN coalesce(excluded.recording_url, c.recording_url) END,
        stereo_recording_url = CASE WHEN c.recording_purged_at IS NULL THEN coalesce(excluded.stereo_recording_url, c.stereo_recording_url) END,
        summary              = coalesce(excluded.summary, c.summary),
        success_evaluation   = coalesce(excluded.success_evaluation, c.success_evaluation),
        structured_data      = coalesce(excluded.structured_data, c.structured_data),
        structured_outputs   = coalesce(excluded.structured_outputs, c.structured_outputs),
        cost                 = coalesce(excluded.cost, c.cost),
        cost_breakdown       = coalesce(excluded.cost_breakdown, c.cost_breakdown)
    RETURNING c.id, c.user_id
)
INSERT INTO call_details (call_id, user_id, transcript, messages, search_stale)
SELECT call.id, call.user_id, sqlc.narg(transcript), coalesce(sqlc.narg(messages)::json, '[]'::json), true
FROM call
ON CONFLICT (user_id, call_id) DO UPDATE SET
    -- A transcript purged by retention stays purged.
    transcript   = CASE WHEN call_details.transcript_purged_at IS NULL THEN coalesce(excluded.transcript, call_details.transcript) END,
    messages     = CASE WHEN call_details.transcript_purged_at IS NULL THEN coalesce(sqlc.narg(messages)::json, call_details.messages)
                        ELSE call_details.messages END,
    search_stale = true;

-- name: RouteToVoicemail :exec
-- A forward nobody answered: the caller is sent to voicemail.
UPDATE calls SET handling = 'voicemail', handling_reason = @handling_reason
WHERE user_id = @user_id AND id = @id AND handling = 'forwarded';

-- name: StoreVoicemail :exec
-- Keeps the voicemail's recording (Twilio's id) and length; the first id stays.
UPDATE calls SET
    voicemail_recording_sid    = CASE WHEN recording_purged_at IS NULL THEN coalesce(voicemail_recording_sid, @voicemail_recording_sid) END,
    voicemail_duration_seconds = coalesce(sqlc.narg(voicemail_duration_seconds), voicemail_duration_seconds)
WHERE user_id = @user_id AND id = @id;

-- name: InsertRoutedVapiCall :one
-- A call VAPI asked an assistant for (assistant-request), recorded with how it is handled.
-- Returns no row when the VAPI call is recorded already: a repeated request.
INSERT INTO calls (
    id, user_id, phone_number_id, status, direction, caller_number, clinic_number, vapi_call_id,
    matched_by, started_at, ended_at, ended_reason, handling, handling_reason, routed_assistant_id, forwarded_to
) VALUES (
    @id, @user_id, @phone_number_id, @status, 'inbound', sqlc.narg(caller_number), @clinic_number, @vapi_call_id,
    'to', now(), CASE WHEN call_status_final(@status) THEN now() END, sqlc.narg(ended_reason),
    @handling, @handling_reason, sqlc.narg(routed_assistant_id), sqlc.narg(forwarded_to)
)
ON CONFLICT (user_id, vapi_call_id) DO NOTHING
RETURNING *;

-- name: GetCallByVapiID :one
SELECT * FROM calls WHERE user_id = @user_id AND vapi_call_id = @vapi_call_id;
