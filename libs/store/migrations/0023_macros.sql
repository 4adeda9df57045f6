-- Macros (issue 20): a named list of actions agents apply to one ticket or to many at once.
CREATE TABLE macros (
  id           text PRIMARY KEY,                                          -- mac_ + 24 hex
  workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name         text NOT NULL,
  actions      jsonb NOT NULL,                                            -- as the api validated them
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX macros_name ON macros (workspace_id, lower(name));
