-- Issue 18: claiming the next webhook delivery must not cost O(pending). The attempts in flight
-- are few: endpoints at their in-flight limit are found through the leased rows alone; and the
-- next row is looked for endpoint by endpoint, in due order, so thousands of rows waiting
-- behind a slow endpoint are never scanned for another endpoint's claim.
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (endpoint_id, leased_until)
  WHERE status = 'pending' AND leased_until IS NOT NULL;
CREATE INDEX webhook_deliveries_next ON webhook_deliveries (endpoint_id, next_attempt_at, seq)
  WHERE status = 'pending';
