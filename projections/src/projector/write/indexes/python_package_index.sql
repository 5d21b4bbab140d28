INSERT INTO python_package_index AS t (id, url, warehouse_api_url, verify_ssl,
only_if_package_seen, registered_position, enabled, enabled_position, updated_at)
SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::bool[], $5::bool[], $6::int8[], $7::bool[],
$8::int8[], $9::timestamptz[])
ON CONFLICT (url) DO UPDATE SET
warehouse_api_url = CASE WHEN EXCLUDED.registered_position > t.registered_position
    THEN EXCLUDED.warehouse_api_url ELSE t.warehouse_api_url END,
verify_ssl = CASE WHEN EXCLUDED.registered_position > t.registered_position
    THEN EXCLUDED.verify_ssl ELSE t.verify_ssl END,
only_if_package_seen = CASE WHEN EXCLUDED.registered_position > t.registered_position
    THEN EXCLUDED.only_if_package_seen ELSE t.only_if_package_seen END,
registered_position = GREATEST(t.registered_position, EXCLUDED.registered_position),
enabled = CASE WHEN EXCLUDED.enabled_position > t.enabled_position THEN EXCLUDED.enabled ELSE t.enabled END,
enabled_position = GREATEST(t.enabled_position, EXCLUDED.enabled_position),
updated_at = COALESCE(EXCLUDED.updated_at, t.updated_at)
WHERE EXCLUDED.registered_position > t.registered_position OR EXCLUDED.enabled_position > t.enabled_position
