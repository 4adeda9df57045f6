#!/usr/bin/env bash
# The benchmark harness (issue 7; docs/performance.md):
#   tests/bench/run.sh            full run (about 6 minutes on 2 cores)
#   tests/bench/run.sh --smoke    seconds-long steps at low rates (the ctest entry bench.smoke);
#                                 checks that every step works, asserts no figure
# Builds, then brings up a private stack of its own (fresh PostgreSQL, the dev broker or the real
# Kafka of LOKET_KAFKA_BROKERS, the five services on ports of their own, so a running
# deploy/local/up.sh stack is left alone) and measures in one run:
#   1. baselines: a minimal Beast server under the same load generator, raw produce/consume on
#      the broker, pgbench running the writer's SQL (synchronous_commit on);
#   2. ingress alone (the workers not started): open-loop Telegram webhooks at fixed rates;
#   3. end to end: a backlog drained at full speed, then fixed open-loop rates with the
#      pipeline running; latency webhook sent → message committed, consumer lag over time,
#      and that every acknowledged webhook became exactly one message;
#   3b. email: the cost of parsing each kind of email (µs), raw MIME at fixed open-loop rates
#      from the MTA ingress to committed messages (plain, HTML only, a 100 KB attachment,
#      ISO-2022-JP; latency, lost, duplicated), then a workspace's own 10,000-message Dovecot
#      mailbox imported, once cleanly and once with the ingress SIGKILLed halfway;
#   4. the API: GET /api/v1/tickets/:id and filtered lists over a seeded workspace; then 10,000
#      realtime WebSockets on the one api (idle CPU and RSS, GET by id while they are open, a
#      request among 500 slowloris connections, 200 events/s fanned out to their workspaces);
#   5. peak RSS of every service.
# Writes results.jsonl (one line per measurement), results.json, results.md and PNG plots into
# BENCH_OUT (default build/bench/<mode>-<time>/). Exits non-zero when a step fails to run or a
# webhook is lost or duplicated; figures are reported, never asserted.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/deploy/local/lib.sh"
MODE=full
[ "${1:-}" = "--smoke" ] && MODE=smoke
if [ "$MODE" = smoke ]; then
  SECS=2 INGRESS_RATES="200 400" E2E_RATES="100 200" CEILING_RATES="400" TICKETS=1000 REPORT_TICKETS=2000
  EMAIL_RATES="50" MAILBOX_MESSAGES=200
  BROKER_RECORDS=2000 PGBENCH_SECS=2 API_SECS=2 DRAIN_SECS=1 BASE=${BENCH_PORT_BASE:-18200}
else
  SECS=${BENCH_SECONDS:-10}
  INGRESS_RATES=${BENCH_INGRESS_RATES:-"2000 4000 6000 8000 10000 12000 14000 16000"}
  E2E_RATES=${BENCH_E2E_RATES:-"500 1000 1500 2000 2500 3000 3500 4000"}
  CEILING_RATES=${BENCH_CEILING_RATES:-"4000 8000 12000 16000 20000"}
  TICKETS=${BENCH_TICKETS:-100000} BROKER_RECORDS=${BENCH_BROKER_RECORDS:-20000}
  REPORT_TICKETS=${BENCH_REPORT_TICKETS:-1000000}  # with 5 messages each (issue 21: 1M tickets, 5M messages)
  PGBENCH_SECS=${BENCH_PGBENCH_SECONDS:-20} API_SECS=${BENCH_API_SECONDS:-10} BASE=${BENCH_PORT_BASE:-18100}
  DRAIN_SECS=${BENCH_DRAIN_SECONDS:-6}  # at 2,000/s: 12,000 records, about 3 MB per partition
  EMAIL_RATES=${BENCH_EMAIL_RATES:-"100 250 500"} MAILBOX_MESSAGES=${BENCH_MAILBOX_MESSAGES:-10000}
fi
CONNS=${BENCH_CONNECTIONS:-64}     # load generator connections
CHANNELS=${BENCH_CHANNELS:-"telegram cloud twilio"}  # the webhooks that take turns (the ceiling gets Telegram's)
WAIT_TRIES=$([ "$MODE" = smoke ] && echo 240 || echo 2400)  # quarter seconds to wait for the pipeline to drain
BATCH=${BENCH_PGBENCH_BATCH:-50}   # messages per pgbench transaction (the writer's batch)
OUT=${BENCH_OUT:-$ROOT/build/bench/$MODE-$(date +%Y%m%d-%H%M%S)}
STATE="$ROOT/.run/bench-$MODE"
MAIL_STATE=/tmp/loket-bench-mail-$BASE  # step 3b's Dovecot; its users (nobody) must reach it: not under $ROOT
BIN="$ROOT/build/bin"
PG_PORT=$((BASE + 0)) API_PORT=$((BASE + 1)) INGRESS_PORT=$((BASE + 2)) CEILING_PORT=$((BASE + 3)) PROVIDERS_PORT=$((BASE + 4))
declare -A ADMIN=([api]=$((BASE + 10)) [ingress]=$((BASE + 11)) [inbound]=$((BASE + 12)) [writer]=$((BASE + 13)) [outbound]=$((BASE + 14)))
SERVICES="api ingress inbound writer outbound"

[ "${BENCH_NO_BUILD:-}" = 1 ] || { loket_install_deps; loket_build; }
command -v gnuplot >/dev/null 2>&1 || loket_install_test_tools

stop_all() {
  for s in $SERVICES ceiling providers devbroker; do loket_stop "$s" "$STATE"; done
  if [ -d "$MAIL_STATE" ]; then
    bash "$ROOT/tests/mail/postfix.sh" stop-submission "$MAIL_STATE" || true
    bash "$ROOT/tests/mail/dovecot.sh" stop "$MAIL_STATE" || true
  fi
  loket_stop devbroker "$STATE/sink"
  loket_pg_stop "$STATE"
  [ -n "${SAMPLER:-}" ] && kill "$SAMPLER" 2>/dev/null || true
}
trap stop_all EXIT
stop_all
if [ -f "$STATE/pgdata.path" ]; then rm -rf "$(dirname "$(cat "$STATE/pgdata.path")")"; fi
rm -rf "$STATE" "$OUT"
mkdir -p "$STATE" "$OUT"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
emit() { echo "$1" | tee -a "$RESULTS"; }  # one measurement (a JSON object) per line

loket_say "bench ($MODE): PostgreSQL on 127.0.0.1:$PG_PORT, results in $OUT"
loket_pg_start "$STATE" "$PG_PORT"
export LOKET_DATABASE_URL="postgresql://loket@127.0.0.1:$PG_PORT/loket"
if [ -n "${LOKET_KAFKA_BROKERS:-}" ]; then
  BROKER="kafka $LOKET_KAFKA_BROKERS"
