-- The learning drivers' findings and throttles (events LearningMessageQueued and
-- LearningThrottleChanged). A driver reads learning_message to never queue a finding twice
-- while it waits for an answer; /api/v1/status reads both.

CREATE TABLE learning_message (
    -- The finding's stable key: `unresolved/<solver>/<index>/<name>/<version>`...
    finding         TEXT        PRIMARY KEY,
    driver          TEXT        NOT NULL,
    topic           TEXT        NOT NULL,
    reason          TEXT        NOT NULL,
    -- The latest attempt (1 the first time).
    attempt         INTEGER     NOT NULL,
    first_queued_at TIMESTAMPTZ NOT NULL,
    queued_at       TIMESTAMPTZ NOT NULL,
    -- The latest attempt's event.
    position        BIGINT      NOT NULL
);
CREATE INDEX learning_message_driver ON learning_message (driver, position);

CREATE TABLE learning_driver (
    driver                TEXT        PRIMARY KEY,
    throttled             BOOLEAN     NOT NULL,
    lag                   BIGINT      NOT NULL,
    pending_workflows     BIGINT      NOT NULL,
    max_lag               BIGINT      NOT NULL,
    max_pending_workflows BIGINT      NOT NULL,
    changed_at            TIMESTAMPTZ NOT NULL,
    position              BIGINT      NOT NULL
);
