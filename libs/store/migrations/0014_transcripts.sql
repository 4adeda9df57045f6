-- Issue 17: a chat conversation's transcript by email, on request. A transcript is a
-- notification like the received notice and the survey, but a ticket may have several (one per
-- request): `once_key` is the requesting event's id ('' for the once-per-ticket kinds), so a
-- redelivered event still sends once.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
  CHECK (kind IN ('ticket_received', 'csat_survey', 'transcript'));
ALTER TABLE notifications ADD COLUMN once_key text NOT NULL DEFAULT '';
ALTER TABLE notifications DROP CONSTRAINT notifications_ticket_id_kind_key;
ALTER TABLE notifications ADD CONSTRAINT notifications_once UNIQUE (ticket_id, kind, once_key);
