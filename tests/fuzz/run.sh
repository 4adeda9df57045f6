#!/usr/bin/env bash
# The long fuzz run (issue 15; figures in docs/security.md): builds the sanitizer tree, then runs
# every libFuzzer target on both cores (two processes sharing its kept corpus, tests/fuzz/corpus/)
# until FUZZ_RUNS executions in all (default 10 million) or FUZZ_MAX_SECONDS per target (default
# 3600), under AddressSanitizer and UBSan. New inputs land in the kept corpus (commit them); a
# crash, leak or timeout is saved under build-sanitize/fuzz-artifacts/ and fails the run.
#   tests/fuzz/run.sh                 every target
#   tests/fuzz/run.sh fuzz_json ...   some
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/deploy/local/lib.sh"
RUNS=${FUZZ_RUNS:-10000000}
MAX=${FUZZ_MAX_SECONDS:-3600}
loket_install_deps
loket_install_test_tools
loket_build_sanitized
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(fuzz_json fuzz_events fuzz_webhooks fuzz_form_data fuzz_email fuzz_text)
FIX="$ROOT/libs/providers/tests/fixtures"
declare -A SEEDS=(
  [fuzz_json]="$FIX/telegram $FIX/whatsapp_cloud $ROOT/proto"
  [fuzz_events]="$ROOT/tests/fuzz/seeds/events"
  [fuzz_webhooks]="$FIX/telegram $FIX/twilio $FIX/whatsapp_cloud"
  [fuzz_form_data]="$ROOT/tests/fuzz/seeds/form_data"
  [fuzz_email]="$ROOT/libs/mime/tests/fixtures/email"
  [fuzz_text]="$ROOT/tests/fuzz/seeds/text"
)
OUT="$ROOT/build-sanitize/fuzz-artifacts"
mkdir -p "$OUT"
failed=0
echo "| target | executions | seconds | executions/s | corpus inputs | crashes, leaks, timeouts |"
echo "|---|---|---|---|---|---|"
for t in "${TARGETS[@]}"; do
  corpus="$ROOT/tests/fuzz/corpus/$t"
  mkdir -p "$corpus"
  start=$(date +%s)
  pids=()
  for w in 1 2; do
    # shellcheck disable=SC2086
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$ROOT/tests/sanitizers.supp" \
      "$ROOT/build-sanitize/tests/fuzz/$t" -runs=$((RUNS / 2)) -max_total_time="$MAX" \
      -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$OUT/$t-" \
      "$corpus" ${SEEDS[$t]} >"$OUT/$t.$w.log" 2>&1 &
    pids+=($!)
  done
  status=0
  for p in "${pids[@]}"; do wait "$p" || status=1; done
  secs=$(($(date +%s) - start))
  execs=$(grep -h "stat::number_of_executed_units" "$OUT/$t".*.log | awk '{s += $2} END {print s + 0}')
  inputs=$(find "$corpus" -type f | wc -l)
  [ "$status" -ne 0 ] && failed=1
  echo "| $t | $execs | $secs | $((execs / (secs > 0 ? secs : 1))) | $inputs | $([ "$status" -eq 0 ] && echo 0 || echo "see $OUT/$t.*.log") |"
done
exit $failed
