-- Snooze (issue 21): status `snoozed` until snoozed_until (NULL: until the customer writes). The
-- writer's clock sweep wakes due tickets to `open`; a customer message wakes one at once.
ALTER TABLE tickets DROP CONSTRAINT tickets_status_check;
ALTER TABLE tickets ADD CONSTRAINT tickets_status_check
  CHECK (status IN ('open', 'pending', 'snoozed', 'resolved', 'closed'));
ALTER TABLE tickets ADD COLUMN snoozed_until timestamptz;
ALTER TABLE tickets ADD CONSTRAINT tickets_snoozed_until_check CHECK (status = 'snoozed' OR snoozed_until IS NULL);
-- The due snoozes (the wake sweep's look-up).
CREATE INDEX tickets_snooze_due ON tickets (snoozed_until) WHERE status = 'snoozed' AND snoozed_until IS NOT NULL;
