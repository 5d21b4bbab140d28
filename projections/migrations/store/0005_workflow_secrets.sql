-- Registry credentials of requested workflows, kept out of the event log: written with the
-- batch that requests the workflow, turned into a Kubernetes Secret by the launcher before it
-- submits the workflow, and deleted once the workflow is submitted.
CREATE TABLE investigator.workflow_secret (
    workflow_id TEXT        PRIMARY KEY,
    name        TEXT        NOT NULL,
    data        JSONB       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