else
  loket_broker_start "$STATE"
  export LOKET_KAFKA_BROKERS=$(cat "$STATE/kafka.bootstrap")
  BROKER="dev broker"
fi
export LOKET_MASTER_KEY="k1:$(openssl rand -hex 32)"
export LOKET_API_PORT=$API_PORT LOKET_INGRESS_PORT=$INGRESS_PORT
export LOKET_PUBLIC_WEBHOOK_URL=http://127.0.0.1:$INGRESS_PORT LOKET_PUBLIC_APP_URL=http://127.0.0.1:$API_PORT
# tests/bench/fake_providers.py stands in for Meta's Graph API and Twilio's API.
export LOKET_OUTBOUND_ALLOW_PRIVATE=1  # the fake providers listen on 127.0.0.1
export LOKET_GRAPH_API_BASE=http://127.0.0.1:$PROVIDERS_PORT LOKET_TWILIO_API_BASE=http://127.0.0.1:$PROVIDERS_PORT
# The benchmark drives the API far beyond a real client's limits; rate limiting itself still runs.
export LOKET_RATE_LIMIT_PER_MINUTE=100000000 LOKET_RATE_LIMIT_IP_PER_MINUTE=100000000
export LOKET_RATE_LIMIT_CHAT_IP_PER_MINUTE=100000000 LOKET_CHAT_SESSIONS_PER_WORKSPACE_PER_MINUTE=100000000
export LOKET_LOG_LEVEL=${LOKET_LOG_LEVEL:-warn}
# Email in: the MTA ingress's password and alias domain; workspace mailboxes polled every 500 ms,
# their Dovecot's certificate trusted (step 3b starts it).
export LOKET_INBOUND_EMAIL_DOMAIN=in.bench.test LOKET_EMAIL_INGRESS_PASSWORD=$(openssl rand -hex 16)
export LOKET_MAILBOX_POLL_MS=500 LOKET_MAILBOX_CA_FILE=$MAIL_STATE/dovecot/cert.pem
"$BIN/loket-admin" migrate >/dev/null
start() { LOKET_ADMIN_PORT=${ADMIN[$1]} loket_start "$1" "$STATE" "$BIN/loket-$1"; }
psqlq() { psql -qtAX "$LOKET_DATABASE_URL" "$@"; }

# A workspace with a Telegram integration whose webhook secret we know (no Bot API involved);
# its two WhatsApp numbers (Cloud API, Twilio) are connected through the API once it runs.
created=$("$BIN/loket-admin" create-workspace "Pipeline benchmark")
WS=$(sed -n 's/^LOKET_ACCOUNT_ID=//p' <<<"$created") WS_KEY=$(sed -n 's/^LOKET_API_KEY=//p' <<<"$created")
INT="int_$(openssl rand -hex 12)" SECRET=$(openssl rand -hex 16)
psqlq -c "INSERT INTO integrations (id, workspace_id, provider, status, display_name, routing_key, webhook_secret_hash)
  VALUES ('$INT', '$WS', 'telegram_bot', 'active', 'bench', 'bench-$INT', sha256(convert_to('$SECRET', 'UTF8')))"

