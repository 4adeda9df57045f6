-- Issue 15, finding 7: a workspace can require every webhook of its integrations to be signed
-- (no Cloud API number without an app secret). Off by default: the seed's unsigned mode stays.
ALTER TABLE workspaces ADD COLUMN require_signed_webhooks boolean NOT NULL DEFAULT false;
