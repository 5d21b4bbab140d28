INSERT INTO import_package (id, import_package_name)
SELECT * FROM unnest($1::int8[], $2::text[]) ON CONFLICT (import_package_name) DO NOTHING
