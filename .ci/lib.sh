# Functions shared by .ci/run and .ci/update-expected (sourced, not run).
# They expect set -euo pipefail, the current directory and $root at the
# repository's top, $shared, $stamp (the run's start time), $tmp (a scratch
# directory), and ci_cleanup called from an EXIT trap.

pg_base=postgres://postgres@127.0.0.1:5432
ci_dbs=()
server_pid=

psql_admin() {
  psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
}

# ensure_postgres starts PostgreSQL when it does not answer, installing it
# from Debian's packages only when it is not installed at all.
ensure_postgres() {
  pg_isready -h 127.0.0.1 -q 2>/dev/null && return 0
  local installed=yes
  if ! compgen -G '/etc/postgresql/*/main' >/dev/null; then
    installed=no
    echo "ci: PostgreSQL is not installed; installing it"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ "$installed" = no ]; then
    # The fixture expects trust auth for postgres on 127.0.0.1, as the CI
    # machines are set up.
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' \
      "/etc/postgresql/$version/main/pg_hba.conf"
  fi
  echo "ci: starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 60); do
    pg_isready -h 127.0.0.1 -q 2>/dev/null && return 0
    sleep 0.5
  done
  echo "ci: PostgreSQL does not answer on 127.0.0.1:5432" >&2
  return 1
}

# create_db NAME creates a database that ci_cleanup drops and sets $db_url
# to its URL.
create_db() {
  psql_admin -c "create database \"$1\"" >/dev/null || return 1
  ci_dbs+=("$1")
  db_url=$pg_base/$1
}

# drop_stale_dbs drops databases of earlier CI runs (names carry their start
# time) that are over six hours old and were left behind by a killed run.
drop_stale_dbs() {
  local cutoff name stamp
  cutoff=$(date -u -d '6 hours ago' +%Y%m%d%H%M%S)
  for name in $(psql_admin -c "select datname from pg_database where datname like 'parsego_ci_%'" 2>/dev/null); do
    stamp=${name#parsego_ci_}; stamp=${stamp%%_*}
    [[ "$stamp" =~ ^[0-9]{14}$ ]] && [[ "$stamp" < "$cutoff" ]] || continue
    psql_admin -c "drop database if exists \"$name\"" >/dev/null 2>&1 || true
  done
}

ci_cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  local db
  for db in "${ci_dbs[@]}"; do
    psql_admin -c "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 || true
  done
  rm -rf "$tmp"
}

# start_server [embedded] builds examples/server, starts it in the fixture
# configuration on a fresh database (with "embedded", on the embedded store
# in a fresh file) and a free port, waits until /parse/health answers and
# sets $server_url. Its log is $tmp/server.log ($tmp/server-embedded.log).
start_server() {
  local addr log=$tmp/server.log storage
  go build -o "$tmp/server" ./examples/server || return 1
  if [ "${1:-}" = embedded ]; then
    log=$tmp/server-embedded.log
    storage=(-db-file "$tmp/embedded.db")
  else
    create_db "parsego_ci_${stamp}_srv" || return 1
    storage=(-db "$db_url")
  fi
  "$tmp/server" -fixture "${storage[@]}" -addr 127.0.0.1:0 2>"$log" &
  server_pid=$!
  server_url=
  for _ in $(seq 1 100); do
    if [ -z "$server_url" ]; then
      addr=$(sed -n 's/.*msg="parsego listening" addr=\([^ ]*\).*/\1/p' "$log" | head -n 1)
      [ -n "$addr" ] && server_url="http://$addr/parse"
    fi
    if [ -n "$server_url" ] && curl -fs "$server_url/health" >/dev/null 2>&1; then
      echo "ci: server at $server_url (pid $server_pid)"
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "ci: the server did not start; its log:" >&2
  tail -n 30 "$log" >&2
  return 1
}

# stop_server stops the server start_server started.
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

# run_conformance [NAME] writes the conformance suite's JSON lines to
# $tmp/NAME.jsonl (NAME: conformance by default); it fails only when the
# suite could not run.
run_conformance() {
  local rc=0 name=${1:-conformance}
  (cd "$shared/conformance" && timeout 900 go run . -target "$server_url" -json) \
    >"$tmp/$name.jsonl" 2>"$tmp/$name.err" || rc=$?
  if [ "$rc" -gt 1 ]; then
    echo "ci: the conformance runner failed (exit $rc):" >&2
    tail -n 20 "$tmp/$name.err" >&2
    return 1
  fi
}

# run_jsclient runs the SDK tests, one JSON line per test in
# $tmp/jsclient.jsonl and the spec reporter's output in $tmp/jsclient.log;
# it fails only when the tests could not run.
run_jsclient() {
  local rc=0
  if [ ! -d "$shared/jsclient/node_modules/parse" ]; then
    (cd "$shared/jsclient" && npm ci --no-audit --no-fund --loglevel=error) || return 1
  fi
  (cd "$shared/jsclient" && PARSE_SERVER_URL="$server_url" timeout 900 node --test \
    --test-timeout=60000 \
    --test-reporter=spec --test-reporter-destination="$tmp/jsclient.log" \
    --test-reporter="$root/.ci/jsclient-reporter.mjs" --test-reporter-destination="$tmp/jsclient.jsonl") \
    </dev/null >/dev/null 2>"$tmp/jsclient.err" || rc=$?
  if [ ! -s "$tmp/jsclient.jsonl" ]; then
    echo "ci: the SDK tests did not run (exit $rc):" >&2
    tail -n 20 "$tmp/jsclient.err" "$tmp/jsclient.log" >&2 2>/dev/null
    return 1
  fi
}

# ensure_chromium finds the browser ../shared/dashboard drives, installing
# Debian's chromium package when it is missing.
ensure_chromium() {
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] && return 0
  command -v apt-get >/dev/null || return 1
  { apt-get update && apt-get install -y chromium; } >"$tmp/apt.log" 2>&1
}

# run_dashboard drives Parse Dashboard in headless Chromium against the
# server (../shared/dashboard/run.sh), one JSON line per test in
# $tmp/dashboard.jsonl (as the SDK tests') and the run's output in
# $tmp/dashboard.log; it fails only when the tests could not run.
run_dashboard() {
  (cd "$shared/dashboard" && timeout 900 ./run.sh "$server_url") </dev/null >"$tmp/dashboard.log" 2>&1
  node "$root/.ci/tap-results.mjs" "$shared/dashboard/results/tests.tap" dashboard.test.js >"$tmp/dashboard.jsonl" 2>/dev/null
  if [ ! -s "$tmp/dashboard.jsonl" ]; then
    echo "ci: the dashboard tests did not run:" >&2
    tail -n 20 "$tmp/dashboard.log" >&2
    return 1
  fi
}

# ratchet NAME [-write] compares what passed ($tmp/NAME.jsonl) with
# .ci/NAME-expected.txt; NAME is a kind (conformance, jsclient), or a kind
# and a suffix (conformance-embedded).
ratchet() {
  [ -x "$tmp/ratchet" ] || go build -o "$tmp/ratchet" ./.ci/ratchet || return 1
  "$tmp/ratchet" -kind "${1%%-*}" -results "$tmp/$1.jsonl" -expected ".ci/$1-expected.txt" "${@:2}"
}
