UPDATE dead_letter AS t SET status = s.status, status_position = s.position
FROM unnest($1::text[], $2::int4[], $3::int8[], $4::text[], $5::int8[])
    AS s (topic, partition, "offset", status, position)
WHERE t.topic = s.topic AND t.partition = s.partition AND t."offset" = s."offset"
  AND s.position > t.position AND s.position > t.status_position
