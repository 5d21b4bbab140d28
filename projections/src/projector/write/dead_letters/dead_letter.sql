INSERT INTO dead_letter AS t (topic, partition, "offset", reason_code, reason, attempts, key,
payload, dead_lettered_at, position)
SELECT * FROM unnest($1::text[], $2::int4[], $3::int8[], $4::text[], $5::text[], $6::int4[], $7::jsonb[],
$8::jsonb[], $9::timestamptz[], $10::int8[])
ON CONFLICT (topic, partition, "offset") DO UPDATE SET reason_code = EXCLUDED.reason_code,
reason = EXCLUDED.reason, attempts = EXCLUDED.attempts, key = EXCLUDED.key, payload = EXCLUDED.payload,
dead_lettered_at = EXCLUDED.dead_lettered_at, position = EXCLUDED.position, status = 'parked'
WHERE EXCLUDED.position > t.position
