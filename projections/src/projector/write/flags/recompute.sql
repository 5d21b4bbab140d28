WITH touched AS (
    SELECT unnest($1::int8[]) AS id
    UNION
    SELECT e.id FROM python_package_version_entity e
    JOIN unnest($2::text[], $3::int8[]) AS p (package_name, index_id)
      ON e.package_name = p.package_name AND e.python_package_index_id = p.index_id
), target AS (
    SELECT e.id, GREATEST(e.missing_position, COALESCE(m.missing_position, 0)) > e.present_position
        AS is_missing, e.provides_source_distro
    FROM touched JOIN python_package_version_entity e ON e.id = touched.id
    LEFT JOIN python_package_missing m
      ON m.package_name = e.package_name AND m.python_package_index_id = e.python_package_index_id
), entities AS (
    UPDATE python_package_version_entity e SET is_missing = target.is_missing FROM target
    WHERE e.id = target.id AND e.is_missing IS DISTINCT FROM target.is_missing
)
UPDATE python_package_version v
SET is_missing = target.is_missing, provides_source_distro = target.provides_source_distro
FROM target WHERE v.entity_id = target.id
  AND (v.is_missing, v.provides_source_distro) IS DISTINCT FROM (target.is_missing, target.provides_source_distro)
