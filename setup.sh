#!/usr/bin/env bash
# setup.sh - the README's two commands on a fresh Debian 12 machine.
#   ./setup.sh demo   install what is missing, build, crawl the bundled testweb
#   ./setup.sh test   install what is missing, build, run the whole test suite:
#                     plain and AddressSanitizer+UBSan builds (all suites),
#                     ThreadSanitizer (suite 'threads'), libFuzzer (suite 'fuzz')
# Both are idempotent: a second run rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(build-essential pkg-config meson ninja-build python3 curl
  libuv1-dev libcurl4-openssl-dev libc-ares-dev libgumbo-dev zlib1g-dev
  libcmocka-dev dnsmasq-base clang-14 libclang-rt-14-dev wget2 gnuplot-nox time
  openssl libsqlite3-dev sqlite3
  libssl-dev nginx # issue 14: TLS versions from OpenSSL; tests put nginx in front of testweb
  libpsl-dev publicsuffix # issue 14: --scope domain by the Public Suffix List
  tinyproxy # issue 14: --proxy is tested through a real proxy on loopback
  libxml2-dev # issue 14: sitemaps are parsed with libxml2
  groff-base # issue 14: test_manpage reads docs/uvcrawl.1 with groff
  libhiredis-dev redis-server redis-tools) # issue 12: agents share a crawl through Redis
# Issue 11: the WARC tests read archives back with warcio.js, which needs
# node and npm. Note: a machine whose nodejs comes from elsewhere (such as
# NodeSource's, which bundles npm) cannot take Debian's npm package beside
# it; Debian's two are installed only where no node and npm are found.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  PACKAGES+=(nodejs npm)
fi

install_missing() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  # Packages with a daemon (nginx) must not start it as a system service:
  # the tests start their own on loopback. policy-rc.d exit 101 is Debian's
  # way to say "no service starts" during this install.
  local policy=/usr/sbin/policy-rc.d own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    own_policy=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || rc=$?
  [ -z "$own_policy" ] || $sudo rm -f "$policy"
  return $rc
}

# build DIR [meson options...]: configure once, then rebuild what changed.
build() {
  local dir=$1
  shift
  [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" >/dev/null
  ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { cat "$dir.ninja.log" >&2; return 1; }
}

# The demo's testweb, stopped by PID when the demo ends, also on failure.
demo_tmp=""
demo_tw_pid=""
stop_demo_testweb() {
  if [ -n "$demo_tw_pid" ]; then
    kill "$demo_tw_pid" 2>/dev/null || true
    wait "$demo_tw_pid" 2>/dev/null || true
    demo_tw_pid=""
  fi
  [ -z "$demo_tmp" ] || rm -rf "$demo_tmp"
}

demo() {
  build build
  local port
  demo_tmp=$(mktemp -d)
  trap stop_demo_testweb EXIT
  build/tests/testweb/testweb --listen 127.0.0.1:0 --port-file "$demo_tmp/port" \
    --hosts 300 --pages 60 --links 20 --cross 30 --latency 50 --jitter 100 \
    --page-bytes 6000 --seed 42 2>/dev/null &
  demo_tw_pid=$!
  for _ in $(seq 100); do [ -s "$demo_tmp/port" ] && break; sleep 0.1; done
  [ -s "$demo_tmp/port" ] || { echo "setup: testweb did not start" >&2; exit 1; }
  port=$(cat "$demo_tmp/port")
  echo "demo: crawling a synthetic web of 300 hosts x 60 pages on 127.0.0.1:$port" >&2
  build/src/cli/uvcrawl --resolve "*.test:$port:127.0.0.1" --scope any \
    -c 2000 --per-host 4 --rate 20 --burst 4 --parse-threads 1 --progress \
    -o build/demo.jsonl --stats build/demo-stats.json "http://h0001.test:$port/"
  stop_demo_testweb
  echo "demo: records in build/demo.jsonl ($(wc -l <build/demo.jsonl) lines)," \
    "statistics in build/demo-stats.json" >&2
}

run_suites() {
  local dir=$1
  shift
  meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" 2>&1 | tee "$dir/suite.log"
  return "${PIPESTATUS[0]}"
}

# warcio.js, the WARC reader the archive tests read back with: installed
# from package-lock.json into tests/integration/node/ (never globally).
install_node_modules() {
  [ -d tests/integration/node/node_modules/warcio ] && return 0
  (cd tests/integration/node && npm ci --no-audit --no-fund >/dev/null)
}

test_all() {
  install_node_modules
  build build
  build build-asan -Db_sanitize=address,undefined -Db_lundef=false
  build build-tsan -Db_sanitize=thread -Db_lundef=false
  CC=clang-14 build build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
  local status=0
  # Everything, plain and under AddressSanitizer+UBSan.
  run_suites build || status=1
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suites build-asan || status=1
  # ThreadSanitizer: whatever runs more than one thread (suite 'threads').
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp \
    run_suites build-tsan --suite threads || status=1
  # libFuzzer: each target replays its corpus, then fuzzes for 60 s. UB
  # halts the run (tests/fuzz/run.sh sets halt_on_error=1 as well).
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suites build-fuzz --suite fuzz || status=1
  # meson's tally of each run; a skipped test is neither passed nor hidden.
  local ok=0 fail=0 skip=0 n log
  for log in build/suite.log build-asan/suite.log build-tsan/suite.log build-fuzz/suite.log; do
    n=$(sed -n 's/^Ok: *//p' "$log" | tail -n1); ok=$((ok + ${n:-0}))
    n=$(sed -n 's/^Fail: *//p' "$log" | tail -n1); fail=$((fail + ${n:-0}))
    n=$(sed -n 's/^Timeout: *//p' "$log" | tail -n1); fail=$((fail + ${n:-0}))
    n=$(sed -n 's/^Unexpected Pass: *//p' "$log" | tail -n1); fail=$((fail + ${n:-0}))
    n=$(sed -n 's/^Skipped: *//p' "$log" | tail -n1); skip=$((skip + ${n:-0}))
  done
  echo "$ok passed, $fail failed, $skip skipped"
  [ "$skip" -eq 0 ] || grep -h ' SKIP ' build/suite.log build-asan/suite.log \
    build-tsan/suite.log build-fuzz/suite.log >&2 || true
  return $status
}

install_missing
case "${1:-}" in
demo) demo ;;
test) test_all ;;
*)
  echo "usage: $0 demo|test" >&2
  exit 2
  ;;
esac
