INSERT INTO parked_adviser AS t (adviser_document_id, unresolved, solver_name, parked_at,
parked_position, re_run_requested_at, re_run_job_id, re_run_requested_position, resolved_by,
resolved_position)
SELECT * FROM unnest($1::text[], $2::jsonb[], $3::text[], $4::timestamptz[], $5::int8[],
$6::timestamptz[], $7::text[], $8::int8[], $9::text[], $10::int8[])
ON CONFLICT (adviser_document_id) DO UPDATE SET
unresolved = CASE WHEN EXCLUDED.parked_position > t.parked_position THEN EXCLUDED.unresolved ELSE t.unresolved END,
solver_name = CASE WHEN EXCLUDED.parked_position > t.parked_position THEN EXCLUDED.solver_name ELSE t.solver_name END,
parked_at = CASE WHEN EXCLUDED.parked_position > t.parked_position THEN EXCLUDED.parked_at ELSE t.parked_at END,
parked_position = GREATEST(t.parked_position, EXCLUDED.parked_position),
re_run_requested_at = CASE WHEN EXCLUDED.re_run_requested_position > t.re_run_requested_position
    THEN EXCLUDED.re_run_requested_at ELSE t.re_run_requested_at END,
re_run_job_id = CASE WHEN EXCLUDED.re_run_requested_position > t.re_run_requested_position
    THEN EXCLUDED.re_run_job_id ELSE t.re_run_job_id END,
re_run_requested_position = GREATEST(t.re_run_requested_position, EXCLUDED.re_run_requested_position),
resolved_by = CASE WHEN EXCLUDED.resolved_position > t.resolved_position
    THEN EXCLUDED.resolved_by ELSE t.resolved_by END,
resolved_position = GREATEST(t.resolved_position, EXCLUDED.resolved_position)
