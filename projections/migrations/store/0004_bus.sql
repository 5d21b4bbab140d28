-- The embedded bus: Thoth messages published without Kafka (`investigator emit` with no
-- KAFKA_BOOTSTRAP_SERVERS), consumed by `investigator serve` as one-partition topics, with the
-- same offsets and exactly-once path as Kafka records. A topic's head row is locked by each
-- publishing transaction, so offsets are gapless and in commit order.
CREATE TABLE investigator.bus_head (
    topic       TEXT   PRIMARY KEY,
    next_offset BIGINT NOT NULL CHECK (next_offset >= 0)
);

CREATE TABLE investigator.bus_record (
    topic        TEXT        NOT NULL,
    "offset"     BIGINT      NOT NULL CHECK ("offset" >= 0),
    payload      BYTEA       NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (topic, "offset")
);
