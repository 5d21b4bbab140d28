-- Consumer offsets moved other than by applying records (event ConsumerOffsetReset): a
-- stored offset outside the broker's log reset by INVESTIGATOR_OFFSET_RESET, or an operator's
-- `investigator offsets reset`. /api/v1/status shows the latest.

CREATE TABLE consumer_offset_reset (
    position        BIGINT      PRIMARY KEY,
    consumer_group  TEXT        NOT NULL,
    topic           TEXT        NOT NULL,
    partition       INTEGER     NOT NULL,
    stored_offset   BIGINT,
    low_watermark   BIGINT,
    high_watermark  BIGINT,
    policy          TEXT        NOT NULL,
    reset_to        BIGINT      NOT NULL,
    reset_at        TIMESTAMPTZ NOT NULL
);
