INSERT INTO si_aggregated (si_aggregated_run_id, python_package_version_entity_id)
SELECT * FROM unnest($1::int8[], $2::int8[]) ON CONFLICT DO NOTHING