# Every 500 ms: each service's RSS and consumer lag (records behind) from its /metrics, and
# the CPU time used so far by each process of the run (the services, PostgreSQL, the broker,
# the load generator) and by the whole machine (every process, the harness's own included), so
# the report can say where the cores went during each step. The CPU part reads /proc with
# bash's builtins: a sampler that forked a process per number (~100 a second) was itself a
# good part of a core on this 2-core machine.
SAMPLES="$OUT/samples.txt"  # epoch_s service rss_bytes lag
CPU="$OUT/cpu.txt"          # epoch_s component cpu_seconds (cumulative)
TICK=$(getconf CLK_TCK)
cpu_line() {  # cpu_line EPOCH COMPONENT TICKS: one line of $CPU
  printf '%s %s %d.%02d\n' "$1" "$2" $(($3 / TICK)) $(($3 % TICK * 100 / TICK))
}
cpu_of() {  # cpu_of EPOCH COMPONENT PID...: the CPU time the processes used (utime + stime)
  local t=$1 name=$2 total=0 p stat f
  shift 2
  for p in "$@"; do
    read -r stat 2>/dev/null <"/proc/$p/stat" || continue
    read -ra f <<<"${stat##*) }"  # from field 3 (state) on: the name may hold spaces
    total=$((total + f[11] + f[12]))
  done
  cpu_line "$t" "$name" "$total"
}
NCPU=$(nproc)
machine_cpu() {  # machine_cpu EPOCH: the time every core spent not idle, from /proc/uptime's
  # idle time (precise; /proc/stat's user and system are sampled at ticks and missed nearly all
  # of a timer-driven load here: 2 ticks where the idle time said 89)
  local up idle
  read -r up idle </proc/uptime  # seconds, 2 decimals; idle summed over the cores
  cpu_line "$1" machine $(((NCPU * 10#${up/./} - 10#${idle/./}) * TICK / 100))
}
( set +e +o pipefail  # a service not yet started answers nothing
  while true; do
    now=$EPOCHREALTIME
    for s in $SERVICES; do
      curl -s "http://127.0.0.1:${ADMIN[$s]}/metrics" 2>/dev/null | awk -v t="$now" -v s="$s" '
        /^process_resident_memory_bytes / { rss = $2 }
        /^loket_consumer_lag\{/ { lag += $2 }
        END { if (rss != "") printf "%s %s %s %d\n", t, s, rss, lag }'
    done >>"$SAMPLES"
    {
      for s in $SERVICES devbroker; do
        [ -f "$STATE/pids/$s.pid" ] && read -r pid <"$STATE/pids/$s.pid" && cpu_of "$now" "$s" "$pid"
      done
      pm= children=  # PostgreSQL: the postmaster and its backends
      if read -r pgdata 2>/dev/null <"$STATE/pgdata.path" && read -r pm 2>/dev/null <"$pgdata/postmaster.pid"; then
        read -r children 2>/dev/null <"/proc/$pm/task/$pm/children"
        cpu_of "$now" postgres "$pm" $children
      fi
      cpu_of "$now" generator $(pgrep -f "$BIN/loket-bench-load")
      machine_cpu "$now"
    } >>"$CPU"
    sleep 0.5
  done ) &
SAMPLER=$!

NEXT_ID=1  # update ids never repeat across steps (a repeat is rightly dropped as a duplicate)
TELEGRAM=$INT  # the generator's Telegram integration ("-": none)
WHATSAPP=()    # its cloud=… and twilio=… arguments once the numbers are connected
load() {  # load URL RATE RUN_ID [SECONDS]: the open-loop generator; sets OUT_JSON (one JSON object)
  OUT_JSON=$("$BIN/loket-bench-load" "$1" "$TELEGRAM" "$SECRET" "$2" "${4:-$SECS}" "$CONNS" "$3" 1000 "$NEXT_ID" "${WHATSAPP[@]}")
  NEXT_ID=$((NEXT_ID + $(field sent "$OUT_JSON")))
}
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<<"$2"; }
count() { psqlq -c "SELECT count(*) FROM messages WHERE workspace_id = '$WS' AND body LIKE 'bench $1 %'"; }
mark() { echo "$(date +%s.%N) $1" >>"$OUT/phases.txt"; }  # phase boundaries for the lag plot

# --- 1. Baselines ----------------------------------------------------------------------------
loket_say "baseline: minimal Beast server"
loket_start ceiling "$STATE" "$BIN/loket-bench-http-ceiling" "$CEILING_PORT"
loket_wait_http "http://127.0.0.1:$CEILING_PORT/" || { echo "the ceiling server did not start" >&2; exit 1; }
for r in $CEILING_RATES; do
  load "http://127.0.0.1:$CEILING_PORT" "$r" "c$r"
  emit "{\"measure\":\"http_ceiling\",${OUT_JSON#\{}"
done
for c in 4 16; do  # the closed-loop ceiling the API is compared with
  emit "{\"measure\":\"http_ceiling_closed_loop\",\"connections\":$c,$("$BIN/loket-bench-http" "http://127.0.0.1:$CEILING_PORT" none "$c" "$API_SECS" /api/v1/tickets/x | sed 's/^{//')"
done
loket_stop ceiling "$STATE"

loket_say "baseline: broker produce/consume ($BROKER)"
RECORD_BYTES=${BENCH_RECORD_BYTES:-1000}  # a Telegram text Update as a RawWebhook record is ~900 bytes
emit "{\"measure\":\"broker\",\"broker\":\"$BROKER\",$("$BIN/loket-bench-broker" "$LOKET_KAFKA_BROKERS" "$BROKER_RECORDS" "$RECORD_BYTES" | sed 's/^{//')"

loket_say "baseline: pgbench running the writer's statements, $BATCH messages per transaction"
PGWS=$("$BIN/loket-admin" create-workspace "pgbench" | sed -n 's/^LOKET_ACCOUNT_ID=//p')
PGINT="int_$(openssl rand -hex 12)"
psqlq -v ws="$PGWS" -v int="$PGINT" <<'SQL'
INSERT INTO integrations (id, workspace_id, provider, status, display_name, routing_key)
  VALUES (:'int', :'ws', 'telegram_bot', 'active', 'pgbench', 'pgbench-' || :'int');
INSERT INTO tickets (id, workspace_id, number, subject, status, priority, channel, integration_id, external_thread_id, search)
  SELECT 'tkt_pg' || g, :'ws', g, 'pgbench ' || g, 'open', 'normal', 'telegram', :'int', 'pg-' || g, to_tsvector('simple', 'pgbench')
  FROM generate_series(1, 1000) g;
CREATE SEQUENCE pgbench_messages;
SQL
{
  # The writer's transaction for a batch of BATCH messages, each appended to an open ticket of
  # its own thread (the common case), statement for statement (services/writer/src/writer.cpp):
  # the batch's thread locks, one dedup probe (an index lookup per key), one lookup of the open
  # tickets, one INSERT of the messages (their words indexed with them), one UPDATE of their
  # tickets (touch, integration), one INSERT of the batch's message.created outbox rows.
  last="(:t + $((BATCH - 1)))"
  echo "\\set t random(1, $((1000 - BATCH)))"
  echo "BEGIN;"
  echo "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended('$PGWS' || k, 7) AS h FROM generate_series(:t, $last) k ORDER BY h OFFSET 0) AS o;"
  echo "SELECT m.integration_id FROM generate_series(:t, $last) k, LATERAL (SELECT integration_id FROM messages WHERE integration_id = '$PGINT' AND external_message_id = 'none-' || k LIMIT 1) m;"
  echo "SELECT o.* FROM generate_series(:t, $last) k, LATERAL (SELECT id, status, number, subject, search FROM tickets WHERE workspace_id = '$PGWS' AND channel = 'telegram' AND external_thread_id = 'pg-' || k AND status <> 'closed' ORDER BY created_at DESC, number DESC LIMIT 1 FOR UPDATE) o;"
  echo "INSERT INTO messages (id, workspace_id, ticket_id, author_type, author_name, body, internal, integration_id, external_message_id, created_at) SELECT 'tmsg_pg' || n, '$PGWS', 'tkt_pg' || k, 'requester', 'Bench', 'bench message ' || n, false, '$PGINT', 'pg-' || n, clock_timestamp() FROM (SELECT k, nextval('pgbench_messages') AS n FROM generate_series(:t, $last) k) AS r ORDER BY k RETURNING id, created_at;"
  echo "UPDATE tickets SET integration_id = '$PGINT', updated_at = now() FROM generate_series(:t, $last) k WHERE tickets.id = 'tkt_pg' || k;"
  echo "INSERT INTO outbox (topic, key, payload) SELECT 'ticket.events', 'tkt_pg' || k, '{\"eventId\":\"evt_pgbench\",\"schemaVersion\":1,\"type\":\"message.created\",\"data\":{\"message\":{\"body\":\"bench message\",\"authorType\":\"requester\"}}}' FROM generate_series(:t, $last) k;"
  echo "COMMIT;"
} >"$STATE/writer.pgbench"
[ "$(psqlq -c 'SHOW synchronous_commit')" = on ] || { echo "synchronous_commit is not on" >&2; exit 1; }
tps=$(pgbench -n -M prepared -c 1 -T "$PGBENCH_SECS" -f "$STATE/writer.pgbench" "$LOKET_DATABASE_URL" 2>/dev/null |
      sed -n 's/^tps = \([0-9.]*\).*/\1/p')
[ -n "$tps" ] || { echo "pgbench failed" >&2; exit 1; }
emit "{\"measure\":\"database\",\"tool\":\"pgbench\",\"clients\":1,\"messages_per_tx\":$BATCH,\"tx_per_s\":$tps,\"messages_per_s\":$(awk -v t="$tps" -v b="$BATCH" 'BEGIN{printf "%.0f", t*b}'),\"synchronous_commit\":\"on\"}"
psqlq -c "DELETE FROM outbox"  # pgbench's rows are not for the relay

# --- 2. Ingress alone -------------------------------------------------------------------------
# The workers are not started. On the dev broker the ingress publishes to a second, throwaway
# dev broker: librdkafka's mock cluster keeps only the last 5 MB of each partition, so the
# hundreds of thousands of records of this phase could not be kept for the workers anyway. On a
# real Kafka they stay, and the drain below includes them.
loket_say "ingress alone (workers stopped): $INGRESS_RATES webhooks/s, ${SECS}s each"
start api
loket_wait_http "http://127.0.0.1:$API_PORT/healthz" || { echo "api did not start: $STATE/logs/api.log" >&2; exit 1; }
# The workspace's WhatsApp numbers, connected like an operator does (POST /api/v1/channels);
# from here on the webhooks of CHANNELS take turns (by default a third each).
loket_start providers "$STATE" python3 "$ROOT/tests/bench/fake_providers.py" "$PROVIDERS_PORT"
loket_wait_http "http://127.0.0.1:$PROVIDERS_PORT/v21.0/1" || { echo "the fake provider APIs did not start" >&2; exit 1; }
connect() {  # connect JSON: the channel's API answer
  curl -fsS -X POST "http://127.0.0.1:$API_PORT/api/v1/channels" -H "Authorization: Bearer $WS_KEY" \
    -H 'Content-Type: application/json' -d "$1" ||
    { echo "connecting a WhatsApp number failed: $STATE/logs/api.log" >&2; exit 1; }
}
APP_SECRET=$(openssl rand -hex 16) TWILIO_SID="AC$(openssl rand -hex 16)" TWILIO_TOKEN=$(openssl rand -hex 16)
connect "{\"provider\":\"whatsapp_cloud\",\"accessToken\":\"EAAG-bench\",\"phoneNumberId\":\"109000000000001\",\"displayNumber\":\"+6281100000001\",\"appSecret\":\"$APP_SECRET\"}" >/dev/null
twilio_url=$(connect "{\"provider\":\"whatsapp_twilio\",\"accountSid\":\"$TWILIO_SID\",\"authToken\":\"$TWILIO_TOKEN\",\"whatsappNumber\":\"+6281100000002\"}" |
             sed -n 's/.*"webhookUrl":"\([^"]*\)".*/\1/p')
[ -n "$twilio_url" ] || { echo "the Twilio number has no webhookUrl" >&2; exit 1; }
has() { [[ " $CHANNELS " == *" $1 "* ]]; }
has telegram || TELEGRAM=-
has cloud && WHATSAPP+=("cloud=109000000000001:$APP_SECRET")
has twilio && WHATSAPP+=("twilio=$TWILIO_SID:$TWILIO_TOKEN:+6281100000002:${twilio_url#"$LOKET_PUBLIC_WEBHOOK_URL"}")
start_ingress() {  # start_ingress BROKERS
  loket_stop ingress "$STATE"
  LOKET_KAFKA_BROKERS=$1 start ingress
  loket_wait_http "http://127.0.0.1:$INGRESS_PORT/healthz" || { echo "ingress did not start: $STATE/logs/ingress.log" >&2; exit 1; }
}
if [ "$BROKER" = "dev broker" ]; then
  loket_broker_start "$STATE/sink"
  start_ingress "$(cat "$STATE/sink/kafka.bootstrap")"
else
  start_ingress "$LOKET_KAFKA_BROKERS"
fi
mark ingress
load "http://127.0.0.1:$INGRESS_PORT" 100 warmup 1  # connections, route cache, broker metadata
backlog=$(field acknowledged "$OUT_JSON")
for r in $INGRESS_RATES; do
  mark "i$r"
  load "http://127.0.0.1:$INGRESS_PORT" "$r" "i$r"
  emit "{\"measure\":\"ingress\",${OUT_JSON#\{}"
  backlog=$((backlog + $(field acknowledged "$OUT_JSON")))
done
if [ "$BROKER" = "dev broker" ]; then
  start_ingress "$LOKET_KAFKA_BROKERS"
  loket_stop devbroker "$STATE/sink"
  backlog=0
fi

# --- 3. End to end ----------------------------------------------------------------------------
# A backlog the dev broker can keep (about 1 KB per record, 5 MB per partition), sent with the
# workers stopped, then drained at full speed: the pipeline's highest throughput.
mark backlog
load "http://127.0.0.1:$INGRESS_PORT" 2000 drain "$DRAIN_SECS"
backlog=$((backlog + $(field acknowledged "$OUT_JSON")))
loket_say "end to end: draining a backlog of $backlog webhooks at full speed"
mark drain
started=$(date +%s.%N)
for s in inbound writer outbound; do start "$s"; done
total() { psqlq -c "SELECT count(*) FROM messages WHERE workspace_id = '$WS'"; }
for _ in $(seq 1 "$WAIT_TRIES"); do [ "$(total)" -ge "$backlog" ] && break; sleep 0.25; done
emit "$(psqlq -v ws="$WS" -v started="$started" -v backlog="$backlog" <<'SQL'
SELECT json_build_object('measure', 'drain', 'acknowledged', :backlog, 'messages', count(*),
  'distinct_messages', count(DISTINCT external_message_id),
  'cloud_messages', count(*) FILTER (WHERE external_message_id LIKE 'wamid.%'),
  'twilio_messages', count(*) FILTER (WHERE external_message_id LIKE 'SM%'),
  'seconds_to_first', round(extract(epoch FROM min(created_at))::numeric - :started, 2),
  'seconds', round(extract(epoch FROM max(created_at) - min(created_at))::numeric, 2),
  'committed_per_s', round((count(*) / greatest(extract(epoch FROM max(created_at) - min(created_at)), 0.001))::numeric, 0))
FROM messages WHERE workspace_id = :'ws';
SQL
)"

for r in $E2E_RATES; do
  loket_say "end to end at $r webhooks/s"
  run="e$r"
  mark "$run"
  load "http://127.0.0.1:$INGRESS_PORT" "$r" "$run"
  acked=$(field acknowledged "$OUT_JSON")
  for _ in $(seq 1 "$WAIT_TRIES"); do [ "$(count "$run")" -ge "$acked" ] && break; sleep 0.25; done
  emit "$(psqlq -v ws="$WS" -v run="$run" -v acked="$acked" -v offered="$r" -v ack_p99="$(field p99_ms "$OUT_JSON")" <<'SQL'
SELECT json_build_object('measure', 'end_to_end', 'offered_per_s', :offered, 'acknowledged', :acked,
  'ack_p99_ms', :ack_p99, 'messages', count(*), 'distinct_messages', count(DISTINCT external_message_id),
  'cloud_messages', count(*) FILTER (WHERE external_message_id LIKE 'wamid.%'),
  'twilio_messages', count(*) FILTER (WHERE external_message_id LIKE 'SM%'),
  'p50_ms', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lat)::numeric, 1),
  'p99_ms', round(percentile_cont(0.99) WITHIN GROUP (ORDER BY lat)::numeric, 1),
  'p999_ms', round(percentile_cont(0.999) WITHIN GROUP (ORDER BY lat)::numeric, 1),
  'max_ms', round(max(lat)::numeric, 1),
  'committed_per_s', round((count(*) / greatest(extract(epoch FROM max(created_at) - min(created_at)), 0.001))::numeric, 0))
