# common.sh - sourced by the testweb tests (bash). Starts servers on a free
# loopback port, kills exactly the processes it started, and offers small
# assertion helpers. Usage: source common.sh; TESTWEB must be set.
set -euo pipefail
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

: "${TESTWEB:?TESTWEB must name the testweb binary}"
TW_TMP=$(mktemp -d "${TMPDIR:-/tmp}/testweb-test.XXXXXX")
TW_PIDS=()

# Kills every server this test started, by PID, and removes the scratch dir.
tw_cleanup() {
  local pid
  for pid in "${TW_PIDS[@]+"${TW_PIDS[@]}"}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TW_TMP"
}
trap tw_cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

ok() {
  echo "ok - $*"
}

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
  [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
  ok "$1"
}

# start_server NAME [testweb options...]
# Starts testweb on 127.0.0.1:0 and waits (bounded) for its port file.
# Sets TW_PORT and TW_PID; stderr goes to $TW_TMP/NAME.err.
start_server() {
  local name=$1
  shift
  local pf="$TW_TMP/$name.port"
  rm -f "$pf"
  "$TESTWEB" --listen 127.0.0.1:0 --port-file "$pf" "$@" \
    2>"$TW_TMP/$name.err" &
  TW_PID=$!
  TW_PIDS+=("$TW_PID")
  local deadline=$((SECONDS + 10))
  while [ ! -s "$pf" ]; do
    kill -0 "$TW_PID" 2>/dev/null || fail "testweb $name exited early: $(cat "$TW_TMP/$name.err")"
    [ $SECONDS -lt $deadline ] || fail "testweb $name did not write its port file"
    sleep 0.02
  done
  TW_PORT=$(cat "$pf")
  grep -q "testweb listening on 127.0.0.1:$TW_PORT" "$TW_TMP/$name.err" ||
    fail "no 'listening' line on stderr"
}

# stop_server PID: SIGTERM, wait (bounded) and require exit status 0.
stop_server() {
  local pid=$1 deadline=$((SECONDS + 10)) rc=0
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" | cut -c1)" != Z ]; do
    [ $SECONDS -lt $deadline ] || fail "testweb $pid ignored SIGTERM"
    sleep 0.02
  done
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || fail "testweb exited with status $rc after SIGTERM"
}

# tw_curl [curl args...]: curl with hosts h0001.test..h<TW_HOSTS>.test (and
# h0999.test) pinned to loopback at TW_PORT, never through a proxy.
tw_curl() {
  local args=() i
  for i in $(seq 1 "${TW_HOSTS:-10}"); do
    args+=(--resolve "$(printf 'h%04d.test' "$i"):$TW_PORT:127.0.0.1")
  done
  args+=(--resolve "h0999.test:$TW_PORT:127.0.0.1")
  curl -sS --noproxy '*' --max-time 20 "${args[@]}" "$@"
}

# url NUM PATH: the absolute URL of PATH on host NUM at TW_PORT.
url() {
  printf 'http://h%04d.test:%s%s' "$1" "$TW_PORT" "$2"
}
