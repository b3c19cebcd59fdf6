#!/usr/bin/env bash
# test_concurrency.sh TESTWEB LOADCLIENT [CONNS] - CONNS (5000) keep-alive
# connections open at once, every one answered 200; then --max-conns.
TESTWEB=$1
LOADCLIENT=$2
CONNS=${3:-5000}
source "$(dirname "$0")/common.sh"

# Both processes need CONNS descriptors (testweb raises its own soft limit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge $((CONNS + 100)) ] ||
  fail "hard RLIMIT_NOFILE $(ulimit -Hn) too low for $CONNS connections"

start_server conc
out=$("$LOADCLIENT" --port "$TW_PORT" --conns "$CONNS" --requests 3 --timeout 60) ||
  fail "loadclient: $out"
ok "$CONNS concurrent keep-alive connections, 3 requests each: $out"
out=$("$LOADCLIENT" --port "$TW_PORT" --conns 50 --requests 200 --timeout 60) ||
  fail "loadclient: $out"
ok "50 connections x 200 requests: $out"
stop_server "$TW_PID"

start_server capped --max-conns 10
"$LOADCLIENT" --port "$TW_PORT" --conns 10 --timeout 20 >/dev/null ||
  fail "10 connections refused under --max-conns 10"
if "$LOADCLIENT" --port "$TW_PORT" --conns 20 --timeout 20 >/dev/null 2>&1; then
  fail "--max-conns 10 allowed 20 connections"
fi
ok "--max-conns caps open connections"
stop_server "$TW_PID"
echo "all concurrency tests passed"
