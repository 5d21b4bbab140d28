-- Artifact hashes and importable packages.

CREATE TABLE python_artifact (
    id                   BIGINT  PRIMARY KEY,
    artifact_hash_sha256 TEXT    NOT NULL UNIQUE,
    artifact_name        TEXT,
    -- The latest sighting on the index (a solver run, a hash check) against the latest report
    -- that the index no longer serves it (hash-mismatch).
    seen_position        BIGINT  NOT NULL DEFAULT 0,
    absent_position      BIGINT  NOT NULL DEFAULT 0,
    present              BOOLEAN NOT NULL GENERATED ALWAYS AS (absent_position <= seen_position) STORED
);

CREATE TABLE has_artifact (
    python_package_version_entity_id BIGINT NOT NULL
        REFERENCES python_package_version_entity (id) ON DELETE CASCADE,
    python_artifact_id               BIGINT NOT NULL REFERENCES python_artifact (id) ON DELETE CASCADE,
    PRIMARY KEY (python_package_version_entity_id, python_artifact_id)
);
CREATE INDEX has_artifact_artifact ON has_artifact (python_artifact_id);

CREATE TABLE import_package (
    id                  BIGINT PRIMARY KEY,
    import_package_name TEXT   NOT NULL UNIQUE
);
CREATE INDEX import_package_prefix ON import_package (import_package_name text_pattern_ops);

CREATE TABLE found_import_package (
    python_package_version_id BIGINT NOT NULL REFERENCES python_package_version (id) ON DELETE CASCADE,
    import_package_id         BIGINT NOT NULL REFERENCES import_package (id) ON DELETE CASCADE,
    PRIMARY KEY (python_package_version_id, import_package_id)
);
CREATE INDEX found_import_package_import ON found_import_package (import_package_id);
