-- WhatsApp (issue 4): the E.164 number an integration answers on, when it was last
-- (re)connected (replies use the most recent WhatsApp integration), and secret lookups.

ALTER TABLE integrations ADD COLUMN number text;  -- E.164; WhatsApp integrations only
ALTER TABLE integrations ADD COLUMN connected_at timestamptz NOT NULL DEFAULT now();

-- One number belongs to one workspace, whichever provider connects it (checked under an
-- advisory lock on the number when connecting; this index serves that check).
CREATE INDEX integrations_number ON integrations (number)
  WHERE number IS NOT NULL AND status <> 'disconnected';

-- Ingress finds a Cloud API integration by the hash of its verify token.
CREATE INDEX integrations_secret ON integrations (provider, webhook_secret_hash)
  WHERE status <> 'disconnected';

-- The outbound worker picks a workspace's most recently connected WhatsApp integration.
CREATE INDEX integrations_latest ON integrations (workspace_id, provider, connected_at DESC)
  WHERE status <> 'disconnected';
