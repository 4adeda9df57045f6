-- Canned responses (issue 20): saved replies agents insert with a short code, workspace-wide
-- (owner_id NULL) or one agent's own.
CREATE TABLE canned_responses (
  id           text PRIMARY KEY,                                           -- cr_ + 24 hex
  workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  owner_id     text REFERENCES agents(id) ON DELETE CASCADE,              -- NULL = the whole workspace
  short_code   text NOT NULL,                                             -- lower-case [a-z0-9_-]
  title        text NOT NULL,
  body         text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
-- One short code per scope: a personal response may reuse a workspace one's code (it wins in
-- the agent's menu), two of the same scope may not.
CREATE UNIQUE INDEX canned_responses_code ON canned_responses (workspace_id, coalesce(owner_id, ''), short_code);
