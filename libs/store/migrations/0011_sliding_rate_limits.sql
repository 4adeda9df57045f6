-- Issue 15 follow-up: rate limits over a sliding window. Fixed windows let twice the limit
-- through across a boundary (the limit at the end of one window, again at the start of the
-- next: 20 sign-in guesses in a few seconds where 10 per 15 minutes were meant). The count is
-- now this window's hits plus the previous window's, weighted by how much of it still lies
-- within the last p_window_s seconds (the sliding-window counter), rounded up. The table keeps
-- itself bounded: about one call in a thousand sweeps rows older than a day.
CREATE OR REPLACE FUNCTION rate_limit_hit(p_bucket text, p_window_s integer, OUT hits integer, OUT reset_s integer)
LANGUAGE plpgsql AS $$
DECLARE
  now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
  now_s bigint := now_ms / 1000;
  start_s bigint := now_s - (now_s % p_window_s);
  overlap double precision := 1 - (now_ms - start_s * 1000)::double precision / (p_window_s * 1000);
  current_hits integer;
  previous_hits integer;
BEGIN
  INSERT INTO rate_limits AS r (bucket, window_start, hits) VALUES (p_bucket, start_s, 1)
  ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + 1
  RETURNING r.hits INTO current_hits;
  SELECT r.hits INTO previous_hits FROM rate_limits r
  WHERE r.bucket = p_bucket AND r.window_start = start_s - p_window_s;
  hits := current_hits + ceil(coalesce(previous_hits, 0) * overlap)::integer;
  reset_s := start_s + p_window_s - now_s;
  IF random() < 0.001 THEN
    DELETE FROM rate_limits WHERE window_start < now_s - 86400;
  END IF;
END $$;
