INSERT INTO ecosystem_solver (id, solver_name, solver_version, os_name, os_version,
python_version)
SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
ON CONFLICT (ecosystem, solver_name, solver_version, os_name, os_version, python_version) DO NOTHING
