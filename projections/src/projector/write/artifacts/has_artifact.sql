INSERT INTO has_artifact (python_package_version_entity_id, python_artifact_id)
SELECT * FROM unnest($1::int8[], $2::int8[]) ON CONFLICT DO NOTHING