FROM (SELECT external_message_id, created_at,
             extract(epoch FROM created_at) * 1000 - split_part(body, ' ', 4)::bigint AS lat
      FROM messages WHERE workspace_id = :'ws' AND body LIKE 'bench ' || :'run' || ' %') m;
SQL
)"
done

# --- 3b. Email ----------------------------------------------------------------------------------
loket_say "email: parsing cost per message"
emit "{\"measure\":\"email_parse\",$("$BIN/loket-bench-mime" "$([ "$MODE" = smoke ] && echo 50 || echo 2000)" | sed 's/^{//')"

# A workspace's own mailbox: MAILBOX_MESSAGES unseen mails in a real Dovecot (TLS verified),
# imported by the ingress's importer; once undisturbed, once with the ingress killed (SIGKILL)
# when half are in and started again. Each must end with exactly MAILBOX_MESSAGES messages.
mark mailbox
rm -rf "$MAIL_STATE" && mkdir -p "$MAIL_STATE/dovecot"
# Both mailboxes' users exist before Dovecot starts: it re-reads its passwd-file when the file's
# mtime changes, and a user appended within the second of its last read is not seen.
printf '%s:{PLAIN}pw::::::\n' clean@shop.test killed@shop.test >"$MAIL_STATE/dovecot/users"
MP=$((BASE + 20))
bash "$ROOT/tests/mail/dovecot.sh" start "$MAIL_STATE" "$MP" $((MP + 1)) $((MP + 2)) >"$STATE/logs/dovecot-start.log" 2>&1 ||
  { echo "Dovecot did not start: $STATE/logs/dovecot-start.log" >&2; exit 1; }
