#!/usr/bin/env bash
# Pipeline benchmark (issue 7, first part), against the local stack of deploy/local/up.sh:
#   1. ingress alone: open-loop Telegram webhooks at fixed rates (loket-bench-load), ack latency
#      measured from the intended send time;
#   2. end to end: webhooks at a fixed rate, then webhook → committed message latency from the
#      send time written into each message and its commit time (clock_timestamp), plus the
#      exactly-once check (one message per acknowledged webhook, no duplicates);
#   3. peak RSS of every service during the run (admin /metrics).
# Prints one JSON line per measurement. Rates: BENCH_INGRESS_RATES, BENCH_E2E_RATES; BENCH_SECONDS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STATE="$ROOT/.run"
[ -f "$STATE/env" ] || { echo "start the local stack first: deploy/local/up.sh" >&2; exit 1; }
set -a; source "$STATE/env"; set +a
BIN="$ROOT/build/bin"
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
INGRESS_RATES=${BENCH_INGRESS_RATES:-"1000 2000 4000"}
E2E_RATES=${BENCH_E2E_RATES:-"500 1000"}
INGRESS=${LOKET_INGRESS_URL:-http://127.0.0.1:8081}

# A workspace with a Telegram integration whose webhook secret we know (no Bot API involved).
created=$("$BIN/loket-admin" create-workspace "Pipeline benchmark")
WS=$(sed -n 's/^LOKET_ACCOUNT_ID=//p' <<<"$created")
INT="int_$(openssl rand -hex 12)"
SECRET=$(openssl rand -hex 16)
psql -q "$LOKET_DATABASE_URL" -c "INSERT INTO integrations (id, workspace_id, provider, status, display_name, routing_key, webhook_secret_hash)
  VALUES ('$INT', '$WS', 'telegram_bot', 'active', 'bench', 'bench-$INT', sha256(convert_to('$SECRET', 'UTF8')))"

# Peak RSS of each service, sampled every 500 ms while the benchmark runs.
RSS="$STATE/bench-rss.txt"
: >"$RSS"
( while true; do
    for p in 9080 9081 9082 9083 9084; do
      v=$(curl -s "http://127.0.0.1:$p/metrics" | awk '/^process_resident_memory_bytes /{print $2}')
      [ -n "$v" ] && echo "$p $v" >>"$RSS"
    done
    sleep 0.5
  done ) &
SAMPLER=$!
trap 'kill $SAMPLER 2>/dev/null || true' EXIT

count() { psql -tA "$LOKET_DATABASE_URL" -c "SELECT count(*) FROM messages WHERE workspace_id = '$WS' AND body LIKE 'bench $1 %'"; }

for r in $INGRESS_RATES; do
  run="i$r-$(openssl rand -hex 3)"
  out=$("$BIN/loket-bench-load" "$INGRESS" "$INT" "$SECRET" "$r" "$SECS" "$CONNS" "$run")
  echo "{\"measure\":\"ingress\",$(sed 's/^{//' <<<"$out")"
  # let the pipeline drain before the next step
  for _ in $(seq 1 600); do [ "$(count "$run")" -ge "$(sed 's/.*"acknowledged":\([0-9]*\).*/\1/' <<<"$out")" ] && break; sleep 0.5; done
done

for r in $E2E_RATES; do
  run="e$r-$(openssl rand -hex 3)"
  out=$("$BIN/loket-bench-load" "$INGRESS" "$INT" "$SECRET" "$r" "$SECS" "$CONNS" "$run")
  acked=$(sed 's/.*"acknowledged":\([0-9]*\).*/\1/' <<<"$out")
  for _ in $(seq 1 1200); do [ "$(count "$run")" -ge "$acked" ] && break; sleep 0.25; done
  psql -tA "$LOKET_DATABASE_URL" -v run="$run" -v ws="$WS" -v acked="$acked" -v offered="$r" <<'SQL'
SELECT json_build_object(
  'measure', 'end_to_end', 'offered_per_s', :offered, 'acknowledged', :acked,
  'messages', count(*), 'distinct_messages', count(DISTINCT external_message_id),
  'p50_ms', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lat)::numeric, 1),
  'p99_ms', round(percentile_cont(0.99) WITHIN GROUP (ORDER BY lat)::numeric, 1),
  'p999_ms', round(percentile_cont(0.999) WITHIN GROUP (ORDER BY lat)::numeric, 1),
  'committed_per_s', round((count(*) / greatest(extract(epoch FROM max(created_at) - min(created_at)), 0.001))::numeric, 1))
FROM (SELECT external_message_id, created_at,
             extract(epoch FROM created_at) * 1000 - split_part(body, ' ', 4)::bigint AS lat
      FROM messages WHERE workspace_id = :'ws' AND body LIKE 'bench ' || :'run' || ' %') m;
SQL
done

kill $SAMPLER 2>/dev/null || true
awk '{ if ($2 > max[$1]) max[$1] = $2 } END {
  printf "{\"measure\":\"peak_rss_mb\"";
  split("9080 api 9081 ingress 9082 inbound 9083 writer 9084 outbound", n, " ");
  for (i = 1; i < 10; i += 2) printf ",\"%s\":%.1f", n[i+1], max[n[i]] / 1048576;
  print "}" }' "$RSS"
