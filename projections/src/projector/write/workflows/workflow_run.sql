INSERT INTO workflow_run AS t (workflow_id, kind, namespace, status, package_name,
package_version, index_url, solver_name, trigger, parameters, requested_at, submitted_at, started_at,
finished_at, phase, message, status_rank, status_position)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
$8::text[], $9::text[], $10::jsonb[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[],
$14::timestamptz[], $15::text[], $16::text[], $17::int2[], $18::int8[])
ON CONFLICT (workflow_id) DO UPDATE SET
kind = COALESCE(t.kind, EXCLUDED.kind), namespace = COALESCE(t.namespace, EXCLUDED.namespace),
package_name = COALESCE(t.package_name, EXCLUDED.package_name),
package_version = COALESCE(t.package_version, EXCLUDED.package_version),
index_url = COALESCE(t.index_url, EXCLUDED.index_url),
solver_name = COALESCE(t.solver_name, EXCLUDED.solver_name),
trigger = COALESCE(t.trigger, EXCLUDED.trigger), parameters = COALESCE(t.parameters, EXCLUDED.parameters),
requested_at = COALESCE(t.requested_at, EXCLUDED.requested_at),
submitted_at = COALESCE(t.submitted_at, EXCLUDED.submitted_at),
started_at = COALESCE(t.started_at, EXCLUDED.started_at),
status = CASE WHEN (EXCLUDED.status_rank, EXCLUDED.status_position) > (t.status_rank, t.status_position)
    THEN EXCLUDED.status ELSE t.status END,
finished_at = CASE WHEN (EXCLUDED.status_rank, EXCLUDED.status_position) > (t.status_rank, t.status_position)
    THEN EXCLUDED.finished_at ELSE t.finished_at END,
phase = CASE WHEN (EXCLUDED.status_rank, EXCLUDED.status_position) > (t.status_rank, t.status_position)
    THEN EXCLUDED.phase ELSE t.phase END,
message = CASE WHEN (EXCLUDED.status_rank, EXCLUDED.status_position) > (t.status_rank, t.status_position)
    THEN EXCLUDED.message ELSE t.message END,
status_rank = GREATEST(t.status_rank, EXCLUDED.status_rank),
status_position = CASE WHEN (EXCLUDED.status_rank, EXCLUDED.status_position) > (t.status_rank, t.status_position)
    THEN EXCLUDED.status_position ELSE t.status_position END
