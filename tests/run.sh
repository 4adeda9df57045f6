#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts a private PostgreSQL and dev
# broker for the integration and end-to-end tests, runs every test with ctest, then the unit
# tests under ASan+UBSan and each fuzz target briefly, and exits non-zero on any failure.
# Arguments go to the first ctest (e.g. -R e2e.api) and skip the sanitizer pass. Leaves the dev
# stack of deploy/local/up.sh alone.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/deploy/local/lib.sh"
STATE="$ROOT/.run/test"
PG_PORT=${LOKET_TEST_PG_PORT:-54339}

loket_install_deps
loket_build
loket_install_test_tools
# With no ctest arguments (the full run, as CI does): the unit tests again under ASan+UBSan, and
# every fuzz target for a few seconds from its kept corpus.
SANITIZE=$([ $# -eq 0 ] && echo 1 || echo 0)
if [ "$SANITIZE" = 1 ]; then loket_build_sanitized; fi

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
rc=0
ctest --output-on-failure --timeout 600 "$@" || rc=$?
if [ "$SANITIZE" = 1 ]; then
  loket_say "running the unit tests under ASan+UBSan, and the fuzz targets (build-sanitize/)"
  ASAN_OPTIONS=detect_leaks=1 \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$ROOT/tests/sanitizers.supp" \
    ctest --test-dir "$ROOT/build-sanitize" --output-on-failure --timeout 600 -L "unit|fuzz" || rc=$?
fi
# As root the test database lives outside the checkout (/var/tmp/loket-pg-…): after a passing
# run nothing in it is worth keeping (after a failing one, its postgres.log may be).
if [ "$rc" = 0 ] && [ -f "$STATE/pgdata.path" ] && [ "$(cat "$STATE/pgdata.path")" != "$STATE/pgdata" ]; then
  cleanup
  rm -rf "$(dirname "$(cat "$STATE/pgdata.path")")"
fi
exit $rc
