-- Issue 16, email in: what an email message keeps beside its body. The trimmed quote and
-- signature (shown apart, never thrown away), the addresses the requester copied, and the
-- original message bytes (downloadable as message/rfc822), one row per message that has them.
ALTER TABLE messages ADD COLUMN quoted_text text, ADD COLUMN cc text[];

-- A requester's tickets by address: the ticket list's requester filter, and the count of tickets
-- one sender opened in the last hour (the writer throttles a sender past
-- LOKET_TICKETS_PER_SENDER_HOUR).
CREATE INDEX tickets_requester_email ON tickets (workspace_id, lower(requester_email), created_at DESC)
  WHERE requester_email IS NOT NULL;

CREATE TABLE message_sources (
  message_id    text PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
  workspace_id  text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  content_type  text NOT NULL,
  data          bytea NOT NULL
);
