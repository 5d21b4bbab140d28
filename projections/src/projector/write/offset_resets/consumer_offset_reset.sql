INSERT INTO consumer_offset_reset (position, consumer_group, topic, partition,
stored_offset, low_watermark, high_watermark, policy, reset_to, reset_at)
SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::int4[], $5::int8[], $6::int8[], $7::int8[],
$8::text[], $9::int8[], $10::timestamptz[])
ON CONFLICT (position) DO NOTHING
