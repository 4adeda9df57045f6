-- Report pre-aggregation (issue 21, docs/reports.md "How reports stay fast"). Every figure a report
-- shows is a sum of facts: a ticket was created, resolved, reopened, entered or left the backlog,
-- was answered first or resolved after so long (a histogram bucket), met or missed an SLA target,
-- was rated. Triggers write each change of a ticket's facts as +1/-1 rows into report_deltas, in
-- the transaction that changed the ticket, per local day in the workspace's time zone and per
-- dimension (all, channel, inbox, team, agent); the writers fold the deltas into report_rollup
-- (one row per workspace, dimension, measure, span — the day, its week and its month —, key and
-- bucket) in the background. A report over whole days in the workspace's zone reads its whole
-- months, whole weeks and remaining days there, and the deltas; never the tickets. The writers
-- count each workspace's existing tickets once, in the background (report_rollup_zones).
ALTER TABLE workspaces ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';  -- IANA; reports' days

-- Measures: 1 created, 2 resolved, 3 reopened, 4 backlog (+1 in, -1 out), 5/6 first response
-- calendar/business (bucket), 7/8 first response under an SLA target / met it, 9/10 resolution
-- calendar/business (bucket), 11/12 resolution targeted / met, 13 CSAT (bucket = score), 14/15
-- next-response waits under a target that ended / met.
CREATE TABLE report_rollup (
  workspace_id text NOT NULL,
  dim          smallint NOT NULL,  -- 0 all (key ''), 1 channel, 2 inbox, 3 team, 4 agent ('none')
  measure      smallint NOT NULL,
  span         smallint NOT NULL,  -- 1 a day, 7 a week (from Monday), 31 a calendar month
  day          date NOT NULL,      -- the span's first day, in the workspace's time zone
  key          text NOT NULL,
  bucket       smallint NOT NULL,  -- report_bucket() of a duration, the score, else 0
  n            bigint NOT NULL,
  s            float8 NOT NULL,    -- the sum of the durations counted (seconds), else 0
  PRIMARY KEY (workspace_id, dim, measure, span, day, key, bucket) INCLUDE (n, s)  -- index-only reads
);
-- The zone each workspace's rollup is counted in. A workspace whose zone differs (or without a row:
-- new, or from before this migration) is recounted by a writer (store::rebuild_stale_report_rollup);
-- until then its reports are computed from the tickets.
CREATE TABLE report_rollup_zones (
  workspace_id text PRIMARY KEY,
  time_zone    text NOT NULL
);
CREATE TABLE report_deltas (
  id           bigserial PRIMARY KEY,
  workspace_id text NOT NULL,
  dim          smallint NOT NULL,
  measure      smallint NOT NULL,
  day          date NOT NULL,
  key          text NOT NULL,
  bucket       smallint NOT NULL,
  n            bigint NOT NULL,
  s            float8 NOT NULL
);
CREATE INDEX report_deltas_workspace ON report_deltas (workspace_id, dim, measure, day);

-- The first day of the span (1, 7, 31) `day` is in.
CREATE FUNCTION report_span_start(span smallint, day date) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE span WHEN 1 THEN day WHEN 7 THEN date_trunc('week', day)::date ELSE date_trunc('month', day)::date END
$$;

-- The histogram bucket of a duration in seconds: exact below 64 s, then 16 buckets per doubling
-- (each at most 4.4% wide). A bucket's durations are read back as their mean (report_rollup.s / n),
-- so a percentile is exact when its neighbours are alone in their buckets, and within a bucket's
-- width otherwise.
CREATE FUNCTION report_bucket(v float8) RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN v < 64 THEN greatest(floor(v), 0)::smallint
              ELSE least(64 + floor(16 * ln(v / 64) / ln(2)), 32000)::smallint END
$$;

