-- Reports (issue 21, docs/reports.md). Every status change of every ticket is logged by a trigger,
-- whichever path made it (writer, api, sweeps), so reports can count resolutions and reopenings
-- and the backlog at any instant. Business-time durations are stored when they end (first
-- response, resolution), counted in the ticket's inbox's business hours then.
CREATE TABLE ticket_status_log (
  workspace_id text NOT NULL,
  ticket_id    text NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  from_status  text,                 -- NULL: the ticket was created
  to_status    text NOT NULL,
  at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_status_log_workspace ON ticket_status_log (workspace_id, at);
CREATE INDEX ticket_status_log_ticket ON ticket_status_log (ticket_id, at);

CREATE FUNCTION log_ticket_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ticket_status_log (workspace_id, ticket_id, from_status, to_status, at)
      VALUES (NEW.workspace_id, NEW.id, NULL, NEW.status, NEW.created_at);
  ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
    INSERT INTO ticket_status_log (workspace_id, ticket_id, from_status, to_status)
      VALUES (NEW.workspace_id, NEW.id, OLD.status, NEW.status);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER tickets_status_log AFTER INSERT OR UPDATE OF status ON tickets
  FOR EACH ROW EXECUTE FUNCTION log_ticket_status();

-- What existed before the log: each ticket's creation, and its last resolution.
INSERT INTO ticket_status_log (workspace_id, ticket_id, from_status, to_status, at)
  SELECT workspace_id, id, NULL, 'open', created_at FROM tickets;
INSERT INTO ticket_status_log (workspace_id, ticket_id, from_status, to_status, at)
  SELECT workspace_id, id, 'open', status, resolved_at FROM tickets WHERE resolved_at IS NOT NULL;

ALTER TABLE tickets
  ADD COLUMN first_response_business_s bigint,  -- created → first public agent reply, in business seconds
  ADD COLUMN resolution_business_s bigint;      -- created → resolved_at, in business seconds
CREATE INDEX tickets_first_response ON tickets (workspace_id, first_response_at) WHERE first_response_at IS NOT NULL;
CREATE INDEX tickets_resolved ON tickets (workspace_id, resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX tickets_csat ON tickets (workspace_id, csat_at) WHERE csat_at IS NOT NULL;
