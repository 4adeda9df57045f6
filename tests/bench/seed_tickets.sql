-- Seeds workspace :ws with :n tickets (one requester message each) for the API benchmark:
-- statuses and channels evenly spread, 10% tagged vip, one minute apart. Then settles the
-- tables (VACUUM ANALYZE), so autovacuum does not run on the fresh rows during the load.
INSERT INTO tickets (id, workspace_id, number, subject, status, priority, channel, requester_name,
                     requester_email, tags, created_at, updated_at, search)
SELECT 'tkt_' || substr(md5(:'ws' || g), 1, 24), :'ws', g, 'Order ' || g || ' question',
       (ARRAY['open','pending','resolved','closed'])[1 + g % 4], 'normal',
       (ARRAY['web','telegram','whatsapp','email'])[1 + (g / 4) % 4], 'Requester ' || g,
       'req' || g || '@example.com', CASE WHEN g % 10 = 0 THEN ARRAY['vip'] ELSE '{}'::text[] END,
       now() - (:n - g) * interval '1 minute', now() - (:n - g) * interval '1 minute',
       to_tsvector('simple', 'Order ' || g || ' question')
FROM generate_series(1, :n) g;
INSERT INTO messages (id, workspace_id, ticket_id, author_type, author_name, body, created_at)
SELECT 'tmsg_' || substr(md5(:'ws' || g || 'm'), 1, 24), :'ws', 'tkt_' || substr(md5(:'ws' || g), 1, 24),
       'requester', 'Requester ' || g, 'Where is my parcel for order ' || g || '?',
       now() - (:n - g) * interval '1 minute'
FROM generate_series(1, :n) g;
UPDATE workspaces SET ticket_seq = :n WHERE id = :'ws';
VACUUM (ANALYZE) tickets;
VACUUM (ANALYZE) messages;
