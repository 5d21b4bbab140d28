INSERT INTO python_package_version AS t (id, entity_id, package_name, package_version,
python_package_index_id, os_name, os_version, python_version, package_license, package_license_warning,
metadata, solver_entry, entry_datetime, entry_position)
SELECT * FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], $5::int8[], $6::text[], $7::text[],
$8::text[], $9::int8[], $10::bool[], $11::jsonb[], $12::jsonb[], $13::timestamp[], $14::int8[])
ON CONFLICT (package_name, package_version, python_package_index_id, os_name, os_version, python_version)
DO UPDATE SET package_license = EXCLUDED.package_license,
package_license_warning = EXCLUDED.package_license_warning, metadata = EXCLUDED.metadata,
solver_entry = EXCLUDED.solver_entry, entry_datetime = EXCLUDED.entry_datetime,
entry_position = EXCLUDED.entry_position
WHERE EXCLUDED.entry_position > 0 AND (t.entry_position = 0
    OR (EXCLUDED.entry_datetime, EXCLUDED.entry_position) > (t.entry_datetime, t.entry_position))
RETURNING id
