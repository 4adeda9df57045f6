#!/usr/bin/env bash
# The run command: installs what is missing, builds, starts PostgreSQL, the dev broker and the
# five services in the background, applies migrations, creates a demo workspace and prints how
# to use it. Running it again is harmless (it rebuilds and restarts the services).
# Every LOKET_* variable in your environment is passed through to the services.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/deploy/local/lib.sh"
STATE="$ROOT/.run"
mkdir -p "$STATE"

API_PORT=${LOKET_API_PORT:-8080}
INGRESS_PORT=${LOKET_INGRESS_PORT:-8081}
PG_PORT=${LOKET_PG_PORT:-54329}

loket_install_deps
loket_build

loket_say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
loket_pg_start "$STATE" "$PG_PORT"
export LOKET_DATABASE_URL=${LOKET_DATABASE_URL:-postgresql://loket@127.0.0.1:$PG_PORT/loket}

loket_say "starting the dev broker"
loket_broker_start "$STATE"
export LOKET_KAFKA_BROKERS=${LOKET_KAFKA_BROKERS:-$(cat "$STATE/kafka.bootstrap")}

# The master key encrypts provider credentials; keep it with the database.
[ -s "$STATE/master.key" ] || (umask 077 && openssl rand -hex 32 >"$STATE/master.key")
export LOKET_MASTER_KEY=${LOKET_MASTER_KEY:-k1:$(cat "$STATE/master.key")}
export LOKET_API_PORT=$API_PORT LOKET_INGRESS_PORT=$INGRESS_PORT
export LOKET_PUBLIC_WEBHOOK_URL=${LOKET_PUBLIC_WEBHOOK_URL:-http://127.0.0.1:$INGRESS_PORT}
export LOKET_PUBLIC_APP_URL=${LOKET_PUBLIC_APP_URL:-http://127.0.0.1:$API_PORT}
# Requester emails need a Resend key (LOKET_RESEND_API_KEY, LOKET_EMAIL_FROM); without one they
# are recorded as skipped. Set them before up.sh to send real email.
# Email in: every workspace's alias is <accountId>@$LOKET_INBOUND_EMAIL_DOMAIN; an MTA (or curl)
# posts whole messages to the ingress with this password (docs/channels/email.md).
[ -s "$STATE/email-ingress.password" ] || (umask 077 && openssl rand -hex 16 >"$STATE/email-ingress.password")
export LOKET_INBOUND_EMAIL_DOMAIN=${LOKET_INBOUND_EMAIL_DOMAIN:-in.loket.localhost}
export LOKET_EMAIL_INGRESS_PASSWORD=${LOKET_EMAIL_INGRESS_PASSWORD:-$(cat "$STATE/email-ingress.password")}

loket_say "applying migrations"
"$ROOT/build/bin/loket-admin" migrate >/dev/null

loket_say "starting the services"
for svc in api ingress inbound writer outbound; do
  loket_stop "$svc" "$STATE"
  loket_start "$svc" "$STATE" "$ROOT/build/bin/loket-$svc"
done
loket_wait_http "http://127.0.0.1:$API_PORT/healthz" || { echo "api did not start; see $STATE/logs/api.log" >&2; exit 1; }
loket_wait_http "http://127.0.0.1:$INGRESS_PORT/healthz" || { echo "ingress did not start; see $STATE/logs/ingress.log" >&2; exit 1; }
sleep 0.5
for svc in inbound writer outbound; do
  kill -0 "$(cat "$STATE/pids/$svc.pid")" 2>/dev/null || { echo "$svc exited; see $STATE/logs/$svc.log" >&2; exit 1; }
done

ACCOUNT_ID="" API_KEY="" OWNER_EMAIL="" OWNER_PASSWORD=""
if [ -f "$STATE/env" ]; then
  ACCOUNT_ID=$(sed -n 's/^LOKET_ACCOUNT_ID=//p' "$STATE/env")
  API_KEY=$(sed -n 's/^LOKET_API_KEY=//p' "$STATE/env")
  OWNER_EMAIL=$(sed -n 's/^LOKET_OWNER_EMAIL=//p' "$STATE/env")
  OWNER_PASSWORD=$(sed -n 's/^LOKET_OWNER_PASSWORD=//p' "$STATE/env")
fi
if [ -z "$ACCOUNT_ID" ] || ! "$ROOT/build/bin/loket-admin" workspace-exists "$ACCOUNT_ID"; then
  loket_say "creating the demo workspace"
  created=$("$ROOT/build/bin/loket-admin" create-workspace "Demo workspace" owner@demo.loket.test "Demo Owner")
  ACCOUNT_ID=$(sed -n 's/^LOKET_ACCOUNT_ID=//p' <<<"$created")
  API_KEY=$(sed -n 's/^LOKET_API_KEY=//p' <<<"$created")
  OWNER_EMAIL=$(sed -n 's/^LOKET_OWNER_EMAIL=//p' <<<"$created")
  OWNER_PASSWORD=$(sed -n 's/^LOKET_OWNER_PASSWORD=//p' <<<"$created")
fi
if [ -z "${OWNER_EMAIL:-}" ]; then  # a workspace from before agents existed: give it an owner
  created=$("$ROOT/build/bin/loket-admin" create-agent "$ACCOUNT_ID" owner@demo.loket.test "Demo Owner" owner)
  OWNER_EMAIL=$(sed -n 's/^LOKET_OWNER_EMAIL=//p' <<<"$created")
  OWNER_PASSWORD=$(sed -n 's/^LOKET_OWNER_PASSWORD=//p' <<<"$created")
fi

# Live chat for the demo: turned on once (a widget never saved), for a page served on
# localhost:8090, which the demo page below is.
DEMO_SITE=http://localhost:8090
if curl -fsS -H "Authorization: Bearer $API_KEY" "http://127.0.0.1:$API_PORT/api/v1/widget" | grep -q '"updatedAt":null'; then
  curl -fsS -X PATCH -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' \
    "http://127.0.0.1:$API_PORT/api/v1/widget" \
    -d "{\"enabled\":true,\"allowedOrigins\":[\"$DEMO_SITE\"],\"welcomeHeading\":\"Hi from the demo!\"}" >/dev/null
fi
mkdir -p "$STATE/demo-site"
cat >"$STATE/demo-site/index.html" <<HTML
<!doctype html><html><head><meta charset="utf-8"><title>A shop with Loket live chat</title></head>
<body><h1>A shop</h1><p>The chat button is in the bottom-right corner.</p>
<script src="$LOKET_PUBLIC_APP_URL/widget.js" data-account="$ACCOUNT_ID" async></script></body></html>
HTML

cat >"$STATE/env" <<ENV
LOKET_API_URL=http://127.0.0.1:$API_PORT
LOKET_INGRESS_URL=http://127.0.0.1:$INGRESS_PORT
LOKET_ACCOUNT_ID=$ACCOUNT_ID
LOKET_API_KEY=$API_KEY
LOKET_OWNER_EMAIL=$OWNER_EMAIL
LOKET_OWNER_PASSWORD=$OWNER_PASSWORD
LOKET_KAFKA_BROKERS=$LOKET_KAFKA_BROKERS
LOKET_DATABASE_URL=$LOKET_DATABASE_URL
LOKET_INBOUND_EMAIL_DOMAIN=$LOKET_INBOUND_EMAIL_DOMAIN
LOKET_EMAIL_INGRESS_PASSWORD=$LOKET_EMAIL_INGRESS_PASSWORD
ENV

cat <<MSG

Loket is running.
  API        http://127.0.0.1:$API_PORT/api/v1        (loket-api)
  Webhooks   http://127.0.0.1:$INGRESS_PORT/api/v1/webhooks  (loket-ingress)
  Workers    loket-inbound, loket-writer, loket-outbound
  Kafka      $LOKET_KAFKA_BROKERS (dev broker)
  Postgres   $LOKET_DATABASE_URL
  Logs       $STATE/logs/

Demo workspace $ACCOUNT_ID
  API key    $API_KEY
  Owner      $OWNER_EMAIL / $OWNER_PASSWORD   (sign in: POST /api/v1/auth/login)
  Form       $LOKET_PUBLIC_APP_URL/support/$ACCOUNT_ID   (the hosted support form; open it in a browser)
  Email in   $ACCOUNT_ID@$LOKET_INBOUND_EMAIL_DOMAIN   (an MTA posts mail here; see below)
  Live chat  python3 -m http.server 8090 --bind 127.0.0.1 -d $STATE/demo-site
             then open $DEMO_SITE in a browser (a page with the widget's script tag)

Try:
  curl -s -H "Authorization: Bearer $API_KEY" http://127.0.0.1:$API_PORT/api/v1/tickets
  curl -s -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' \\
       -d '{"subject":"Phone call","body":"Customer called about order 1001","requesterName":"Ann"}' \\
       http://127.0.0.1:$API_PORT/api/v1/tickets
  curl -s -H 'Content-Type: application/json' -d '{"email":"$OWNER_EMAIL","password":"$OWNER_PASSWORD"}' \\
       http://127.0.0.1:$API_PORT/api/v1/auth/login
  printf 'From: Ann <ann@example.com>\\r\\nSubject: Order 1001\\r\\nMessage-ID: <1@example.com>\\r\\n\\r\\nWhere is it?' |
    curl -s -u "mta:$LOKET_EMAIL_INGRESS_PASSWORD" -H 'Content-Type: message/rfc822' --data-binary @- \\
       "http://127.0.0.1:$INGRESS_PORT/api/v1/webhooks/email/mime?recipient=$ACCOUNT_ID%40$LOKET_INBOUND_EMAIL_DOMAIN"
  API reference: docs/openapi.yaml
  Health and metrics: http://127.0.0.1:9080/metrics (api; ingress 9081, inbound 9082, writer 9083, outbound 9084)
  Channels (form, live chat, email in and notifications, Telegram, WhatsApp via Twilio or Meta,
            Slack and Discord notifications, the API channel for your own app): docs/channels/
  Integrator webhooks: docs/webhooks.md

Everything above is also in $STATE/env. Stop with deploy/local/down.sh.
MSG
