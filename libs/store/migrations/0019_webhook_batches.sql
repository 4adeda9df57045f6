-- Issue 18: the dispatcher claims a batch of one endpoint's deliveries at a time, always through
-- webhook_deliveries_next (endpoint_id, next_attempt_at, seq). The index on next_attempt_at
-- alone had no reader left but tempted the planner into scanning every endpoint's due rows
-- for one endpoint's batch, and cost a write on every claim and outcome.
DROP INDEX IF EXISTS webhook_deliveries_due;
