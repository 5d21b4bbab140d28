INSERT INTO learning_driver AS t (driver, throttled, lag, pending_workflows, max_lag,
max_pending_workflows, changed_at, position)
SELECT * FROM unnest($1::text[], $2::bool[], $3::int8[], $4::int8[], $5::int8[], $6::int8[],
$7::timestamptz[], $8::int8[])
ON CONFLICT (driver) DO UPDATE SET throttled = EXCLUDED.throttled, lag = EXCLUDED.lag,
pending_workflows = EXCLUDED.pending_workflows, max_lag = EXCLUDED.max_lag,
max_pending_workflows = EXCLUDED.max_pending_workflows, changed_at = EXCLUDED.changed_at,
position = EXCLUDED.position WHERE EXCLUDED.position > t.position
