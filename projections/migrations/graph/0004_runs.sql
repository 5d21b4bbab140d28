-- Workflows, dead letters and adviser runs.

CREATE TABLE workflow_run (
    workflow_id         TEXT        PRIMARY KEY,
    kind                TEXT,
    namespace           TEXT,
    status              TEXT        NOT NULL
        CHECK (status IN ('requested', 'submitted', 'running', 'succeeded', 'failed')),
    package_name        TEXT,
    package_version     TEXT,
    index_url           TEXT,
    solver_name         TEXT,
    trigger             TEXT,
    parameters          JSONB,
    requested_at        TIMESTAMPTZ,
    submitted_at        TIMESTAMPTZ,
    started_at          TIMESTAMPTZ,
    finished_at         TIMESTAMPTZ,
    phase               TEXT,
    message             TEXT,
    -- The status is the furthest step of the lifecycle reached (requested 1, submitted 2,
    -- running 3, finished 4), the latest event among equals.
    status_rank         SMALLINT    NOT NULL,
    status_position     BIGINT      NOT NULL
);
CREATE INDEX workflow_run_kind_status ON workflow_run (kind, status);
CREATE INDEX workflow_run_namespace_status ON workflow_run (namespace, status);
CREATE INDEX workflow_run_package ON workflow_run (package_name, package_version);

CREATE TABLE dead_letter (
    topic            TEXT        NOT NULL,
    partition        INTEGER     NOT NULL,
    "offset"         BIGINT      NOT NULL,
    reason_code      TEXT        NOT NULL,
    reason           TEXT        NOT NULL,
    attempts         INTEGER     NOT NULL,
    key              JSONB,
    payload          JSONB       NOT NULL,
    status           TEXT        NOT NULL DEFAULT 'parked' CHECK (status IN ('parked', 'redriven', 'discarded')),
    dead_lettered_at TIMESTAMPTZ NOT NULL,
    -- The latest dead-lettering of this record.
    position         BIGINT      NOT NULL,
    PRIMARY KEY (topic, partition, "offset")
);
CREATE INDEX dead_letter_reason ON dead_letter (reason_code, status);

CREATE TABLE adviser_run (
    id                  BIGINT    PRIMARY KEY,
    adviser_document_id TEXT      NOT NULL UNIQUE,
    datetime            TIMESTAMP NOT NULL,
    adviser_version     TEXT      NOT NULL,
    adviser_name        TEXT      NOT NULL,
    source_type         TEXT,
    origin              TEXT,
    recommendation_type TEXT,
    re_run_adviser_id   TEXT,
    adviser_error       BOOLEAN   NOT NULL,
    error_msg           TEXT,
    -- As the document left it: failed with unresolved packages. Whether it still waits is
    -- parked_adviser.status.
    need_re_run         BOOLEAN   NOT NULL,
    parameters          JSONB,
    runtime_environment JSONB,
    -- The latest recording of this run's document wins.
    recorded_position   BIGINT    NOT NULL
);

CREATE TABLE has_unresolved (
    adviser_run_id                   BIGINT NOT NULL REFERENCES adviser_run (id) ON DELETE CASCADE,
    python_package_version_entity_id BIGINT NOT NULL
        REFERENCES python_package_version_entity (id) ON DELETE CASCADE,
    PRIMARY KEY (adviser_run_id, python_package_version_entity_id)
);

-- Advises that failed for want of knowledge, waiting to run again.
CREATE TABLE parked_adviser (
    adviser_document_id       TEXT        PRIMARY KEY,
    unresolved                JSONB       NOT NULL DEFAULT '[]',
    solver_name               TEXT,
    parked_at                 TIMESTAMPTZ,
    parked_position           BIGINT      NOT NULL DEFAULT 0,
    re_run_requested_at       TIMESTAMPTZ,
    re_run_job_id             TEXT,
    re_run_requested_position BIGINT      NOT NULL DEFAULT 0,
    -- A re-run that found everything.
    resolved_by               TEXT,
    resolved_position         BIGINT      NOT NULL DEFAULT 0,
    status                    TEXT        NOT NULL GENERATED ALWAYS AS (
        CASE
            WHEN resolved_position > parked_position THEN 'resolved'
            WHEN re_run_requested_position > parked_position THEN 're-run-requested'
            WHEN parked_position > 0 THEN 'parked'
            ELSE 'unknown'
        END) STORED
);
CREATE INDEX parked_adviser_status ON parked_adviser (status);
