-- Fair auto-assignment and inbox business hours (issue 20): per inbox, round robin among members who are online (seen in
-- the last online_window_s seconds: a realtime connection or any API request) and not away, under
-- the inbox's capacity of open tickets per agent; tickets whose assignee has been offline for
-- reassign_after_s seconds are handed to someone online.
ALTER TABLE inboxes
  ADD COLUMN auto_assignment text NOT NULL DEFAULT 'off' CHECK (auto_assignment IN ('off', 'round_robin')),
  ADD COLUMN assignment_capacity integer CHECK (assignment_capacity BETWEEN 1 AND 10000),  -- NULL: no cap
  ADD COLUMN online_window_s integer NOT NULL DEFAULT 600 CHECK (online_window_s BETWEEN 60 AND 86400),
  ADD COLUMN reassign_after_s integer CHECK (reassign_after_s BETWEEN 60 AND 604800),    -- NULL: never
  -- The inbox's opening hours (loket::hours JSON as the api validated it; NULL: always open),
  -- the clock SLA targets will count in (issue 21).
  ADD COLUMN business_hours text;

ALTER TABLE agents
  ADD COLUMN last_seen_at timestamptz,
  ADD COLUMN away boolean NOT NULL DEFAULT false;

-- The rotation: when each member last got a ticket of the inbox by auto-assignment.
CREATE TABLE inbox_rotation (
  inbox_id         text NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
  agent_id         text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  last_assigned_at timestamptz NOT NULL,
  PRIMARY KEY (inbox_id, agent_id)
);

-- An agent's open tickets per inbox (the capacity check).
CREATE INDEX tickets_inbox_load ON tickets (inbox_id, assignee_id) WHERE status IN ('open', 'pending');
-- Tickets of agents gone offline (the reassignment sweep).
CREATE INDEX tickets_assigned_open ON tickets (assignee_id) WHERE status IN ('open', 'pending');