bash "$ROOT/tests/mail/postfix.sh" start-submission "$MAIL_STATE" $((MP + 3)) $((MP + 2)) \
  "$MAIL_STATE/dovecot/cert.pem" "$MAIL_STATE/dovecot/key.pem" >"$STATE/logs/postfix-start.log" 2>&1 ||
  { echo "Postfix did not start: $STATE/logs/postfix-start.log" >&2; exit 1; }
start_ingress "$LOKET_KAFKA_BROKERS"  # now with Dovecot's certificate to trust
mailbox() {  # mailbox NAME KILL(0|1): fill a mailbox, connect it, time the import; emits one line
  local user="$1@shop.test" kill_at=$(($2 * MAILBOX_MESSAGES / 2)) ws key n=0 killed=false
  python3 - "$MAIL_STATE/dovecot/mail/$user/Maildir" "$MAILBOX_MESSAGES" "$user" <<'PY'
import os, sys
box, n, user = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for sub in ("new", "cur", "tmp"):
    os.makedirs(os.path.join(box, sub), exist_ok=True)
for root in (box, os.path.dirname(box), os.path.join(box, "new"), os.path.join(box, "cur"), os.path.join(box, "tmp")):
    os.chmod(root, 0o777)
for i in range(n):
    with open(os.path.join(box, "new", "%d.bench.%d" % (1767225600 + i, i)), "w") as f:
        f.write("From: Customer %d <c%d@mail.example>\r\nTo: %s\r\nSubject: Question %d\r\n"
                "Message-ID: <box.%s.%d@mail.example>\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n\r\nmailbox message %d\r\n" % (i, i, user, i, user, i, i))
PY
  created=$("$BIN/loket-admin" create-workspace "Mailbox $1")
  ws=$(sed -n 's/^LOKET_ACCOUNT_ID=//p' <<<"$created") key=$(sed -n 's/^LOKET_API_KEY=//p' <<<"$created")
  local started
  started=$(date +%s.%N)
  curl -sS --fail-with-body -o "$STATE/mailbox-connect.json" -X POST "http://127.0.0.1:$API_PORT/api/v1/channels" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' -d "{\"provider\":\"email_mailbox\",\"address\":\"$user\",
      \"imap\":{\"host\":\"127.0.0.1\",\"port\":$MP,\"security\":\"ssl\",\"username\":\"$user\",\"password\":\"pw\"},
      \"smtp\":{\"host\":\"127.0.0.1\",\"port\":$((MP + 3)),\"security\":\"starttls\",\"username\":\"$user\",\"password\":\"pw\"}}" ||
    { echo "connecting the mailbox failed: $(cat "$STATE/mailbox-connect.json")" >&2; exit 1; }
  local last=-1 still=0
  for _ in $(seq 1 "$WAIT_TRIES"); do
    n=$(psqlq -c "SELECT count(*) FROM messages WHERE workspace_id = '$ws'")
    if [ "$kill_at" -gt 0 ] && [ "$killed" = false ] && [ "$n" -ge "$kill_at" ]; then
      kill -KILL "$(cat "$STATE/pids/ingress.pid")"
      killed=true
      start_ingress "$LOKET_KAFKA_BROKERS"
    fi
    [ "$n" -ge "$MAILBOX_MESSAGES" ] && break
    if [ "$n" = "$last" ]; then still=$((still + 1)); else still=0 last=$n; fi
    [ "$still" -ge 120 ] && break  # nothing new for 30 s
    sleep 0.25
  done
  local seconds
  seconds=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  sleep 3  # anything imported twice would arrive now
  emit "$(psqlq -v ws="$ws" -v want="$MAILBOX_MESSAGES" -v secs="$seconds" -v killed="$killed" <<'SQL'
SELECT json_build_object('measure', 'mailbox_import', 'killed_halfway', :'killed'::boolean, 'in_mailbox', :want,
  'messages', count(*), 'distinct_messages', count(DISTINCT external_message_id), 'seconds', :secs,
  'imported_per_s', round(count(*) / greatest(:secs, 0.001)::numeric, 0))
FROM messages WHERE workspace_id = :'ws';
SQL
)"
}
mailbox clean 0
mailbox killed 1

