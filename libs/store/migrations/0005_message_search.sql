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

-- Concatenates vectors in order (positions shift like ||), for a ticket's whole conversation.
CREATE AGGREGATE loket_tsvector_agg(tsvector) (SFUNC = tsvector_concat, STYPE = tsvector, INITCOND = '');

-- The words of `q` one of which every match of `q` contains, as 'a' | 'b' | …: the lexemes of
-- its positive part (querytree drops what an index cannot use, such as negations). NULL when
-- a match needs none of them ('-refund' alone matches a ticket without any word of the query).
CREATE FUNCTION loket_any_word(q tsquery) RETURNS tsquery LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT string_agg(w[1], ' | ')::tsquery
  FROM regexp_matches(querytree(q), '(''(?:[^'']|'''')*''(?::[*A-D]+)?)', 'g') AS w
$$;
