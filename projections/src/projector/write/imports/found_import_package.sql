INSERT INTO found_import_package (python_package_version_id, import_package_id)
SELECT * FROM unnest($1::int8[], $2::int8[]) ON CONFLICT DO NOTHING
