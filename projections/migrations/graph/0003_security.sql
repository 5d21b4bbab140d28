-- Vulnerabilities and security indicators.

CREATE TABLE cve (
    id               BIGINT    PRIMARY KEY,
    cve_id           TEXT      NOT NULL UNIQUE,
    details          TEXT      NOT NULL,
    link             TEXT,
    aggregated_at    TIMESTAMP,
    -- The advisory text shown is the latest one reported.
    updated_position BIGINT    NOT NULL DEFAULT 0
);

-- CVEs attach to entities (name, version, index), not to environments.
CREATE TABLE has_vulnerability (
    python_package_version_entity_id BIGINT NOT NULL
        REFERENCES python_package_version_entity (id) ON DELETE CASCADE,
    cve_id                           BIGINT NOT NULL REFERENCES cve (id) ON DELETE CASCADE,
    PRIMARY KEY (python_package_version_entity_id, cve_id)
);
CREATE INDEX has_vulnerability_cve ON has_vulnerability (cve_id);

CREATE TABLE cve_timestamp (
    id        SMALLINT  PRIMARY KEY CHECK (id = 1),
    timestamp TIMESTAMP NOT NULL
);

CREATE TABLE si_aggregated_run (
    id                                            BIGINT    PRIMARY KEY,
    si_aggregated_run_document_id                 TEXT      NOT NULL UNIQUE,
    datetime                                      TIMESTAMP NOT NULL,
    error                                         BOOLEAN   NOT NULL DEFAULT false,
    severity_high_confidence_high                 INTEGER   NOT NULL DEFAULT 0,
    severity_high_confidence_low                  INTEGER   NOT NULL DEFAULT 0,
    severity_high_confidence_medium               INTEGER   NOT NULL DEFAULT 0,
    severity_high_confidence_undefined            INTEGER   NOT NULL DEFAULT 0,
    severity_low_confidence_high                  INTEGER   NOT NULL DEFAULT 0,
    severity_low_confidence_low                   INTEGER   NOT NULL DEFAULT 0,
    severity_low_confidence_medium                INTEGER   NOT NULL DEFAULT 0,
    severity_low_confidence_undefined             INTEGER   NOT NULL DEFAULT 0,
    severity_medium_confidence_high               INTEGER   NOT NULL DEFAULT 0,
    severity_medium_confidence_low                INTEGER   NOT NULL DEFAULT 0,
    severity_medium_confidence_medium             INTEGER   NOT NULL DEFAULT 0,
    severity_medium_confidence_undefined          INTEGER   NOT NULL DEFAULT 0,
    number_of_analyzed_files                      INTEGER   NOT NULL DEFAULT 0,
    number_of_files_total                         INTEGER   NOT NULL DEFAULT 0,
    number_of_files_with_severities               INTEGER   NOT NULL DEFAULT 0,
    number_of_filtered_files                      INTEGER   NOT NULL DEFAULT 0,
    number_of_python_files                        INTEGER   NOT NULL DEFAULT 0,
    number_of_lines_with_comments_in_python_files INTEGER   NOT NULL DEFAULT 0,
    number_of_blank_lines_in_python_files         INTEGER   NOT NULL DEFAULT 0,
    number_of_lines_with_code_in_python_files     INTEGER   NOT NULL DEFAULT 0,
    total_number_of_files                         INTEGER   NOT NULL DEFAULT 0,
    total_number_of_lines                         INTEGER   NOT NULL DEFAULT 0,
    total_number_of_lines_with_comments           INTEGER   NOT NULL DEFAULT 0,
    total_number_of_blank_lines                   INTEGER   NOT NULL DEFAULT 0,
    total_number_of_lines_with_code               INTEGER   NOT NULL DEFAULT 0
);

-- Links a run to the version (entity) it analysed. Thoth also linked one environment's
-- version row, picked arbitrarily; "is analysed" only ever asks about the entity.
CREATE TABLE si_aggregated (
    si_aggregated_run_id             BIGINT NOT NULL REFERENCES si_aggregated_run (id) ON DELETE CASCADE,
    python_package_version_entity_id BIGINT NOT NULL
        REFERENCES python_package_version_entity (id) ON DELETE CASCADE,
    PRIMARY KEY (si_aggregated_run_id, python_package_version_entity_id)
);
CREATE INDEX si_aggregated_entity ON si_aggregated (python_package_version_entity_id);
