-- Loket schema v2: agents and sessions, API key roles, ticket search, uploads, rate limits,
-- idempotency keys (issue 3).

CREATE TABLE agents (
  id             text PRIMARY KEY,                  -- agt_ + 24 hex
  workspace_id   text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  email          text NOT NULL,                     -- stored lower-case
  name           text NOT NULL,
  role           text NOT NULL CHECK (role IN ('owner','admin','agent')),
  password_hash  text NOT NULL,                     -- argon2id encoded string (PHC format)
  active         boolean NOT NULL DEFAULT true,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
-- An email signs in to exactly one workspace.
CREATE UNIQUE INDEX agents_email ON agents (email);
CREATE INDEX agents_workspace ON agents (workspace_id);

CREATE TABLE sessions (
  id            text PRIMARY KEY,
  workspace_id  text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  agent_id      text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  token_hash    bytea NOT NULL UNIQUE,              -- SHA-256 of the session token
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  revoked_at    timestamptz
);
CREATE INDEX sessions_agent ON sessions (agent_id) WHERE revoked_at IS NULL;

ALTER TABLE api_keys ADD COLUMN created_by text;

-- Assignees are agents of the same workspace.
ALTER TABLE tickets ADD CONSTRAINT tickets_assignee FOREIGN KEY (assignee_id)
  REFERENCES agents(id) ON DELETE SET NULL;

-- Full-text search over the subject and every message body ('simple': no language stemming,
-- so Indonesian, English and everything else behave the same).
ALTER TABLE tickets ADD COLUMN search tsvector NOT NULL DEFAULT ''::tsvector;
UPDATE tickets t SET search = to_tsvector('simple', t.subject || ' ' ||
  coalesce((SELECT string_agg(m.body, ' ') FROM messages m WHERE m.ticket_id = t.id), ''));
CREATE INDEX tickets_search ON tickets USING gin (search);
CREATE INDEX tickets_tags ON tickets USING gin (tags);
CREATE INDEX tickets_status ON tickets (workspace_id, status, number DESC);
CREATE INDEX tickets_updated ON tickets (workspace_id, updated_at, number);
CREATE INDEX tickets_assignee ON tickets (workspace_id, assignee_id, number DESC);

-- Uploads not yet attached to a message belong to whoever uploaded them.
ALTER TABLE attachments ADD COLUMN uploaded_by text;
CREATE INDEX attachments_unlinked ON attachments (workspace_id, created_at) WHERE message_id IS NULL;

-- Fixed-window counters shared by every api replica (rate limits, sign-in throttling).
-- UNLOGGED: losing counters in a crash only resets the windows.
CREATE UNLOGGED TABLE rate_limits (
  bucket        text NOT NULL,
  window_start  bigint NOT NULL,                    -- Unix seconds
  hits          integer NOT NULL,
  PRIMARY KEY (bucket, window_start)
);

-- Counts one hit on `bucket` in the window of `window_s` seconds containing now; returns the
-- hits so far (including this one) and the seconds until the window resets.
CREATE FUNCTION rate_limit_hit(p_bucket text, p_window_s integer, OUT hits integer, OUT reset_s integer)
LANGUAGE plpgsql AS $$
DECLARE
  now_s bigint := floor(extract(epoch FROM clock_timestamp()));
  start_s bigint := now_s - (now_s % p_window_s);
BEGIN
  INSERT INTO rate_limits AS r (bucket, window_start, hits) VALUES (p_bucket, start_s, 1)
  ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + 1
  RETURNING r.hits INTO hits;
  reset_s := start_s + p_window_s - now_s;
END $$;

-- Idempotency-Key records: the first response to a create, replayed on retries for 24 hours.
CREATE TABLE idempotency_keys (
  workspace_id  text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  key           text NOT NULL,
  request_hash  bytea NOT NULL,                     -- SHA-256 of method, path and body
  status        integer,                            -- NULL while the first request runs
  response      text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, key)
);
