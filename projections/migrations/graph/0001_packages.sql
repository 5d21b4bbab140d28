-- The knowledge graph's package tables, with Thoth's table and column names.
--
-- Every table here is a projection of the event log: rebuilt from it alone, to the byte. So:
-- ids are derived from each row's natural key (never from a sequence, whose values a rolled-
-- back transaction would consume), and each value that later events can change keeps the
-- position of the event it came from (the *_position columns), so that applying the log in
-- batches of any size gives the same rows as applying it one event at a time.

CREATE TABLE python_package_index (
    id                   BIGINT  PRIMARY KEY,
    url                  TEXT    NOT NULL UNIQUE,
    warehouse_api_url    TEXT,
    verify_ssl           BOOLEAN NOT NULL DEFAULT true,
    enabled              BOOLEAN NOT NULL DEFAULT false,
    only_if_package_seen BOOLEAN NOT NULL DEFAULT true,
    -- 0 for an index only met in a document (Thoth inserts those disabled), never registered.
    registered_position  BIGINT  NOT NULL DEFAULT 0,
    enabled_position     BIGINT  NOT NULL DEFAULT 0,
    updated_at           TIMESTAMPTZ
);

-- A package version on an index, whatever the environment. Fixes Thoth's duplicate rows
-- (NULL index or version counted as distinct): NULLS NOT DISTINCT.
CREATE TABLE python_package_version_entity (
    id                      BIGINT      PRIMARY KEY,
    package_name            TEXT        NOT NULL,
    package_version         TEXT,
    python_package_index_id BIGINT      REFERENCES python_package_index (id) ON DELETE CASCADE,
    first_seen_at           TIMESTAMPTZ NOT NULL,
    -- Derived: the latest of "missing" (this version or the whole package) is newer than the
    -- latest evidence that the index serves it.
    is_missing              BOOLEAN     NOT NULL DEFAULT false,
    missing_position        BIGINT      NOT NULL DEFAULT 0,
    present_position        BIGINT      NOT NULL DEFAULT 0,
    provides_source_distro  BOOLEAN     NOT NULL DEFAULT true,
    source_distro_position  BIGINT      NOT NULL DEFAULT 0,
    CONSTRAINT python_package_version_entity_key
        UNIQUE NULLS NOT DISTINCT (package_name, package_version, python_package_index_id)
);

