-- Issue 16, a workspace's own mailbox: how far the import of its IMAP folder got (RFC 3501:
-- a UID is only meaningful under the folder's UIDVALIDITY; a reconnect naming another folder
-- starts over), and which ingress replica imports it now (a lease that runs out, so a dead
-- replica's mailboxes move on to another).
CREATE TABLE mailbox_cursors (
  integration_id  text PRIMARY KEY REFERENCES integrations(id) ON DELETE CASCADE,
  folder          text NOT NULL DEFAULT '',
  uidvalidity     bigint NOT NULL DEFAULT 0,
  last_uid        bigint NOT NULL DEFAULT 0,
  lease_owner     text,
  lease_until     timestamptz,
  polled_at       timestamptz,
  last_error      text
);
