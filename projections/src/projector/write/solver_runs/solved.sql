INSERT INTO solved AS t (ecosystem_solver_id, version_id, document_id, datetime, duration,
error, error_unparseable, error_unsolvable, is_provided, position)
SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::timestamp[], $5::int4[], $6::bool[],
$7::bool[], $8::bool[], $9::bool[], $10::int8[])
ON CONFLICT (ecosystem_solver_id, version_id) DO UPDATE SET document_id = EXCLUDED.document_id,
datetime = EXCLUDED.datetime, duration = EXCLUDED.duration, error = EXCLUDED.error,
error_unparseable = EXCLUDED.error_unparseable, error_unsolvable = EXCLUDED.error_unsolvable,
is_provided = EXCLUDED.is_provided, position = EXCLUDED.position
WHERE (EXCLUDED.datetime, EXCLUDED.position) > (t.datetime, t.position)
