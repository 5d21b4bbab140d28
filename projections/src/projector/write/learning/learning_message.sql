INSERT INTO learning_message AS t (finding, driver, topic, reason, attempt,
first_queued_at, queued_at, position)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int4[], $6::timestamptz[],
$7::timestamptz[], $8::int8[])
ON CONFLICT (finding) DO UPDATE SET driver = EXCLUDED.driver, topic = EXCLUDED.topic,
reason = EXCLUDED.reason, attempt = EXCLUDED.attempt, queued_at = EXCLUDED.queued_at,
position = EXCLUDED.position WHERE EXCLUDED.position > t.position
