#!/usr/bin/env bash
# docs.openapi_lint (issue 18): docs/openapi.yaml passes `redocly lint` with its recommended rules
# and zero warnings (the three that cannot apply are listed, with the reason, in
# docs/.redocly.lint-ignore.yaml), and the TypeScript client integrators generate from it with
# openapi-typescript type-checks the calls in client_check.ts under `tsc --strict` — including
# calls that must NOT compile (@ts-expect-error fails the check when they do).
# Usage: openapi_lint.sh <repo root> <tools dir with node_modules>
set -euo pipefail
root="$1"
bin="$2/node_modules/.bin"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for tool in redocly openapi-typescript tsc; do
  [ -x "$bin/$tool" ] || { echo "no $tool in $bin (tests/run.sh installs it)"; exit 1; }
done

cd "$root/docs"
"$bin/redocly" lint openapi.yaml > "$out/lint.txt" 2>&1 || { cat "$out/lint.txt"; exit 1; }
if grep -Eq '[0-9]+ (warning|error)s?\.' "$out/lint.txt"; then
  cat "$out/lint.txt"
  echo "redocly lint: warnings left (see above)"
  exit 1
fi
echo "redocly lint: no warnings"

"$bin/openapi-typescript" openapi.yaml -o "$out/schema.d.ts" > /dev/null
cp "$root/tests/docs/client_check.ts" "$out/"
"$bin/tsc" --noEmit --strict --target es2020 --module es2020 --moduleResolution node "$out/client_check.ts"
echo "the generated TypeScript client type-checks"
