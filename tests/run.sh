#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts a private PostgreSQL and dev
# broker for the integration and end-to-end tests, runs every test with ctest, and exits
# non-zero on any failure. Leaves the dev stack of deploy/local/up.sh alone.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/deploy/local/lib.sh"
STATE="$ROOT/.run/test"
PG_PORT=${LOKET_TEST_PG_PORT:-54339}

loket_install_deps
loket_build
loket_install_test_tools

cleanup() {
  loket_stop devbroker "$STATE"
  loket_pg_stop "$STATE"
}
trap cleanup EXIT
# Start from empty state every run: a fresh database and broker.
cleanup
if [ -f "$STATE/pgdata.path" ]; then rm -rf "$(dirname "$(cat "$STATE/pgdata.path")")"; fi
rm -rf "$STATE"
mkdir -p "$STATE"
loket_say "starting test PostgreSQL on 127.0.0.1:$PG_PORT and a dev broker"
loket_pg_start "$STATE" "$PG_PORT"
loket_broker_start "$STATE"

export LOKET_TEST_DATABASE_URL="postgresql://loket@127.0.0.1:$PG_PORT/loket"
export LOKET_TEST_KAFKA_BROKERS=$(cat "$STATE/kafka.bootstrap")
export LOKET_TEST_BROKER_CONTROL=$(cat "$STATE/kafka.bootstrap.control")
export LOKET_TEST_BIN_DIR="$ROOT/build/bin"
export LOKET_TEST_STATE_DIR="$STATE"
LOKET_DATABASE_URL=$LOKET_TEST_DATABASE_URL "$ROOT/build/bin/loket-admin" migrate >/dev/null

loket_say "running tests"
cd "$ROOT/build"
ctest --output-on-failure --timeout 600 "$@"
