INSERT INTO solver_error_unprovided (document_id, ecosystem_solver_id, package_name,
package_version, index_url, details)
SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
ON CONFLICT (document_id, package_name, package_version, index_url) DO NOTHING
