-- Ticket search without rewriting the ticket per message (issue 7).
--
-- Until now every message appended its words to tickets.search: each writer batch rewrote the
-- ticket's growing vector, and the new row version was indexed again by every ticket index, the
-- GIN one under all the conversation's words — work per message that grew with the
-- conversation. Now a message's words are stored and indexed once, with the message;
-- tickets.search keeps the subject's words only. The meaning of a search is unchanged: a ticket
-- matches `q` when its subject and all its messages, taken together, match (so `courier -refund`
-- excludes a ticket any of whose messages says "refund").

CREATE EXTENSION IF NOT EXISTS btree_gin;  -- trusted: the database owner may create it

ALTER TABLE messages ADD COLUMN search tsvector
  GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;
CREATE INDEX messages_search ON messages USING gin (workspace_id, search);

UPDATE tickets SET search = to_tsvector('simple', subject);

-- Concatenates vectors in order (positions shift like ||): a ticket's whole conversation, for
-- the word positions a phrase query needs.
CREATE AGGREGATE loket_tsvector_agg(tsvector) (SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = '');