-- A whole package gone from an index (Thoth's missing-package).
CREATE TABLE python_package_missing (
    package_name            TEXT        NOT NULL,
    python_package_index_id BIGINT      NOT NULL REFERENCES python_package_index (id) ON DELETE CASCADE,
    missing_position        BIGINT      NOT NULL,
    marked_at               TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (package_name, python_package_index_id)
);

CREATE TABLE ecosystem_solver (
    id             BIGINT PRIMARY KEY,
    ecosystem      TEXT   NOT NULL DEFAULT 'python',
    solver_name    TEXT   NOT NULL,
    solver_version TEXT   NOT NULL,
    os_name        TEXT   NOT NULL,
    os_version     TEXT   NOT NULL,
    python_version TEXT   NOT NULL,
    CONSTRAINT ecosystem_solver_key
        UNIQUE (ecosystem, solver_name, solver_version, os_name, os_version, python_version)
);

CREATE TABLE python_package_license (
    id                 BIGINT PRIMARY KEY,
    license_name       TEXT   NOT NULL,
    license_identifier TEXT   NOT NULL,
    license_version    TEXT   NOT NULL,
    CONSTRAINT python_package_license_key
        UNIQUE NULLS NOT DISTINCT (license_name, license_identifier, license_version)
);

-- A package version as a solver observed it in one environment.
CREATE TABLE python_package_version (
    id                      BIGINT    PRIMARY KEY,
    entity_id               BIGINT    NOT NULL REFERENCES python_package_version_entity (id) ON DELETE CASCADE,
    package_name            TEXT      NOT NULL,
    package_version         TEXT,
    python_package_index_id BIGINT    REFERENCES python_package_index (id) ON DELETE CASCADE,
    os_name                 TEXT      NOT NULL,
    os_version              TEXT      NOT NULL,
    python_version          TEXT      NOT NULL,
    -- Copies of the entity's flags (Thoth keeps them per environment; they hold per version).
    is_missing              BOOLEAN   NOT NULL DEFAULT false,
    provides_source_distro  BOOLEAN   NOT NULL DEFAULT true,
    package_license         BIGINT    REFERENCES python_package_license (id),
    package_license_warning BOOLEAN,
    -- importlib_metadata.metadata (replaces Thoth's fifteen metadata tables).
    metadata                JSONB,
    -- The solver's tree entry without sha256 and package_version_requested: what
    -- /python/package/version/metadata serves.
    solver_entry            JSONB,
    -- The solver result metadata, solver_entry and dependencies come from: the newest wins.
    entry_datetime          TIMESTAMP,
    entry_position          BIGINT    NOT NULL DEFAULT 0,
    CONSTRAINT python_package_version_key UNIQUE NULLS NOT DISTINCT
        (package_name, package_version, python_package_index_id, os_name, os_version, python_version)
);
CREATE INDEX python_package_version_environment ON python_package_version (os_name, os_version, python_version);
CREATE INDEX python_package_version_name_environment
    ON python_package_version (package_name, os_name, os_version, python_version);
CREATE INDEX python_package_version_entity_id ON python_package_version (entity_id);

-- The latest solver run per (solver build, version); newer wins.
CREATE TABLE solved (
    ecosystem_solver_id BIGINT    NOT NULL REFERENCES ecosystem_solver (id) ON DELETE CASCADE,
    version_id          BIGINT    NOT NULL REFERENCES python_package_version (id) ON DELETE CASCADE,
    document_id         TEXT      NOT NULL,
    datetime            TIMESTAMP NOT NULL,
    duration            INTEGER,
    error               BOOLEAN   NOT NULL DEFAULT false,
    error_unparseable   BOOLEAN   NOT NULL DEFAULT false,
    error_unsolvable    BOOLEAN   NOT NULL DEFAULT false,
    is_provided         BOOLEAN,
    position            BIGINT    NOT NULL,
    PRIMARY KEY (ecosystem_solver_id, version_id)
);
CREATE INDEX solved_document_id ON solved (document_id);
CREATE INDEX solved_version_id ON solved (version_id);

-- Every solver run of every version: the re-solve history Thoth's `solved` loses.
CREATE TABLE solver_run (
    document_id         TEXT      NOT NULL,
    version_id          BIGINT    NOT NULL REFERENCES python_package_version (id) ON DELETE CASCADE,
    ecosystem_solver_id BIGINT    NOT NULL REFERENCES ecosystem_solver (id) ON DELETE CASCADE,
    datetime            TIMESTAMP NOT NULL,
    duration            INTEGER,
    error               BOOLEAN   NOT NULL DEFAULT false,
    error_unparseable   BOOLEAN   NOT NULL DEFAULT false,
    error_unsolvable    BOOLEAN   NOT NULL DEFAULT false,
    is_provided         BOOLEAN,
    PRIMARY KEY (document_id, version_id)
);
CREATE INDEX solver_run_version_id ON solver_run (version_id);

-- Solver errors for versions the index does not provide (Thoth tried a `solved` row with a
-- NULL version and failed).
CREATE TABLE solver_error_unprovided (
    document_id         TEXT   NOT NULL,
    ecosystem_solver_id BIGINT NOT NULL REFERENCES ecosystem_solver (id) ON DELETE CASCADE,
    package_name        TEXT   NOT NULL,
    package_version     TEXT,
    index_url           TEXT,
    details             JSONB,
    CONSTRAINT solver_error_unprovided_key
        UNIQUE NULLS NOT DISTINCT (document_id, package_name, package_version, index_url)
);

-- Direct dependencies: a version in one environment depends on a dependency version.
-- version_range is the real specifier (Thoth stored `*`); one edge per extra and marker.
CREATE TABLE depends_on (
    version_id               BIGINT  NOT NULL REFERENCES python_package_version (id) ON DELETE CASCADE,
    entity_id                BIGINT  NOT NULL REFERENCES python_package_version_entity (id) ON DELETE CASCADE,
    version_range            TEXT    NOT NULL DEFAULT '*',
    marker                   TEXT,
    extra                    TEXT,
    marker_evaluation_result BOOLEAN NOT NULL DEFAULT true,
    CONSTRAINT depends_on_key UNIQUE NULLS NOT DISTINCT (version_id, entity_id, extra, marker)
);
CREATE INDEX depends_on_entity_id ON depends_on (entity_id);
CREATE INDEX depends_on_extra_marker ON depends_on (extra, marker_evaluation_result);
