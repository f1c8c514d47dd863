-- The dashboard's analytics over a tenant's calls that started in [since, until), with
-- days, weeks and months those of the time zone tz. Each reads the (user_id, started_at)
-- index range once.

-- name: AnalyticsTotals :one
-- Totals, rates' numerators and the duration buckets. A call is dropped when it failed, or
-- VAPI ended it on a pipeline error, on silence, or because the call's transport closed.
SELECT count(*) AS calls,
       coalesce(avg(duration_seconds), 0)::double precision AS average_duration_seconds,
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_seconds), 0)::double precision AS median_duration_seconds,
       coalesce(sum(cost), 0)::double precision AS total_cost,
       count(*) FILTER (WHERE succeeded) AS succeeded,
       count(*) FILTER (WHERE succeeded IS NOT NULL) AS judged,
       count(*) FILTER (WHERE handling = 'forwarded') AS forwarded,
       count(*) FILTER (WHERE handling = 'voicemail') AS voicemail,
       count(*) FILTER (WHERE status = 'failed' OR ended_reason LIKE 'pipeline-error%'
                        OR ended_reason IN ('silence-timed-out', 'phone-call-provider-closed-websocket')) AS dropped,
       count(*) FILTER (WHERE duration_seconds < 60) AS under_1m,
       count(*) FILTER (WHERE duration_seconds >= 60 AND duration_seconds < 120) AS from_1m_to_2m,
       count(*) FILTER (WHERE duration_seconds >= 120 AND duration_seconds < 180) AS from_2m_to_3m,
       count(*) FILTER (WHERE duration_seconds >= 180 AND duration_seconds < 300) AS from_3m_to_5m,
       count(*) FILTER (WHERE duration_seconds >= 300 AND duration_seconds < 600) AS from_5m_to_10m,
       count(*) FILTER (WHERE duration_seconds >= 600) AS over_10m
FROM call_summaries
WHERE user_id = @user_id AND started_at >= @since AND started_at < @until;

-- name: AnalyticsByWeekday :many
-- Every day of the week, 1 (Monday) to 7 (Sunday), with zeros.
WITH per_day AS (
    SELECT extract(isodow FROM started_at AT TIME ZONE sqlc.arg(tz)::text)::integer AS weekday, count(*) AS calls
    FROM calls
    WHERE user_id = @user_id AND started_at >= @since AND started_at < @until
    GROUP BY 1
)
SELECT d.weekday::integer AS weekday, coalesce(p.calls, 0)::bigint AS calls
FROM generate_series(1, 7) AS d(weekday)
LEFT JOIN per_day p ON p.weekday = d.weekday
ORDER BY d.weekday;

-- name: AnalyticsByWeek :many
-- Every week (starting Monday) the range touches, with zeros.
WITH per_week AS (
    SELECT date_trunc('week', started_at AT TIME ZONE sqlc.arg(tz)::text)::date AS week, count(*) AS calls
    FROM calls
    WHERE user_id = @user_id AND started_at >= @since AND started_at < @until
    GROUP BY 1
)
SELECT w.week::date AS week_start, coalesce(p.calls, 0)::bigint AS calls
FROM generate_series(date_trunc('week', sqlc.arg(since)::timestamptz AT TIME ZONE sqlc.arg(tz)::text),
                     date_trunc('week', (sqlc.arg(until)::timestamptz - interval '1 microsecond') AT TIME ZONE sqlc.arg(tz)::text),
                     interval '1 week') AS w(week)
LEFT JOIN per_week p ON p.week = w.week::date
ORDER BY w.week;

-- name: AnalyticsByMonth :many
-- Every month the range touches, with zeros: calls, cost and VAPI's cost by part.
WITH per_month AS (
    SELECT date_trunc('month', started_at AT TIME ZONE sqlc.arg(tz)::text)::date AS month,
           count(*) AS calls,
           coalesce(sum(cost), 0) AS cost,
           coalesce(sum((cost_breakdown ->> 'transport')::numeric), 0) AS transport,
           coalesce(sum((cost_breakdown ->> 'stt')::numeric), 0) AS stt,
           coalesce(sum((cost_breakdown ->> 'llm')::numeric), 0) AS llm,
           coalesce(sum((cost_breakdown ->> 'tts')::numeric), 0) AS tts,
           coalesce(sum((cost_breakdown ->> 'vapi')::numeric), 0) AS vapi
    FROM calls
    WHERE user_id = @user_id AND started_at >= @since AND started_at < @until
    GROUP BY 1
)
SELECT m.month::date AS month, coalesce(p.calls, 0)::bigint AS calls,
       coalesce(p.cost, 0)::double precision AS cost,
       coalesce(p.transport, 0)::double precision AS transport,
       coalesce(p.stt, 0)::double precision AS stt,
       coalesce(p.llm, 0)::double precision AS llm,
       coalesce(p.tts, 0)::double precision AS tts,
       coalesce(p.vapi, 0)::double precision AS vapi
FROM generate_series(date_trunc('month', sqlc.arg(since)::timestamptz AT TIME ZONE sqlc.arg(tz)::text),
                     date_trunc('month', (sqlc.arg(until)::timestamptz - interval '1 microsecond') AT TIME ZONE sqlc.arg(tz)::text),
                     interval '1 month') AS m(month)
LEFT JOIN per_month p ON p.month = m.month::date
ORDER BY m.month;

-- name: AnalyticsCallbacks :one
-- Callbacks opened, and completed, within the range.
SELECT count(*) FILTER (WHERE created_at >= @since AND created_at < @until) AS opened,
       count(*) FILTER (WHERE completed_at >= @since AND completed_at < @until) AS completed
FROM callbacks
WHERE user_id = @user_id AND (created_at >= @since AND created_at < @until OR completed_at >= @since AND completed_at < @until);
