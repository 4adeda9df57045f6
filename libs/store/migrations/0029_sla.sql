-- SLA policies (issue 21, docs/sla.md): targets for first response, next response and resolution
-- per priority, optionally only for one inbox and/or team, counted in the inbox's business hours
-- or in calendar time, paused while the ticket is in one of pause_on.
CREATE TABLE sla_policies (
  id              text PRIMARY KEY,                                        -- sla_ + 24 hex
  workspace_id    text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name            text NOT NULL,
  inbox_id        text REFERENCES inboxes(id) ON DELETE CASCADE,
  team_id         text REFERENCES teams(id) ON DELETE CASCADE,
  business_hours  boolean NOT NULL DEFAULT true,
  pause_on        text[] NOT NULL DEFAULT '{pending,snoozed}',
  warning_percent integer CHECK (warning_percent BETWEEN 1 AND 99),     -- NULL: no sla.warning
  targets         jsonb NOT NULL,   -- {"urgent":{"firstResponseMinutes":15,…},…} as the api validated it
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sla_policies_name ON sla_policies (workspace_id, lower(name));
CREATE INDEX sla_policies_workspace ON sla_policies (workspace_id, created_at);

-- A ticket's SLA clocks (store/src/sla.cpp): what it needs to recompute due times.
CREATE TABLE ticket_sla (
  ticket_id        text PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
  policy_id        text NOT NULL,
  paused_since     timestamptz,              -- the clocks stopped (a pause_on status) since
  paused_s         bigint NOT NULL DEFAULT 0, -- counted time spent paused before now (seconds)
  next_since       timestamptz,              -- the customer has waited for a next response since
  next_paused_base bigint NOT NULL DEFAULT 0, -- paused_s when that wait began
  next_cycle       integer NOT NULL DEFAULT 0, -- how many next-response waits began
  warned           text[] NOT NULL DEFAULT '{}', -- targets sla.warning was emitted for (next_response:<cycle>)
  breached         text[] NOT NULL DEFAULT '{}', -- targets sla.breached was emitted for
  breaches         jsonb NOT NULL DEFAULT '[]'  -- [{target, dueAt}] as the ticket shows them
);

-- What agents and filters read: the public sla object, the earliest running due time (sort and
-- ?sla=), the next instant the sweep must look (a warning or a breach) and the state.
ALTER TABLE tickets
  ADD COLUMN sla text,                       -- the ticket's public sla object (JSON, as written)
  ADD COLUMN sla_due timestamptz,
  ADD COLUMN sla_alert_at timestamptz,
  ADD COLUMN sla_state text CHECK (sla_state IN ('ok', 'at_risk', 'breached'));
CREATE INDEX tickets_sla_alert ON tickets (sla_alert_at) WHERE sla_alert_at IS NOT NULL;
CREATE INDEX tickets_sla_state ON tickets (workspace_id, sla_state, sla_due) WHERE sla_state IS NOT NULL;
