-- Leases of the duties that must run in one replica at a time (the log relays, the workflow
-- launcher and watchers, the learning relay and drivers). A replica holds a duty while
-- `expires_at`, by the database's clock, is in the future; every taking of a duty raises
-- `generation`, and every write a duty makes checks, in its own transaction, that the row still
-- names its holder and generation (a fence), so a replica that lost the lease without knowing
-- it writes nothing.
CREATE TABLE investigator.duty_lease (
    duty        TEXT        PRIMARY KEY,
    holder      TEXT        NOT NULL,
    generation  BIGINT      NOT NULL CHECK (generation > 0),
    acquired_at TIMESTAMPTZ NOT NULL,
    renewed_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
