-- Issue 18: the dispatcher claims a batch of one endpoint's deliveries at a time, always through
-- webhook_deliveries_next (endpoint_id, next_attempt_at, seq). The index on next_attempt_at
-- alone had no reader left but tempted the planner into scanning every endpoint's due rows
-- for one endpoint's batch, and cost a write on every claim and outcome.
DROP INDEX IF EXISTS webhook_deliveries_due;

-- When Loket turns an endpoint off (410 Gone, or failing for days) the workspace owners are
-- emailed: due from this time (an outbox of one column: the sender pushes it on while it
-- retries, and clears it once sent; enabling the endpoint again clears it too).
ALTER TABLE webhook_endpoints ADD COLUMN owners_notice_at timestamptz;
CREATE INDEX webhook_endpoints_owners_notice ON webhook_endpoints (owners_notice_at) WHERE owners_notice_at IS NOT NULL;
