#!/usr/bin/env bash
# deploy.image: what can be checked about deploy/Dockerfile without running docker.
#  1. Every binary the image copies exists in the build and is a service entrypoint.
#  2. Every shared library those binaries link (ldd) comes from a package the runtime stage
#     installs, a dependency of one, or Debian's required base (present in debian:12-slim).
#  3. The runtime stage installs no compilers, build tools or -dev packages, and runs as non-root.
# Usage: image_test.sh <repo root> <bin dir>
set -euo pipefail
root="$1"
bin="$2"
dockerfile="$root/deploy/Dockerfile"
fail=0
err() { echo "FAIL: $*" >&2; fail=1; }

runtime=$(sed -n '/^FROM .* AS runtime/,$p' "$dockerfile")
packages=$(sed -n '/runtime-packages-begin/,/runtime-packages-end/p' "$dockerfile" \
  | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' \
  | grep -vxE 'apt-get|update|install|rm|DEBIAN_FRONTEND=noninteractive|RUN|y|no-install-recommends|runtime-packages-(begin|end)' || true)
[ -n "$packages" ] || err "no runtime package list between the runtime-packages markers"

# 3. no build tools, non-root.
for p in $packages; do
  case "$p" in
    *-dev|build-essential|gcc*|g++*|cmake|ninja-build|make|pkg-config|clang*) err "runtime stage installs build tool $p" ;;
  esac
done
grep -qE '^USER [1-9][0-9]*' <<<"$runtime" || err "runtime stage must switch to a numeric non-root USER"

# 1. entrypoints.
binaries=$(grep -oE 'build/bin/loket-[a-z]+' <<<"$runtime" | sed 's|build/bin/||' | sort -u)
for b in loket-api loket-ingress loket-inbound loket-writer loket-outbound loket-admin; do
  grep -qx "$b" <<<"$binaries" || err "the image does not copy $b"
done
entry=$(grep -oE 'ENTRYPOINT \["[^"]+' <<<"$runtime" | sed 's/ENTRYPOINT \["//')
[ -n "$entry" ] || err "no ENTRYPOINT"
grep -qx "$(basename "$entry")" <<<"$binaries" || err "ENTRYPOINT $entry is not a copied binary"

# 2. libraries → packages ⊆ installed closure.
closure=$( { dpkg-query -W -f='${Package} ${Priority}\n' | awk '$2=="required"{print $1}';
             apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
               --no-replaces --no-enhances $packages 2>/dev/null | grep -vE '^ |<' ;
             echo "$packages" | tr ' ' '\n'; } | sed 's/:amd64$//' | sort -u)
for b in $binaries; do
  [ -x "$bin/$b" ] || { err "$bin/$b was not built"; continue; }
  while read -r lib; do
    [ -n "$lib" ] || continue
    owner=""
    for candidate in "$lib" "/usr$lib" "$(realpath "$lib")" "/usr$(realpath "$lib")"; do
      owner=$(dpkg -S "$candidate" 2>/dev/null | head -n1 | cut -d: -f1) && [ -n "$owner" ] && break
    done
    if [ -z "$owner" ]; then err "$b links $lib, which no Debian package provides"; continue; fi
    grep -qx "$owner" <<<"$closure" || err "$b links $lib from $owner, which the runtime stage does not install"
  done < <(ldd "$bin/$b" | awk '/=>/ {print $3}')
done

[ $fail -eq 0 ] && echo "deploy/Dockerfile: $(wc -w <<<"$packages") runtime packages cover every library of: $(echo $binaries)"
exit $fail
