INSERT INTO python_artifact AS t (id, artifact_hash_sha256, seen_position,
absent_position)
SELECT * FROM unnest($1::int8[], $2::text[], $3::int8[], $4::int8[])
ON CONFLICT (artifact_hash_sha256) DO UPDATE SET
seen_position = GREATEST(t.seen_position, EXCLUDED.seen_position),
absent_position = GREATEST(t.absent_position, EXCLUDED.absent_position)
WHERE EXCLUDED.seen_position > t.seen_position OR EXCLUDED.absent_position > t.absent_position
