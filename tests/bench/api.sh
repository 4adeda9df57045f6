#!/usr/bin/env bash
# API benchmark (issue 3), run against the local stack of deploy/local/up.sh:
#   1. a workspace with 100,000 tickets (one message each) is seeded with SQL;
#   2. a dedicated loket-api (port 8090, rate limits lifted, otherwise the stack's settings) is
#      started so the stack's own limits do not throttle the load;
#   3. loket-bench-http measures GET /api/v1/tickets/:id and filtered lists of 50.
# Prints one JSON line per measurement. Not part of ctest: figures go to docs/performance.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STATE="$ROOT/.run"
[ -f "$STATE/env" ] || { echo "start the local stack first: deploy/local/up.sh" >&2; exit 1; }
set -a; source "$STATE/env"; set +a
export LOKET_MASTER_KEY=${LOKET_MASTER_KEY:-k1:$(cat "$STATE/master.key")}
BIN="$ROOT/build/bin"
CONNS=${BENCH_CONNECTIONS:-16}
SECS=${BENCH_SECONDS:-20}
TICKETS=${BENCH_TICKETS:-100000}

created=$("$BIN/loket-admin" create-workspace "Benchmark")
WS=$(sed -n 's/^LOKET_ACCOUNT_ID=//p' <<<"$created")
KEY=$(sed -n 's/^LOKET_API_KEY=//p' <<<"$created")
echo "seeding $TICKETS tickets into $WS" >&2
psql -q "$LOKET_DATABASE_URL" -v ws="$WS" -v n="$TICKETS" <<'SQL'
INSERT INTO tickets (id, workspace_id, number, subject, status, priority, channel, requester_name,
                     requester_email, tags, created_at, updated_at, search)
SELECT 'tkt_' || substr(md5(:'ws' || g), 1, 24), :'ws', g, 'Order ' || g || ' question',
       (ARRAY['open','pending','resolved','closed'])[1 + g % 4], 'normal',
       (ARRAY['web','telegram','whatsapp','email'])[1 + (g / 4) % 4], 'Requester ' || g,
       'req' || g || '@example.com', CASE WHEN g % 10 = 0 THEN ARRAY['vip'] ELSE '{}'::text[] END,
       now() - (:n - g) * interval '1 minute', now() - (:n - g) * interval '1 minute',
       to_tsvector('simple', 'Order ' || g || ' question where is my parcel')
FROM generate_series(1, :n) g;
INSERT INTO messages (id, workspace_id, ticket_id, author_type, author_name, body, created_at)
SELECT 'tmsg_' || substr(md5(:'ws' || g || 'm'), 1, 24), :'ws', 'tkt_' || substr(md5(:'ws' || g), 1, 24),
       'requester', 'Requester ' || g, 'Where is my parcel for order ' || g || '?',
       now() - (:n - g) * interval '1 minute'
FROM generate_series(1, :n) g;
UPDATE workspaces SET ticket_seq = :n WHERE id = :'ws';
SQL
# Settle before measuring: autovacuum would otherwise run on the fresh rows during the load.
psql -q "$LOKET_DATABASE_URL" -c "VACUUM (ANALYZE) tickets" -c "VACUUM (ANALYZE) messages"
TICKET=$(psql -tA "$LOKET_DATABASE_URL" -c "SELECT id FROM tickets WHERE workspace_id = '$WS' AND number = $((TICKETS / 2))")

LOKET_PUBLIC_WEBHOOK_URL=$LOKET_INGRESS_URL LOKET_API_PORT=8090 LOKET_ADMIN_PORT=0 LOKET_RATE_LIMIT_PER_MINUTE=100000000 LOKET_RATE_LIMIT_IP_PER_MINUTE=100000000 \
  LOKET_DB_POOL_SIZE=${BENCH_DB_POOL:-16} "$BIN/loket-api" >"$STATE/logs/api-bench.log" 2>&1 &
API_PID=$!
trap 'kill $API_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -fs http://127.0.0.1:8090/healthz >/dev/null && break; sleep 0.2; done
curl -fs http://127.0.0.1:8090/healthz >/dev/null || { echo "loket-api did not start: $STATE/logs/api-bench.log" >&2; exit 1; }

echo "GET /api/v1/tickets/:id, $CONNS connections, ${SECS}s" >&2
"$BIN/loket-bench-http" http://127.0.0.1:8090 "$KEY" "$CONNS" "$SECS" "/api/v1/tickets/$TICKET" |
  sed "s/^{/{\"bench\":\"get_ticket\",/"
echo "filtered lists of 50 over $TICKETS tickets, $CONNS connections, ${SECS}s" >&2
"$BIN/loket-bench-http" http://127.0.0.1:8090 "$KEY" "$CONNS" "$SECS" \
  "/api/v1/tickets?status=open&limit=50" "/api/v1/tickets?channel=telegram&status=pending&limit=50" \
  "/api/v1/tickets?tag=vip&limit=50" "/api/v1/tickets?sort=-updatedAt&status=resolved&limit=50" |
  sed 's/^{/{"bench":"filtered_list_50",/'