# Raw MIME as an MTA posts it to a workspace's alias, a quarter each plain, HTML only, with a
# 100 KB attachment, ISO-2022-JP; every email from a sender of its own (a new ticket each).
EWS=$("$BIN/loket-admin" create-workspace "Email benchmark" | sed -n 's/^LOKET_ACCOUNT_ID=//p')
ALIAS="$EWS@$LOKET_INBOUND_EMAIL_DOMAIN"
for r in $EMAIL_RATES; do
  loket_say "email: raw MIME at $r emails/s"
  run="m$r"
  mark "$run"
  OUT_JSON=$("$BIN/loket-bench-load" "http://127.0.0.1:$INGRESS_PORT" - - "$r" "$SECS" "$CONNS" "$run" 1000 1 \
             "email=$LOKET_EMAIL_INGRESS_PASSWORD:$ALIAS")
  acked=$(field acknowledged "$OUT_JSON")
  # Until all are in, or nothing new for 20 s: on the dev broker, records a consumer falls more
  # than 5 MB per partition behind on are gone (see docs/operations.md), and the row says so.
  last=-1 still=0
  for _ in $(seq 1 "$WAIT_TRIES"); do
    n=$(psqlq -c "SELECT count(*) FROM messages WHERE workspace_id = '$EWS' AND body LIKE 'bench $run %'")
    [ "$n" -ge "$acked" ] && break
    if [ "$n" = "$last" ]; then still=$((still + 1)); else still=0 last=$n; fi
    [ "$still" -ge 80 ] && break
    sleep 0.25
  done
  emit "$(psqlq -v ws="$EWS" -v run="$run" -v acked="$acked" -v offered="$r" -v ack_p99="$(field p99_ms "$OUT_JSON")" \
               -v errors="$(field errors "$OUT_JSON")" <<'SQL'
SELECT json_build_object('measure', 'email_end_to_end', 'offered_per_s', :offered, 'acknowledged', :acked,
  'errors', :errors, 'ack_p99_ms', :ack_p99, 'messages', count(*),
  'distinct_messages', count(DISTINCT external_message_id),
  'with_attachment', count(*) FILTER (WHERE EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)),
  'p50_ms', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lat)::numeric, 1),
  'p99_ms', round(percentile_cont(0.99) WITHIN GROUP (ORDER BY lat)::numeric, 1),
  'max_ms', round(max(lat)::numeric, 1),
  'committed_per_s', round((count(*) / greatest(extract(epoch FROM max(created_at) - min(created_at)), 0.001))::numeric, 0))
FROM (SELECT id, external_message_id, created_at,
             extract(epoch FROM created_at) * 1000 - split_part(body, ' ', 4)::bigint AS lat
      FROM messages WHERE workspace_id = :'ws' AND body LIKE 'bench ' || :'run' || ' %') m;
SQL
)"
done

mark api

# --- 4. API -----------------------------------------------------------------------------------
loket_say "API: $TICKETS tickets seeded, GET by id and filtered lists"
created=$("$BIN/loket-admin" create-workspace "API benchmark")
AWS=$(sed -n 's/^LOKET_ACCOUNT_ID=//p' <<<"$created") KEY=$(sed -n 's/^LOKET_API_KEY=//p' <<<"$created")
psqlq -v ws="$AWS" -v n="$TICKETS" -f "$ROOT/tests/bench/seed_tickets.sql"
TICKET=$(psqlq -c "SELECT id FROM tickets WHERE workspace_id = '$AWS' AND number = $((TICKETS / 2))")
for c in 4 16; do
  emit "{\"measure\":\"api_get_ticket\",\"connections\":$c,$("$BIN/loket-bench-http" "http://127.0.0.1:$API_PORT" "$KEY" "$c" "$API_SECS" "/api/v1/tickets/$TICKET" | sed 's/^{//')"
  emit "{\"measure\":\"api_filtered_list\",\"connections\":$c,$("$BIN/loket-bench-http" "http://127.0.0.1:$API_PORT" "$KEY" "$c" "$API_SECS" \
    "/api/v1/tickets?status=open&limit=50" "/api/v1/tickets?channel=telegram&status=pending&limit=50" \
    "/api/v1/tickets?tag=vip&limit=50" "/api/v1/tickets?sort=-updatedAt&status=resolved&limit=50" | sed 's/^{//')"
  # Full-text search: a word every ticket has, one ticket's order number, a word and an exclusion.
  emit "{\"measure\":\"api_search\",\"connections\":$c,$("$BIN/loket-bench-http" "http://127.0.0.1:$API_PORT" "$KEY" "$c" "$API_SECS" \
    "/api/v1/tickets?q=parcel&limit=50" "/api/v1/tickets?q=order%20$((TICKETS / 3))&limit=50" \
    "/api/v1/tickets?q=parcel%20-question&limit=50" | sed 's/^{//')"
done

# --- 4b. Reports (issue 21) ---------------------------------------------------------------------
# A workspace of REPORT_TICKETS tickets over 120 days (5 messages each, status history, first
# responses, resolutions, ratings): every report of the last 90 days, each grouping, in turn.
loket_say "reports: $REPORT_TICKETS tickets, $((REPORT_TICKETS * 5)) messages; 90-day reports"
mark reports
created=$("$BIN/loket-admin" create-workspace "Reports benchmark")
RWS=$(sed -n 's/^LOKET_ACCOUNT_ID=//p' <<<"$created") RKEY=$(sed -n 's/^LOKET_API_KEY=//p' <<<"$created")
seed_start=$(date +%s)
psqlq -v ws="$RWS" -v n="$REPORT_TICKETS" -v m=5 -f "$ROOT/tests/bench/seed_reports.sql"
loket_say "  seeded in $(($(date +%s) - seed_start)) s"
FROM_DAY=$(date -u -d '90 days ago' +%F) TO_DAY=$(date -u -d tomorrow +%F)
report_paths=()
for g in "" day week channel inbox team agent; do
  report_paths+=("/api/v1/reports/overview?from=$FROM_DAY&to=$TO_DAY&tz=Europe/Amsterdam${g:+&groupBy=$g}")
done
report_paths+=("/api/v1/reports/agents?from=$FROM_DAY&to=$TO_DAY&tz=Europe/Amsterdam")
emit "{\"measure\":\"api_reports\",\"tickets\":$REPORT_TICKETS,\"connections\":2,$("$BIN/loket-bench-http" "http://127.0.0.1:$API_PORT" "$RKEY" 2 "$API_SECS" "${report_paths[@]}" | sed 's/^{//')"

