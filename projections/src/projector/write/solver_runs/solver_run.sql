INSERT INTO solver_run (document_id, version_id, ecosystem_solver_id, datetime, duration,
error, error_unparseable, error_unsolvable, is_provided)
SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::timestamp[], $5::int4[], $6::bool[],
$7::bool[], $8::bool[], $9::bool[]) ON CONFLICT (document_id, version_id) DO NOTHING
