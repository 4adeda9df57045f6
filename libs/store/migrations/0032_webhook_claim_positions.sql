-- Issue 18: a claim must not walk the deliveries already made. webhook_deliveries_next is a
-- partial index (pending only); every delivered row leaves a dead entry in it until vacuum, and
-- a claim that starts at the front of an endpoint's range walked all of them (1.24 ms per
-- endpoint and claim after a few minutes of load, 0.11 ms after VACUUM). Claims now start where
-- the dispatcher last found its place in each endpoint's queue (docs/webhooks.md, "How
-- deliveries are claimed"), which only works if what is behind that place never becomes due
-- without moving:
--  * `behind`: a delivery queued while an earlier one of its ticket (same endpoint) is still
--    pending waits out of the index; when the earlier one is done the next is brought in, due now
--    (those already queued are sorted here; release_stranded_webhook_deliveries mends any a
--    dispatcher of the version before this one finished without bringing the next one in);
--  * the per-endpoint count of claims in flight is kept by each dispatcher, so the index of
--    leased rows (the other index every claim walked) goes — and with it the claim's update
--    touches no indexed column and can be a HOT update (fillfactor leaves the room).
ALTER TABLE webhook_deliveries ADD COLUMN behind boolean NOT NULL DEFAULT false;
UPDATE webhook_deliveries d SET behind = true WHERE d.status = 'pending' AND d.seq > (SELECT min(p.seq)
  FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id AND p.ticket_id = d.ticket_id AND p.status = 'pending');
DROP INDEX IF EXISTS webhook_deliveries_leased;
DROP INDEX IF EXISTS webhook_deliveries_next;
CREATE INDEX webhook_deliveries_next ON webhook_deliveries (endpoint_id, next_attempt_at, seq)
  WHERE status = 'pending' AND NOT behind;
-- Room on each page for the claim's update to stay on it (no new index entries at all).
ALTER TABLE webhook_deliveries SET (fillfactor = 85);
