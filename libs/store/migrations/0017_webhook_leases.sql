-- Issue 18: the attempts in flight are few; claiming a delivery counts them per endpoint through
-- this index instead of scanning every pending delivery (which made each claim cost O(pending)
-- once thousands waited behind a slow endpoint).
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (endpoint_id, leased_until)
  WHERE status = 'pending' AND leased_until IS NOT NULL;
