-- Seeds workspace :ws with :n tickets over the last 120 days and :m messages per ticket for the
-- reports benchmark (issue 21): 8 channels, 20 inboxes, 10 teams, 50 assignees; 80% answered
-- (first response 1 minute to ~17 hours later), 60% resolved (up to ~4 days later), a fifth of
-- those rated, 5% reopened once; every status change in the log as the trigger would have written
-- it. The workspace counts its days in Europe/Amsterdam; its report rollup is counted once at the
-- end (the triggers are off while seeding). Then settles the tables (VACUUM ANALYZE).
INSERT INTO inboxes (id, workspace_id, name)
SELECT 'ibx_bench' || lpad(g::text, 15, '0'), :'ws', 'Bench inbox ' || g FROM generate_series(1, 20) g;
INSERT INTO teams (id, workspace_id, name)
SELECT 'team_bench' || lpad(g::text, 14, '0'), :'ws', 'Bench team ' || g FROM generate_series(1, 10) g;
INSERT INTO agents (id, workspace_id, email, name, role, password_hash)
SELECT 'agt_bench' || lpad(g::text, 15, '0'), :'ws', 'agent' || g || '@bench.test', 'Agent ' || g, 'agent', ''
FROM generate_series(1, 50) g;

ALTER TABLE tickets DISABLE TRIGGER tickets_status_log;  -- the log is written below, with its times
ALTER TABLE tickets DISABLE TRIGGER tickets_report_facts;
ALTER TABLE ticket_status_log DISABLE TRIGGER status_log_report_facts;
INSERT INTO tickets (id, workspace_id, number, subject, status, priority, channel, requester_name, requester_email,
                     inbox_id, team_id, assignee_id, created_at, updated_at, first_response_at,
                     first_response_business_s, resolved_at, resolution_business_s, csat_score, csat_at, search)
SELECT 'tkt_r' || lpad(g::text, 23, '0'), :'ws', g, 'Report ' || g,
       CASE WHEN g % 5 < 3 THEN 'resolved' WHEN g % 5 = 3 THEN 'pending' ELSE 'open' END,
       (ARRAY['low', 'normal', 'high', 'urgent'])[1 + g % 4],
       (ARRAY['web', 'email', 'telegram', 'whatsapp', 'chat', 'api', 'instagram', 'vk'])[1 + g % 8],
       'Requester ' || g, 'r' || g || '@example.com',
       'ibx_bench' || lpad((1 + g % 20)::text, 15, '0'), 'team_bench' || lpad((1 + g % 10)::text, 14, '0'),
       'agt_bench' || lpad((1 + g % 50)::text, 15, '0'), c, c,
       CASE WHEN g % 5 < 4 THEN c + (60 + g % 61440) * interval '1 second' END,
       CASE WHEN g % 5 < 4 THEN (60 + g % 61440) / 3 END,
       CASE WHEN g % 5 < 3 THEN c + (600 + g % 345600) * interval '1 second' END,
       CASE WHEN g % 5 < 3 THEN (600 + g % 345600) / 3 END,
       CASE WHEN g % 5 < 3 AND g % 25 < 5 THEN 1 + g % 5 END,
       CASE WHEN g % 5 < 3 AND g % 25 < 5 THEN c + (700 + g % 345600) * interval '1 second' END,
       to_tsvector('simple', 'Report ' || g)
FROM (SELECT g, now() - interval '120 days' + (g::float8 / :n) * interval '120 days' AS c
      FROM generate_series(1, :n) g) s;

INSERT INTO ticket_status_log (workspace_id, ticket_id, from_status, to_status, at)
SELECT :'ws', id, NULL, 'open', created_at FROM tickets WHERE workspace_id = :'ws'
UNION ALL
SELECT :'ws', id, 'open', 'pending', first_response_at FROM tickets WHERE workspace_id = :'ws' AND first_response_at IS NOT NULL
UNION ALL
SELECT :'ws', id, 'pending', 'resolved', resolved_at - interval '1 hour' FROM tickets
WHERE workspace_id = :'ws' AND resolved_at IS NOT NULL AND number % 20 = 0  -- reopened once
UNION ALL
SELECT :'ws', id, 'resolved', 'open', resolved_at - interval '30 minutes' FROM tickets
WHERE workspace_id = :'ws' AND resolved_at IS NOT NULL AND number % 20 = 0
UNION ALL
SELECT :'ws', id, 'pending', 'resolved', resolved_at FROM tickets WHERE workspace_id = :'ws' AND resolved_at IS NOT NULL;

INSERT INTO messages (id, workspace_id, ticket_id, author_type, author_name, body, created_at)
SELECT 'tmsg_r' || lpad((t.number * :m + k)::text, 22, '0'), :'ws', t.id,
       CASE WHEN k % 2 = 0 THEN 'requester' ELSE 'agent' END, 'Bench', 'Message ' || k || ' on ' || t.number,
       t.created_at + k * interval '10 minutes'
FROM tickets t, generate_series(0, :m - 1) k WHERE t.workspace_id = :'ws';
UPDATE workspaces SET ticket_seq = :n WHERE id = :'ws';
ALTER TABLE tickets ENABLE TRIGGER tickets_status_log;
ALTER TABLE tickets ENABLE TRIGGER tickets_report_facts;
ALTER TABLE ticket_status_log ENABLE TRIGGER status_log_report_facts;
BEGIN;  -- a writer sees the new zone with its rollup, never without (it would recount it too)
UPDATE workspaces SET time_zone = 'Europe/Amsterdam' WHERE id = :'ws';
SELECT rebuild_report_facts(:'ws');
COMMIT;
VACUUM (ANALYZE) tickets;
VACUUM (ANALYZE) ticket_status_log;
VACUUM (ANALYZE) messages;
VACUUM (ANALYZE) report_rollup;
