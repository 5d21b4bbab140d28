INSERT INTO python_package_version_entity AS t (id, package_name, package_version,
python_package_index_id, first_seen_at, missing_position, present_position, provides_source_distro,
source_distro_position)
SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::int8[], $5::timestamptz[], $6::int8[],
$7::int8[], $8::bool[], $9::int8[])
ON CONFLICT (package_name, package_version, python_package_index_id) DO UPDATE SET
missing_position = GREATEST(t.missing_position, EXCLUDED.missing_position),
present_position = GREATEST(t.present_position, EXCLUDED.present_position),
provides_source_distro = CASE WHEN EXCLUDED.source_distro_position > t.source_distro_position
    THEN EXCLUDED.provides_source_distro ELSE t.provides_source_distro END,
source_distro_position = GREATEST(t.source_distro_position, EXCLUDED.source_distro_position)
WHERE EXCLUDED.missing_position > t.missing_position OR EXCLUDED.present_position > t.present_position
OR EXCLUDED.source_distro_position > t.source_distro_position