# --- 4a. Inboxes and auto-assignment (issue 20) ---------------------------------------------------
# The API workspace's tickets spread over 50 inboxes; an agent (role agent) who is a member of 5
# lists them (the access rule in every query). Then 1,000 tickets created at once for an inbox
# with round robin over 10 online agents of capacity 100: how long until all are assigned, and
# the spread, beside the same without auto-assignment.
loket_say "inboxes: an agent in 5 of 50 inboxes lists $TICKETS tickets; 1,000 new tickets over 10 agents"
mark inboxes
api_json() {  # api_json METHOD PATH TOKEN BODY: the response (TOKEN "" = none)
  curl -fsS -X "$1" ${3:+-H "Authorization: Bearer $3"} -H 'Content-Type: application/json' \
    "http://127.0.0.1:$API_PORT$2" ${4:+-d "$4"}
}
bench_agent() {  # bench_agent KEY NAME: creates an agent (role agent) and prints "id token"
  local email="$2-$(openssl rand -hex 4)@bench.example" id token
  id=$(api_json POST /api/v1/agents "$1" "{\"email\":\"$email\",\"name\":\"$2\",\"role\":\"agent\",\"password\":\"bench password 1\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
  token=$(api_json POST /api/v1/auth/login "" "{\"email\":\"$email\",\"password\":\"bench password 1\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["token"])')
  echo "$id $token"
}
read -r LIST_AGENT LIST_TOKEN <<<"$(bench_agent "$KEY" lister)"
psqlq -v ws="$AWS" -v agent="$LIST_AGENT" <<'SQL'
INSERT INTO inboxes (id, workspace_id, name) SELECT 'ibx_bench' || i, :'ws', 'Bench ' || i FROM generate_series(1, 50) i;
UPDATE tickets SET inbox_id = 'ibx_bench' || (1 + number % 50) WHERE workspace_id = :'ws';
DELETE FROM inbox_agents WHERE agent_id = :'agent';
INSERT INTO inbox_agents (inbox_id, agent_id) SELECT 'ibx_bench' || i, :'agent' FROM generate_series(1, 5) i;
VACUUM (ANALYZE) tickets;
SQL
for c in 4 16; do
  emit "{\"measure\":\"api_agent_list\",\"connections\":$c,\"inboxes\":50,\"member_of\":5,$("$BIN/loket-bench-http" "http://127.0.0.1:$API_PORT" "$LIST_TOKEN" "$c" "$API_SECS" \
    "/api/v1/tickets" "/api/v1/tickets?status=open" "/api/v1/tickets?inboxId=ibx_bench3&limit=50" \
    "/api/v1/tickets?sort=-updatedAt&status=pending" | sed 's/^{//')"
  # Full-text search within the agent's inboxes: one ticket's order number (a word every ticket
  # has is step 4's worst case, for everyone alike).
  emit "{\"measure\":\"api_agent_search\",\"connections\":$c,$("$BIN/loket-bench-http" "http://127.0.0.1:$API_PORT" "$LIST_TOKEN" "$c" "$API_SECS" \
    "/api/v1/tickets?q=order%20$((TICKETS / 2 + 1))" | sed 's/^{//')"
done
# The same 1,000 tickets twice, in workspaces alike but for the inbox's auto-assignment: off, then
# round robin over 10 online agents of capacity 100. 16 clients with a keep-alive connection each
# post them as fast as they are answered; a 429 or 503 (the api holds one workspace to its share of
# the database connections) is retried after its Retry-After, like any client, and counted.
for mode in off round_robin; do
  created=$("$BIN/loket-admin" create-workspace "Assignment benchmark ($mode)")
  SWS=$(sed -n 's/^LOKET_ACCOUNT_ID=//p' <<<"$created") SKEY=$(sed -n 's/^LOKET_API_KEY=//p' <<<"$created")
  members=""
  for i in $(seq 1 10); do
    read -r id _ <<<"$(bench_agent "$SKEY" "agent$i")"
    members="$members${members:+,}\"$id\""
  done
  psqlq -c "UPDATE agents SET last_seen_at = now() WHERE workspace_id = '$SWS'"  # all online
  QUEUE=$(api_json POST /api/v1/inboxes "$SKEY" "{\"name\":\"Queue\",\"agentIds\":[$members],\"autoAssignment\":{\"mode\":\"$mode\",\"capacity\":100}}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')
  python3 - "$API_PORT" "$SKEY" "$QUEUE" >"$STATE/assign.json" <<'PY'
import http.client, json, sys, threading, time
port, key, inbox = int(sys.argv[1]), sys.argv[2], sys.argv[3]
counts, lock = {"errors": 0, "retries": 0}, threading.Lock()
def worker(k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for i in range(k, 1000, 16):
        for attempt in range(20):
            c.request("POST", "/api/v1/tickets", json.dumps({"body": f"Order question {i}", "inboxId": inbox}),
                      {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            if r.status not in (429, 503):
                break
            with lock:
                counts["retries"] += 1
            time.sleep(float(r.getheader("Retry-After", "1")))
        if r.status != 201:
            with lock:
                counts["errors"] += 1
threads = [threading.Thread(target=worker, args=(k,)) for k in range(16)]
start = time.time()
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"seconds": round(time.time() - start, 3), **counts}, separators=(",", ":")))
PY
  out=$(cat "$STATE/assign.json")
  emit "$(psqlq -v ws="$SWS" -v inbox="$QUEUE" -v mode="$mode" -v secs="$(field seconds "$out")" \
               -v errors="$(field errors "$out")" -v retries="$(field retries "$out")" <<'SQL'
SELECT json_build_object('measure', 'auto_assignment', 'mode', :'mode', 'tickets', count(*), 'errors', :errors,
  'retries', :retries, 'wall_seconds', :secs, 'assigned', count(assignee_id), 'agents', 10, 'capacity', 100,
  'min_per_agent', (SELECT min(n) FROM (SELECT count(*) n FROM tickets WHERE inbox_id = :'inbox' AND assignee_id IS NOT NULL GROUP BY assignee_id) x),
  'max_per_agent', (SELECT max(n) FROM (SELECT count(*) n FROM tickets WHERE inbox_id = :'inbox' AND assignee_id IS NOT NULL GROUP BY assignee_id) x),
  'tickets_per_s', round((count(*) / :secs)::numeric, 1),
  'first_created_to_last_assigned_s', round(extract(epoch FROM max(updated_at) - min(created_at))::numeric, 3))
FROM tickets WHERE workspace_id = :'ws' AND inbox_id = :'inbox';
SQL
)"
done

# --- 4b. Realtime WebSockets ---------------------------------------------------------------------
# WS_CONNECTIONS authenticated sockets over WS_WORKSPACES workspaces on the one api; its idle CPU
# and RSS; GET by id while they are open; a normal request among slowloris connections; then
# tickets created at WS_POSTS/s, each fanned out (ticket.created, message.created) to every socket
# of its workspace.
WS_CONNECTIONS=${BENCH_WS_CONNECTIONS:-$([ "$MODE" = smoke ] && echo 200 || echo 10000)}
WS_WORKSPACES=${BENCH_WS_WORKSPACES:-$([ "$MODE" = smoke ] && echo 4 || echo 100)}
WS_POSTS=${BENCH_WS_POSTS:-100}  # tickets/s: twice as many events
loket_say "realtime: $WS_CONNECTIONS WebSockets over $WS_WORKSPACES workspaces"
REALTIME_AT=$(date +%s.%N)  # peak RSS below is of the pipeline steps; this step reports its own
mark realtime
KEYS="$STATE/ws-keys.txt"
: >"$KEYS"
for i in $(seq 1 "$WS_WORKSPACES"); do
  "$BIN/loket-admin" create-workspace "Realtime $i" | sed -n 's/^LOKET_API_KEY=//p' >>"$KEYS"
