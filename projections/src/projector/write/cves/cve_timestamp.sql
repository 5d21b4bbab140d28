INSERT INTO cve_timestamp AS t (id, timestamp) VALUES (1, $1)
ON CONFLICT (id) DO UPDATE SET timestamp = GREATEST(t.timestamp, EXCLUDED.timestamp)
