-- Issue 17, the live-chat widget: one per workspace, off until an admin turns it on.
-- identity_secret: the key a site's backend signs its signed-in users' identifiers with
-- (HMAC-SHA256), encrypted like integration credentials (AES-256-GCM under the keyring,
-- associated data the workspace id).
CREATE TABLE widgets (
  workspace_id            text PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
  enabled                 boolean NOT NULL DEFAULT false,
  color                   text NOT NULL,
  welcome_heading         text NOT NULL,
  welcome_tagline         text NOT NULL,
  prechat_name            text NOT NULL CHECK (prechat_name IN ('off','optional','required')),
  prechat_email           text NOT NULL CHECK (prechat_email IN ('off','optional','required')),
  prechat_phone           text NOT NULL CHECK (prechat_phone IN ('off','optional','required')),
  allowed_origins         text[] NOT NULL DEFAULT '{}',
  away_message            text NOT NULL DEFAULT '',
  require_identity        boolean NOT NULL DEFAULT false,
  identity_secret         bytea NOT NULL,
  identity_secret_key_id  text NOT NULL,
  updated_at              timestamptz NOT NULL DEFAULT now()
);