done
READY="$STATE/ws-ready"
rm -f "$READY"
"$BIN/loket-bench-ws" "http://127.0.0.1:$API_PORT" "$KEYS" "$WS_CONNECTIONS" "$(cat "$STATE/pids/api.pid")" "$READY"   $((API_SECS * 2 + 4)) "$WS_POSTS" "$API_SECS" >"$STATE/ws.json" &
WS_BENCH=$!
for _ in $(seq 1 2400); do [ -f "$READY" ] && break; kill -0 "$WS_BENCH" 2>/dev/null || break; sleep 0.25; done
[ -f "$READY" ] || { echo "the WebSocket clients did not get ready" >&2; exit 1; }
emit "{\"measure\":\"api_get_ticket_with_websockets\",\"connections\":16,\"websockets\":$WS_CONNECTIONS,$("$BIN/loket-bench-http" "http://127.0.0.1:$API_PORT" "$KEY" 16 "$API_SECS" "/api/v1/tickets/$TICKET" | sed 's/^{//')"
# 500 connections that send a header byte a second and never finish (slowloris).
python3 - "$API_PORT" "$((API_SECS + 2))" <<'PY' &
import socket, sys, time
port, secs = int(sys.argv[1]), int(sys.argv[2])
socks = []
for _ in range(500):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /api/v1/tickets HTTP/1.1\r\nHost: x\r\n")
    socks.append(s)
end = time.time() + secs
while time.time() < end:
    for s in socks:
        try:
            s.sendall(b"X")
        except OSError:
            pass
    time.sleep(1)
PY
SLOW=$!
sleep 1
emit "{\"measure\":\"api_get_ticket_with_slowloris\",\"connections\":4,\"slowloris\":500,$("$BIN/loket-bench-http" "http://127.0.0.1:$API_PORT" "$KEY" 4 "$API_SECS" "/api/v1/tickets/$TICKET" | sed 's/^{//')"
wait "$SLOW" || true
wait "$WS_BENCH" || { echo "loket-bench-ws failed" >&2; exit 1; }
emit "{\"measure\":\"realtime\",$(sed 's/^{//' "$STATE/ws.json")"

# --- 4c. Live-chat visitors ----------------------------------------------------------------------
# CHAT_VISITORS visitors (a session and a first message each) with their WebSockets open on the
# one api; agent replies at 100/s, reply → visitor latency; then a deploy: CHAT_RECONNECTS drop,
# miss a reply each, reconnect at once and catch up by sequence.
CHAT_VISITORS=${BENCH_CHAT_VISITORS:-$([ "$MODE" = smoke ] && echo 200 || echo 10000)}
CHAT_RECONNECTS=${BENCH_CHAT_RECONNECTS:-$([ "$MODE" = smoke ] && echo 50 || echo 1000)}
loket_say "live chat: $CHAT_VISITORS visitors, replies at 100/s, $CHAT_RECONNECTS reconnecting at once"
mark chat
created=$("$BIN/loket-admin" create-workspace "Chat benchmark")
CWS=$(sed -n 's/^LOKET_ACCOUNT_ID=//p' <<<"$created") CKEY=$(sed -n 's/^LOKET_API_KEY=//p' <<<"$created")
curl -fsS -X PATCH -H "Authorization: Bearer $CKEY" -H 'Content-Type: application/json' \
  "http://127.0.0.1:$API_PORT/api/v1/widget" -d '{"enabled":true,"allowedOrigins":["https://shop.example"]}' >/dev/null
"$BIN/loket-bench-chat" "http://127.0.0.1:$API_PORT" "$CWS" "$CKEY" "$CHAT_VISITORS" "$(cat "$STATE/pids/api.pid")" \
  100 "$API_SECS" "$CHAT_RECONNECTS" >"$STATE/chat.json" || { echo "loket-bench-chat failed" >&2; exit 1; }
emit "{\"measure\":\"chat\",$(sed 's/^{//' "$STATE/chat.json")"

# --- 4d. Integrators' webhooks -------------------------------------------------------------------
# A local receiver; events straight onto ticket.events; outbound's fan-out and dispatcher deliver:
# a burst for throughput, HOOK_RATE/s for latency, then again beside an endpoint that times out.
HOOK_BURST=${BENCH_HOOK_BURST:-$([ "$MODE" = smoke ] && echo 200 || echo 20000)}
HOOK_RATE=${BENCH_HOOK_RATE:-$([ "$MODE" = smoke ] && echo 50 || echo 1000)}
loket_say "webhooks: a burst of $HOOK_BURST, then $HOOK_RATE/s, then beside a timing-out endpoint"
mark webhooks
created=$("$BIN/loket-admin" create-workspace "Webhooks benchmark")
HWS=$(sed -n 's/^LOKET_ACCOUNT_ID=//p' <<<"$created") HKEY=$(sed -n 's/^LOKET_API_KEY=//p' <<<"$created")
"$BIN/loket-bench-webhooks" "http://127.0.0.1:$API_PORT" "$HKEY" "$HWS" "$LOKET_KAFKA_BROKERS" "$HOOK_BURST" \
  "$HOOK_RATE" "$API_SECS" >"$STATE/webhooks.json" || { echo "loket-bench-webhooks failed" >&2; exit 1; }
emit "{\"measure\":\"webhooks\",$(sed 's/^{//' "$STATE/webhooks.json")"
mark end

# --- 5. Memory, then the report ------------------------------------------------------------------
kill "$SAMPLER" 2>/dev/null || true
SAMPLER=""
emit "$(awk -v before="$REALTIME_AT" '$1 < before { if ($3 > max[$2]) max[$2] = $3 } END {
  printf "{\"measure\":\"peak_rss\"";
  n = split("api ingress inbound writer outbound", s, " ");
  for (i = 1; i <= n; i++) printf ",\"%s_mb\":%.1f", s[i], max[s[i]] / 1048576;
  print "}" }' "$SAMPLES")"
python3 "$ROOT/tests/bench/report.py" "$OUT" "$MODE" "$BROKER"
loket_say "results: $OUT/results.md"
# The smoke run (part of the test command) keeps no database: as root it lives outside the
# checkout (/var/tmp/loket-pg-…) and would pile up run after run. A full run's stays to look into.
if [ "$MODE" = smoke ] && [ -f "$STATE/pgdata.path" ] && [ "$(cat "$STATE/pgdata.path")" != "$STATE/pgdata" ]; then
  stop_all
  rm -rf "$(dirname "$(cat "$STATE/pgdata.path")")"
fi
