INSERT INTO adviser_run AS t (id, adviser_document_id, datetime, adviser_version,
adviser_name, source_type, origin, recommendation_type, re_run_adviser_id, adviser_error, error_msg,
need_re_run, parameters, runtime_environment, recorded_position)
SELECT * FROM unnest($1::int8[], $2::text[], $3::timestamp[], $4::text[], $5::text[], $6::text[],
$7::text[], $8::text[], $9::text[], $10::bool[], $11::text[], $12::bool[], $13::jsonb[], $14::jsonb[],
$15::int8[])
ON CONFLICT (adviser_document_id) DO UPDATE SET datetime = EXCLUDED.datetime,
adviser_version = EXCLUDED.adviser_version, adviser_name = EXCLUDED.adviser_name,
source_type = EXCLUDED.source_type, origin = EXCLUDED.origin,
recommendation_type = EXCLUDED.recommendation_type, re_run_adviser_id = EXCLUDED.re_run_adviser_id,
adviser_error = EXCLUDED.adviser_error, error_msg = EXCLUDED.error_msg, need_re_run = EXCLUDED.need_re_run,
parameters = EXCLUDED.parameters, runtime_environment = EXCLUDED.runtime_environment,
recorded_position = EXCLUDED.recorded_position WHERE EXCLUDED.recorded_position > t.recorded_position
