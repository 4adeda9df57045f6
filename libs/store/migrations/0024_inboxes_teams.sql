-- Inboxes and teams (issue 20, seed 004 "What is an inbox?"): every ticket belongs to an inbox,
-- the inbox of the integration it came through or the workspace's default inbox (the hosted
-- form, the email alias, tickets logged by hand). An agent with role `agent` sees only tickets of
-- inboxes they are a member of, directly or through a team; owners, admins and API keys see all.

CREATE TABLE inboxes (
  id           text PRIMARY KEY,                                          -- ibx_ + 24 hex
  workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name         text NOT NULL,
  is_default   boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX inboxes_name ON inboxes (workspace_id, lower(name));
-- One default inbox per workspace; it cannot be deleted.
CREATE UNIQUE INDEX inboxes_default ON inboxes (workspace_id) WHERE is_default;

CREATE TABLE teams (
  id           text PRIMARY KEY,                                          -- team_ + 24 hex
  workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name         text NOT NULL,
  description  text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX teams_name ON teams (workspace_id, lower(name));

CREATE TABLE team_members (
  team_id  text NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  agent_id text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, agent_id)
);
CREATE INDEX team_members_agent ON team_members (agent_id);

-- An inbox's members: agents directly, and teams (every member of the team).
CREATE TABLE inbox_agents (
  inbox_id text NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
  agent_id text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  PRIMARY KEY (inbox_id, agent_id)
);
CREATE INDEX inbox_agents_agent ON inbox_agents (agent_id);
CREATE TABLE inbox_teams (
  inbox_id text NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
  team_id  text NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  PRIMARY KEY (inbox_id, team_id)
);
CREATE INDEX inbox_teams_team ON inbox_teams (team_id);

-- Which inboxes each agent may work in: the access rule in one place.
CREATE VIEW inbox_access AS
  SELECT inbox_id, agent_id FROM inbox_agents
  UNION
  SELECT it.inbox_id, tm.agent_id FROM inbox_teams it JOIN team_members tm USING (team_id);

-- An integration delivers into its inbox (the default inbox when NULL, also after its inbox was
-- deleted). A ticket keeps the inbox it was created in; deleting the inbox leaves it without one,
-- seen by admins only.
ALTER TABLE integrations ADD COLUMN inbox_id text REFERENCES inboxes(id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN inbox_id text REFERENCES inboxes(id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN team_id text REFERENCES teams(id) ON DELETE SET NULL;
CREATE INDEX tickets_inbox ON tickets (inbox_id, number DESC);
CREATE INDEX tickets_team ON tickets (team_id, number DESC) WHERE team_id IS NOT NULL;

-- Every workspace gets its default inbox with every agent in it, so a workspace that never
-- made another inbox works as before; existing tickets move into it.
INSERT INTO inboxes (id, workspace_id, name, is_default)
  SELECT 'ibx_' || substr(md5(random()::text || id || clock_timestamp()::text), 1, 24), id, 'General', true
  FROM workspaces;
INSERT INTO inbox_agents (inbox_id, agent_id)
  SELECT i.id, a.id FROM agents a JOIN inboxes i ON i.workspace_id = a.workspace_id AND i.is_default;
UPDATE tickets t SET inbox_id = i.id FROM inboxes i WHERE i.workspace_id = t.workspace_id AND i.is_default;
