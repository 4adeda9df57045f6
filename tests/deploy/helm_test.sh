#!/usr/bin/env bash
# deploy.helm: helm lint and helm template over the default values and a production-like
# values file, then check_chart.py over each rendering.
# Usage: helm_test.sh <repo root> <helm binary>
set -euo pipefail
root="$1"
helm="$2"
chart="$root/helm/loket"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
[ -x "$helm" ] || { echo "no helm at $helm (tests/run.sh installs it)"; exit 1; }

"$helm" lint "$chart"
"$helm" lint "$chart" -f "$chart/ci/production-values.yaml"
"$helm" template loket "$chart" > "$out/default.yaml"
"$helm" template loket "$chart" -f "$chart/ci/production-values.yaml" > "$out/production.yaml"
/usr/bin/python3 "$root/tests/deploy/check_chart.py" "$out/default.yaml"
/usr/bin/python3 "$root/tests/deploy/check_chart.py" "$out/production.yaml" --existing-secret loket-production --tls
# A missing required value is refused with a clear message, not rendered broken.
if "$helm" template loket "$chart" --set kafka.brokers= > /dev/null 2> "$out/err"; then
  echo "FAIL: rendering without kafka.brokers must fail"; exit 1
fi
grep -q "kafka.brokers is required" "$out/err" || { echo "FAIL: unclear error: $(cat "$out/err")"; exit 1; }
echo "helm/loket: lint and template pass for default and production values"
