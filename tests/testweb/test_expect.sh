#!/usr/bin/env bash
# test_expect.sh TESTWEB BFS_PY - testweb --expect must equal what an
# independent crawler (bfs.py: real HTTP, html.parser, urllib.parse) reaches,
# for several depths, both scopes, and with per-URL faults switched on.
TESTWEB=$1
BFS=$2
source "$(dirname "$0")/common.sh"
PY=${PYTHON3:-python3}
export LC_ALL=C

# compare NAME DEPTH SCOPE SEED [server options...]: against the server
# started last (TW_PORT), whose site options are passed again to --expect.
compare() {
  local name=$1 depth=$2 scope=$3 seed=$4
  shift 4
  "$TESTWEB" --port "$TW_PORT" --expect "$depth" --expect-scope "$scope" \
    --expect-seed "$seed" "$@" >"$TW_TMP/$name.expect"
  "$PY" "$BFS" "$TW_PORT" "$depth" "$scope" "$seed" >"$TW_TMP/$name.bfs"
  if ! cmp -s "$TW_TMP/$name.expect" "$TW_TMP/$name.bfs"; then
    diff "$TW_TMP/$name.expect" "$TW_TMP/$name.bfs" | head -20 >&2
    fail "$name: --expect differs from the crawl"
  fi
  ok "$name: --expect equals the crawl ($(wc -l <"$TW_TMP/$name.bfs") URLs)"
}

SITE=(--seed 7 --hosts 5 --pages 30)
start_server plain "${SITE[@]}"
SEED=$(url 1 /)
for d in 0 1 2 -1; do
  compare "depth$d" "$d" any "$SEED" "${SITE[@]}"
done
compare "host-scope" -1 host "$(url 3 /d7/p7.html)" "${SITE[@]}"

n2=$(wc -l <"$TW_TMP/depth2.bfs")
nall=$(wc -l <"$TW_TMP/depth-1.bfs")
[ "$n2" -lt "$nall" ] || fail "depth 2 reaches everything ($n2 >= $nall): graph too shallow"
[ "$nall" -gt 100 ] || fail "unlimited depth reaches only $nall URLs"
grep -q '/missing/' "$TW_TMP/depth-1.expect" || fail "no broken links reached"
grep -q 'h0005.test' "$TW_TMP/depth-1.expect" || fail "no cross-host links reached"
if grep -q -e nofollow -e style.css -e mailto -e javascript "$TW_TMP/depth-1.expect"; then
  fail "--expect lists an excluded link"
fi
ok "depth 2 ($n2) < unlimited ($nall); broken and cross-host links present"

# --port is taken from --listen when it names one
out=$("$TESTWEB" --listen "127.0.0.1:$TW_PORT" --expect 0 "${SITE[@]}")
assert_eq "--expect takes the port from --listen" "$(url 1 /)" "$out"
rc=0
"$TESTWEB" --expect 1 2>/dev/null || rc=$?
assert_eq "--expect without a port is a usage error" 2 "$rc"

# --scheme https --link-port P (a TLS proxy in front): the same pages, each
# URL with https:// and P; and the served pages link that way too.
"$TESTWEB" --port "$TW_PORT" --expect -1 --expect-scope any --expect-seed "$SEED" \
  --scheme https --link-port 8443 "${SITE[@]}" >"$TW_TMP/https.expect"
sed "s|^http://\([^:/]*\):$TW_PORT/|https://\1:8443/|" "$TW_TMP/depth-1.expect" |
  LC_ALL=C sort >"$TW_TMP/https.want"
LC_ALL=C sort "$TW_TMP/https.expect" | cmp -s - "$TW_TMP/https.want" ||
  fail "--scheme https --link-port: not the plain URL set with https and port 8443"
ok "--scheme https --link-port 8443: $(wc -l <"$TW_TMP/https.expect") URLs, all https on 8443"
rc=0
"$TESTWEB" --scheme ftp --expect 0 --port 1 2>/dev/null || rc=$?
assert_eq "--scheme ftp is a usage error" 2 "$rc"
stop_server "$TW_PID"
start_server linkport "${SITE[@]}" --scheme https --link-port 8443
page=$(curl -s "http://127.0.0.1:$TW_PORT/" -H "Host: h0001.test:$TW_PORT")
grep -q 'https://h000[0-9].test:8443/' <<<"$page" || fail "served page has no https link on 8443"
if grep -q "http://" <<<"$page"; then fail "served page still links http://"; fi
ok "a served page links https://...:8443"
stop_server "$TW_PID"

# Faults: a crawler sees no links on 5xx/reset/huge/wrong-type pages and the
# target's links on redirecting pages.
FAULTS=(--seed 11 --hosts 4 --pages 40 --fault-5xx 8 --fault-reset 5
  --fault-huge 5 --fault-redirect 8 --fault-wrong-type 5 --fault-slow 3
  --huge-bytes 200k --slow-bps 1000000)
start_server faults "${FAULTS[@]}"
compare "faults" -1 any "$(url 1 /)" "${FAULTS[@]}"
compare "faults-depth3" 3 any "$(url 2 /)" "${FAULTS[@]}"
stop_server "$TW_PID"
echo "all expect tests passed"
