-- How far each projection has applied the log: the position of the last event applied, in
-- the same transaction as its effects.
CREATE TABLE investigator.projection_checkpoint (
    projection TEXT        PRIMARY KEY,
    position   BIGINT      NOT NULL CHECK (position >= 0),
    updated_at TIMESTAMPTZ NOT NULL
);
