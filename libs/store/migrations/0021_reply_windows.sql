-- Reply windows (issue 19): when the customer last wrote, which bounds when WhatsApp and
-- Instagram still take a free-form reply, and whether the "window closing" event went out.
ALTER TABLE tickets ADD COLUMN customer_message_at timestamptz;
ALTER TABLE tickets ADD COLUMN window_warned_at timestamptz;
UPDATE tickets t SET customer_message_at = m.at
  FROM (SELECT ticket_id, max(created_at) AS at FROM messages WHERE author_type = 'requester' GROUP BY ticket_id) m
  WHERE m.ticket_id = t.id AND t.status <> 'closed';
-- The sweep that announces closing windows reads only open tickets not yet warned.
CREATE INDEX tickets_window_sweep ON tickets (customer_message_at)
  WHERE window_warned_at IS NULL AND status = 'open' AND customer_message_at IS NOT NULL;
