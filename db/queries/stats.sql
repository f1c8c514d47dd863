-- Statistics over a tenant's calls that started in [since, until). Each reads the
-- (user_id, started_at) index range once, without the table: the index includes every
-- column these read (migration 00023). Days and hours are those of the time zone tz.

-- name: CallTotals :one
SELECT count(*)                                              AS calls,
       count(*) FILTER (WHERE status = 'ended')              AS ended,
       count(*) FILTER (WHERE status = 'failed')             AS failed,
       coalesce(sum(duration_seconds), 0)::bigint            AS total_duration_seconds,
       coalesce(avg(duration_seconds), 0)::double precision  AS average_duration_seconds,
       coalesce(sum(cost), 0)::double precision              AS total_cost
FROM calls
WHERE user_id = @user_id AND started_at >= @since AND started_at < @until;

-- name: CallsByStatus :many
SELECT status, count(*) AS calls
FROM calls
WHERE user_id = @user_id AND started_at >= @since AND started_at < @until
GROUP BY status;

-- name: CallsByHandling :many
SELECT handling::text AS handling, count(*) AS calls
FROM calls
WHERE user_id = @user_id AND started_at >= @since AND started_at < @until AND handling IS NOT NULL
GROUP BY handling;

-- name: CallsByDisposition :many
SELECT disposition::text AS disposition, count(*) AS calls
FROM calls
WHERE user_id = @user_id AND started_at >= @since AND started_at < @until AND disposition IS NOT NULL
GROUP BY disposition;

-- name: CallsByTag :many
-- Calls per tag, most used first (at most 50 tags). Most calls have none: skipping them
-- before unnest saves a function call a row.
SELECT tag::text AS tag, count(*) AS calls
FROM calls, unnest(tags) AS tag
WHERE user_id = @user_id AND started_at >= @since AND started_at < @until AND tags <> '{}'
GROUP BY tag
ORDER BY calls DESC, tag
LIMIT 50;

-- name: CallsByEndedReason :many
SELECT ended_reason::text AS ended_reason, count(*) AS calls
FROM calls
WHERE user_id = @user_id AND started_at >= @since AND started_at < @until AND ended_reason IS NOT NULL
GROUP BY ended_reason
ORDER BY calls DESC, ended_reason;

-- name: CallsPerDay :many
-- Every day of the range, with zeros for days without calls.
WITH per_day AS (
    SELECT (started_at AT TIME ZONE sqlc.arg(tz)::text)::date AS day,
           count(*) AS calls,
           coalesce(sum(duration_seconds), 0) AS seconds
    FROM calls
    WHERE user_id = @user_id AND started_at >= @since AND started_at < @until
    GROUP BY 1
)
SELECT d.day::date AS day,
       coalesce(p.calls, 0)::bigint AS calls,
       (coalesce(p.seconds, 0) / 60.0)::double precision AS minutes
FROM generate_series((sqlc.arg(since)::timestamptz AT TIME ZONE sqlc.arg(tz)::text)::date,
                     ((sqlc.arg(until)::timestamptz - interval '1 microsecond') AT TIME ZONE sqlc.arg(tz)::text)::date,
                     interval '1 day') AS d(day)
LEFT JOIN per_day p ON p.day = d.day::date
ORDER BY d.day;

-- name: CallsByHour :many
-- Every hour of the day, 0 to 23, with zeros for hours without calls.
WITH per_hour AS (
    SELECT extract(hour FROM started_at AT TIME ZONE sqlc.arg(tz)::text)::integer AS hour, count(*) AS calls
    FROM calls
    WHERE user_id = @user_id AND started_at >= @since AND started_at < @until
    GROUP BY 1
)
SELECT h.hour::integer AS hour, coalesce(p.calls, 0)::bigint AS calls
FROM generate_series(0, 23) AS h(hour)
LEFT JOIN per_hour p ON p.hour = h.hour
ORDER BY h.hour;

-- name: CallsPerPhoneNumber :many
-- The calls are counted per number first, so that they are read from the index alone;
-- joined the other way round, a clinic with one line would fetch every call through the
-- number's own index.
SELECT p.id AS phone_number_id, p.phone_number, c.calls, c.answered, c.minutes
FROM (
    SELECT k.phone_number_id,
           count(*) AS calls,
           count(*) FILTER (WHERE k.status = 'ended') AS answered,
           (coalesce(sum(k.duration_seconds), 0) / 60.0)::double precision AS minutes
    FROM calls k
    WHERE k.user_id = @user_id AND k.started_at >= @since AND k.started_at < @until AND k.phone_number_id IS NOT NULL
    GROUP BY k.phone_number_id
) c
JOIN phone_numbers p ON p.user_id = @user_id AND p.id = c.phone_number_id
ORDER BY c.calls DESC, p.phone_number;
