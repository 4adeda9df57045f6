#!/usr/bin/env bash
# Stops everything deploy/local/up.sh started (data is kept in .run/; delete it to start over).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/deploy/local/lib.sh"
STATE="$ROOT/.run"
for svc in api ingress inbound writer outbound devbroker; do
  loket_stop "$svc" "$STATE"
done
loket_pg_stop "$STATE"
loket_say "stopped"
