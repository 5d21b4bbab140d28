-- A dead letter's status follows the latest of its dead-lettering (`position`, back to
-- parked) and the operators' re-drive or discard (`status_position`).
ALTER TABLE dead_letter ADD COLUMN status_position BIGINT NOT NULL DEFAULT 0;
