#!/usr/bin/env bash
# test_determinism.sh TESTWEB - the same seed gives byte-identical pages (the
# port inside absolute links aside); another seed gives a different site.
TESTWEB=$1
source "$(dirname "$0")/common.sh"

PATHS=(/ /d1/p1.html /d7/p17.html /d0/p40.html /nofollow/3.html /fault/slow)
# fetch NAME HOSTNUM...: every PATH on every given host into one file, with
# this server's port replaced by PORT.
fetch() {
  local name=$1 h p
  shift
  : >"$TW_TMP/$name"
  for h in "$@"; do
    for p in "${PATHS[@]}"; do
      tw_curl -D - "$(url "$h" "$p")" | tr -d '\r' | grep -v -i '^date:' |
        sed "s/:$TW_PORT\\//:PORT\\//g" >>"$TW_TMP/$name"
    done
  done
}

start_server a --seed 42 --slow-bps 1000000
fetch a 1 2 7
stop_server "$TW_PID"
start_server b --seed 42 --slow-bps 1000000
fetch b 1 2 7
stop_server "$TW_PID"
start_server c --seed 43 --slow-bps 1000000
fetch c 1 2 7
stop_server "$TW_PID"

[ "$(grep -c '^HTTP/1.1 200' "$TW_TMP/a")" -eq 18 ] || fail "not all pages were 200"
cmp -s "$TW_TMP/a" "$TW_TMP/b" || fail "same seed, different pages"
ok "same seed serves byte-identical pages ($(wc -c <"$TW_TMP/a") bytes)"
cmp -s "$TW_TMP/a" "$TW_TMP/c" && fail "different seeds serve identical pages"
ok "a different seed serves different pages"

e1=$("$TESTWEB" --seed 42 --port 8080 --expect -1 | md5sum)
e2=$("$TESTWEB" --seed 42 --port 8080 --expect -1 | md5sum)
e3=$("$TESTWEB" --seed 43 --port 8080 --expect -1 | md5sum)
assert_eq "--expect is deterministic" "$e1" "$e2"
[ "$e1" != "$e3" ] || fail "--expect ignores the seed"
ok "--expect depends on the seed"
out=$("$TESTWEB" --port 80 --expect 0)
assert_eq "port 80 is dropped from canonical URLs" "http://h0001.test/" "$out"
echo "all determinism tests passed"
