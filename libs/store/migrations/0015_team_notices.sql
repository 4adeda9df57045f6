-- Issue 18: team notifications (Slack, Discord) about new tickets and customer replies. One
-- row per ticket event and team-chat integration, so a redelivered or retried event posts once
-- to each, and each retries on its own.
CREATE TABLE team_notices (
  event_id        text NOT NULL,
  integration_id  text NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
  workspace_id    text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  ticket_id       text NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  status          text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  error           text,
  attempts        integer NOT NULL DEFAULT 0,
  provider_message_id text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  PRIMARY KEY (event_id, integration_id)
);
CREATE INDEX team_notices_ticket ON team_notices (ticket_id);
