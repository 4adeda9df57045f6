-- Issue 17, live chat: the widget's visitors, its business hours and a per-ticket message
-- sequence.

-- The team's weekly schedule (libs/hours JSON shape: {timeZone, week, holidays}); NULL: always
-- open.
ALTER TABLE widgets ADD COLUMN business_hours text;
-- How many conversations one visitor may start in an hour (then 429 with a clear message).
ALTER TABLE widgets ADD COLUMN conversations_per_visitor_per_hour integer NOT NULL DEFAULT 5;
--
-- A visitor is one widget session: the browser keeps a random token (256 bits, `wvs_…`), we
-- keep only its SHA-256. Their conversation is the latest ticket with channel 'chat' and
-- external_thread_id = the visitor id, or 'user:<identifier>' once the site verified who they
-- are (every device of that user then shares it); a closed ticket is never reopened.
CREATE TABLE widget_visitors (
  id            text PRIMARY KEY,
  workspace_id  text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  token_hash    bytea NOT NULL UNIQUE,
  name          text,
  email         text,
  phone         text,
  identifier    text,            -- the site's user id, set only with a valid HMAC (identify)
  online_until  timestamptz,     -- a widget socket was open lately (refreshed by the api's Hub)
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX widget_visitors_workspace ON widget_visitors (workspace_id, created_at);
CREATE INDEX widget_visitors_identifier ON widget_visitors (workspace_id, identifier) WHERE identifier IS NOT NULL;
-- A visitor's latest chat ticket, closed ones included (tickets_thread leaves those out).
CREATE INDEX tickets_chat_visitor ON tickets (workspace_id, external_thread_id, created_at DESC)
  WHERE channel = 'chat';

-- Every message gets seq = its ticket's count of messages so far + 1, assigned under the
-- ticket's row lock, so within a ticket seq increases in commit order with no gaps: a reader
-- that saw seq n and asks for "after n" misses nothing (the widget resumes this way).
ALTER TABLE tickets ADD COLUMN message_seq bigint NOT NULL DEFAULT 0;
-- The highest seq an agent has read (the widget shows "Seen" up to it).
ALTER TABLE tickets ADD COLUMN agent_read_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN seq bigint;
UPDATE messages m SET seq = s.n
  FROM (SELECT id, row_number() OVER (PARTITION BY ticket_id ORDER BY created_at, id) AS n FROM messages) s
  WHERE s.id = m.id;
UPDATE tickets t SET message_seq = s.n
  FROM (SELECT ticket_id, max(seq) AS n FROM messages GROUP BY ticket_id) s
  WHERE s.ticket_id = t.id;
ALTER TABLE messages ALTER COLUMN seq SET NOT NULL;
CREATE UNIQUE INDEX messages_ticket_seq ON messages (ticket_id, seq);

CREATE FUNCTION messages_next_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tickets SET message_seq = message_seq + 1 WHERE id = NEW.ticket_id RETURNING message_seq INTO NEW.seq;
  RETURN NEW;
END $$;
CREATE TRIGGER messages_seq BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION messages_next_seq();
