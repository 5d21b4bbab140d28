DELETE FROM depends_on WHERE version_id = ANY($1)
