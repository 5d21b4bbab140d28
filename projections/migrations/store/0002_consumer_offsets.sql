-- Kafka offsets, written in the same transaction as the effects of the records before them.
CREATE TABLE investigator.consumer_offset (
    consumer_group TEXT        NOT NULL,
    topic          TEXT        NOT NULL,
    partition      INTEGER     NOT NULL CHECK (partition >= 0),
    next_offset    BIGINT      NOT NULL CHECK (next_offset >= 0),
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consumer_group, topic, partition)
);
