INSERT INTO python_package_license (id, license_name, license_identifier,
license_version)
SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[])
ON CONFLICT (license_name, license_identifier, license_version) DO NOTHING
