INSERT INTO python_package_missing AS t (package_name, python_package_index_id,
missing_position, marked_at)
SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::timestamptz[])
ON CONFLICT (package_name, python_package_index_id) DO UPDATE SET
missing_position = EXCLUDED.missing_position, marked_at = EXCLUDED.marked_at
WHERE EXCLUDED.missing_position > t.missing_position
