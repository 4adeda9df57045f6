-- Merging tickets (issue 20): a source's messages move to the target's timeline (keeping where
-- they came from), the source is closed with merged_into_id; a customer message arriving later on
-- a source's thread (a channel thread, an email reply address, the status link) lands in the
-- target.
ALTER TABLE tickets ADD COLUMN merged_into_id text REFERENCES tickets(id) ON DELETE SET NULL;
ALTER TABLE messages ADD COLUMN merged_from_ticket_id text;
-- The merged tickets of a thread: the writer's look-up when a thread has no open ticket.
CREATE INDEX tickets_merged_thread ON tickets (workspace_id, channel, external_thread_id, created_at DESC)
  WHERE merged_into_id IS NOT NULL;
