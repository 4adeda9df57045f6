-- Hosted form, status page, CSAT, requester email and auto-replies (issue 5).

-- The requester's access token: looked up by its SHA-256, kept encrypted (AES-256-GCM with the
-- master keyring, AAD = ticket id) only so emails can carry the status link again later.
ALTER TABLE tickets ADD COLUMN access_token_hash bytea UNIQUE;
ALTER TABLE tickets ADD COLUMN access_token bytea;
ALTER TABLE tickets ADD COLUMN access_token_key_id text;
-- The plus-address token of the ticket's Reply-To (reply+<token>@<inbound domain>): lets the
-- email-to-ticket channel route a customer's email reply back to this ticket. 128 random bits.
ALTER TABLE tickets ADD COLUMN reply_token text UNIQUE;

ALTER TABLE tickets ADD COLUMN csat_score smallint CHECK (csat_score BETWEEN 1 AND 5);
ALTER TABLE tickets ADD COLUMN csat_comment text;
ALTER TABLE tickets ADD COLUMN csat_at timestamptz;

-- Per-workspace auto-reply on new tickets (NULL: off); placeholders are rendered per ticket.
ALTER TABLE workspaces ADD COLUMN auto_reply text;

-- Requester emails that are not replies (those are the reply message's own delivery):
-- one row per ticket and kind, so a redelivered event never sends twice.
CREATE TABLE notifications (
  id                   text PRIMARY KEY,
  workspace_id         text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  ticket_id            text NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  kind                 text NOT NULL CHECK (kind IN ('ticket_received', 'csat_survey')),
  recipient            text NOT NULL,
  status               text NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
  error                text,
  attempts             integer NOT NULL DEFAULT 0,
  provider_message_id  text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  sent_at              timestamptz,
  UNIQUE (ticket_id, kind)
);
