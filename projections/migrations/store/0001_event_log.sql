-- The event log: every change to the knowledge, in commit order. Append-only.
--
-- Positions are handed out under the lock on the single log_head row, which each appending
-- transaction holds until it commits or rolls back. So positions are gapless and in commit
-- order: a reader that has seen position N has seen every position below N, and an event that
-- commits later always has a higher position.

CREATE TABLE investigator.event_log (
    position       BIGINT      PRIMARY KEY CHECK (position > 0),
    stream_id      TEXT        NOT NULL,
    stream_version BIGINT      NOT NULL CHECK (stream_version > 0),
    event_type     TEXT        NOT NULL,
    schema_version INTEGER     NOT NULL CHECK (schema_version > 0),
    payload        JSONB       NOT NULL,
    metadata       JSONB       NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT event_log_stream_version UNIQUE (stream_id, stream_version)
);

CREATE TABLE investigator.log_head (
    id       SMALLINT PRIMARY KEY CHECK (id = 1),
    position BIGINT   NOT NULL CHECK (position >= 0)
);
INSERT INTO investigator.log_head (id, position) VALUES (1, 0);

-- One row per appended batch that carried an idempotency key: appending the same key again
-- appends nothing and answers with the batch that is already there.
CREATE TABLE investigator.appended_batch (
    idempotency_key TEXT        PRIMARY KEY,
    first_position  BIGINT      NOT NULL,
    event_count     INTEGER     NOT NULL,
    appended_at     TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION investigator.refuse_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on investigator.event_log is refused', TG_OP;
END;
$$;

CREATE TRIGGER event_log_append_only BEFORE UPDATE OR DELETE ON investigator.event_log
    FOR EACH ROW EXECUTE FUNCTION investigator.refuse_log_change();
CREATE TRIGGER event_log_no_truncate BEFORE TRUNCATE ON investigator.event_log
    FOR EACH STATEMENT EXECUTE FUNCTION investigator.refuse_log_change();
