INSERT INTO cve AS t (id, cve_id, details, link, aggregated_at, updated_position)
SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::timestamp[], $6::int8[])
ON CONFLICT (cve_id) DO UPDATE SET details = EXCLUDED.details, link = EXCLUDED.link,
updated_position = EXCLUDED.updated_position WHERE EXCLUDED.updated_position > t.updated_position
