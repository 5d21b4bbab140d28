-- The outbox of the workflow launcher: requests not submitted yet, oldest first.
CREATE INDEX workflow_run_outbox ON workflow_run (status_position) WHERE status = 'requested';