-- Every next-response wait under a target that ended (an agent's reply, or resolving), and whether it
-- was met (store/src/sla.cpp): what reports count for next-response attainment.
CREATE TABLE ticket_sla_waits (
  ticket_id    text NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  workspace_id text NOT NULL,
  ended_at     timestamptz NOT NULL,
  met          boolean NOT NULL
);
CREATE INDEX ticket_sla_waits_ticket ON ticket_sla_waits (ticket_id);
CREATE INDEX ticket_sla_waits_workspace ON ticket_sla_waits (workspace_id, ended_at);

-- The dimensions a ticket's facts count under, and its key in each.
CREATE FUNCTION report_dims(t tickets) RETURNS TABLE (dim smallint, key text) LANGUAGE sql IMMUTABLE AS $$
  VALUES (0::smallint, ''), (1, t.channel), (2, coalesce(t.inbox_id, 'none')), (3, coalesce(t.team_id, 'none')),
         (4, coalesce(t.assignee_id, 'none'))
$$;

-- A status change's facts: a resolution, a reopening, a move into or out of the backlog.
CREATE FUNCTION status_report_facts(from_status text, to_status text)
RETURNS TABLE (measure smallint, n bigint) LANGUAGE sql IMMUTABLE AS $$
  SELECT 2::smallint, 1::bigint WHERE to_status IN ('resolved', 'closed')
                                   AND coalesce(from_status, 'open') NOT IN ('resolved', 'closed')
  UNION ALL SELECT 3, 1 WHERE from_status IN ('resolved', 'closed') AND to_status NOT IN ('resolved', 'closed')
  UNION ALL SELECT 4, CASE WHEN to_status IN ('open', 'pending', 'snoozed') THEN 1 ELSE -1 END
   WHERE (to_status IN ('open', 'pending', 'snoozed')) <> (coalesce(from_status, '') IN ('open', 'pending', 'snoozed'))
$$;

-- A next-response wait's facts: one ended under a target, and met.
CREATE FUNCTION wait_report_facts(met boolean) RETURNS TABLE (measure smallint) LANGUAGE sql IMMUTABLE AS $$
  SELECT 14::smallint UNION ALL SELECT 15 WHERE met
$$;

-- Every fact of ticket `t` times `sign`, per dimension, with the instant it happened at. A merged
-- ticket (the source of a merge) has none. Its status changes come from the log.
CREATE FUNCTION ticket_report_facts(t tickets, sign bigint)
RETURNS TABLE (at timestamptz, dim smallint, key text, measure smallint, bucket smallint, n bigint, s float8)
LANGUAGE sql STABLE AS $$
  WITH targets AS (
    SELECT p.targets -> t.priority AS m FROM sla_policies p WHERE p.id = (t.sla::jsonb ->> 'policyId')
  ), breaches AS (
    SELECT coalesce(t.sla::jsonb -> 'breaches', '[]'::jsonb) AS b
  ), durations (first_s, resolution_s) AS (
    SELECT extract(epoch FROM t.first_response_at - t.created_at)::float8,
           extract(epoch FROM t.resolved_at - t.created_at)::float8
  ), facts (at, measure, bucket, n, s) AS (
    SELECT t.created_at, 1::smallint, 0::smallint, 1::bigint, 0::float8
    UNION ALL SELECT t.first_response_at, 5, report_bucket(first_s), 1, first_s FROM durations
     WHERE t.first_response_at IS NOT NULL
    UNION ALL SELECT t.first_response_at, 6, report_bucket(t.first_response_business_s), 1, t.first_response_business_s
     WHERE t.first_response_at IS NOT NULL AND t.first_response_business_s IS NOT NULL
    UNION ALL SELECT t.first_response_at, 7, 0, 1, 0 FROM targets
     WHERE t.first_response_at IS NOT NULL AND targets.m ->> 'firstResponseMinutes' IS NOT NULL
    UNION ALL SELECT t.first_response_at, 8, 0, 1, 0 FROM targets, breaches
     WHERE t.first_response_at IS NOT NULL AND targets.m ->> 'firstResponseMinutes' IS NOT NULL
       AND NOT breaches.b @> '[{"target":"first_response"}]'
    UNION ALL SELECT t.resolved_at, 9, report_bucket(resolution_s), 1, resolution_s FROM durations
     WHERE t.resolved_at IS NOT NULL
    UNION ALL SELECT t.resolved_at, 10, report_bucket(t.resolution_business_s), 1, t.resolution_business_s
     WHERE t.resolved_at IS NOT NULL AND t.resolution_business_s IS NOT NULL
    UNION ALL SELECT t.resolved_at, 11, 0, 1, 0 FROM targets
     WHERE t.resolved_at IS NOT NULL AND targets.m ->> 'resolutionMinutes' IS NOT NULL
    UNION ALL SELECT t.resolved_at, 12, 0, 1, 0 FROM targets, breaches
     WHERE t.resolved_at IS NOT NULL AND targets.m ->> 'resolutionMinutes' IS NOT NULL
       AND NOT breaches.b @> '[{"target":"resolution"}]'
    UNION ALL SELECT t.csat_at, 13, t.csat_score::smallint, 1, 0 WHERE t.csat_at IS NOT NULL AND t.csat_score IS NOT NULL
    UNION ALL SELECT l.at, x.measure, 0, x.n, 0 FROM ticket_status_log l, status_report_facts(l.from_status, l.to_status) x
     WHERE l.ticket_id = t.id
    UNION ALL SELECT w.ended_at, x.measure, 0, 1, 0 FROM ticket_sla_waits w, wait_report_facts(w.met) x
     WHERE w.ticket_id = t.id
  )
  SELECT f.at, d.dim, d.key, f.measure, f.bucket, f.n * sign, f.s * sign
  FROM facts f, report_dims(t) d
  WHERE t.merged_into_id IS NULL
$$;

-- A ticket's change of facts: what the old row had, less, and what the new one has. Fires before
-- tickets_status_log (names in order), so a status change's log row, written after, is counted
-- once, by report_status_change, with the ticket's new dimensions.
CREATE FUNCTION report_ticket_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO report_deltas (workspace_id, dim, measure, day, key, bucket, n, s)
  SELECT NEW.workspace_id, f.dim, f.measure, (f.at AT TIME ZONE w.time_zone)::date, f.key, f.bucket, sum(f.n), sum(f.s)
  FROM (SELECT * FROM ticket_report_facts(NEW, 1)
        UNION ALL SELECT * FROM ticket_report_facts(OLD, -1) WHERE TG_OP = 'UPDATE') f,
       workspaces w
  WHERE w.id = NEW.workspace_id
  GROUP BY 2, 3, 4, 5, 6 HAVING sum(f.n) <> 0;
  RETURN NULL;
END $$;
CREATE TRIGGER tickets_report_facts AFTER INSERT OR UPDATE OF channel, inbox_id, team_id, assignee_id, priority,
  created_at, first_response_at, first_response_business_s, resolved_at, resolution_business_s, csat_score, csat_at,
  sla, merged_into_id ON tickets
  FOR EACH ROW EXECUTE FUNCTION report_ticket_change();

-- A status change logged (or a log row removed by hand: its facts go too).
CREATE FUNCTION report_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  l ticket_status_log := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  sign bigint := CASE WHEN TG_OP = 'DELETE' THEN -1 ELSE 1 END;
BEGIN
  INSERT INTO report_deltas (workspace_id, dim, measure, day, key, bucket, n, s)
  SELECT t.workspace_id, d.dim, s.measure, (l.at AT TIME ZONE w.time_zone)::date, d.key, 0, s.n * sign, 0
  FROM tickets t JOIN workspaces w ON w.id = t.workspace_id, status_report_facts(l.from_status, l.to_status) s,
       report_dims(t) d
  WHERE t.id = l.ticket_id AND t.merged_into_id IS NULL;
  RETURN NULL;
END $$;
CREATE TRIGGER status_log_report_facts AFTER INSERT OR DELETE ON ticket_status_log
  FOR EACH ROW EXECUTE FUNCTION report_status_change();

-- A next-response wait ended.
CREATE FUNCTION report_wait_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO report_deltas (workspace_id, dim, measure, day, key, bucket, n, s)
  SELECT t.workspace_id, d.dim, x.measure, (NEW.ended_at AT TIME ZONE w.time_zone)::date, d.key, 0, 1, 0
  FROM tickets t JOIN workspaces w ON w.id = t.workspace_id, wait_report_facts(NEW.met) x, report_dims(t) d
  WHERE t.id = NEW.ticket_id AND t.merged_into_id IS NULL;
  RETURN NULL;
END $$;
CREATE TRIGGER sla_waits_report_facts AFTER INSERT ON ticket_sla_waits
  FOR EACH ROW EXECUTE FUNCTION report_wait_end();

-- Recounts a workspace's facts from its tickets in its time zone, and records that zone. Run it in
-- one snapshot (REPEATABLE READ): deltas committed after it stay, as their changes are not in it.
-- Holds the fold's lock: no fold meanwhile.
CREATE FUNCTION rebuild_report_facts(ws text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('loket:report-fold'));
  DELETE FROM report_deltas WHERE workspace_id = ws;
  DELETE FROM report_rollup WHERE workspace_id = ws;
  INSERT INTO report_rollup (workspace_id, dim, measure, span, day, key, bucket, n, s)
  SELECT ws, f.dim, f.measure, sp.span, report_span_start(sp.span, (f.at AT TIME ZONE w.time_zone)::date), f.key,
         f.bucket, sum(f.n), sum(f.s)
  FROM tickets t JOIN workspaces w ON w.id = t.workspace_id, ticket_report_facts(t, 1) f,
       (VALUES (1::smallint), (7::smallint), (31::smallint)) sp (span)
  WHERE t.workspace_id = ws
  GROUP BY 2, 3, 4, 5, 6, 7 HAVING sum(f.n) <> 0;
  INSERT INTO report_rollup_zones (workspace_id, time_zone) SELECT id, time_zone FROM workspaces WHERE id = ws
  ON CONFLICT (workspace_id) DO UPDATE SET time_zone = EXCLUDED.time_zone;
END $$;
