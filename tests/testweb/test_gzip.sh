#!/usr/bin/env bash
# test_gzip.sh TESTWEB - /fault/gzip is always gzip; with --gzip pages are
# gzip-encoded exactly when the client asks.
TESTWEB=$1
source "$(dirname "$0")/common.sh"

start_server plain
hdr=$(tw_curl --compressed -D - -o "$TW_TMP/g.html" "$(url 1 /fault/gzip)" | tr -d '\r')
echo "$hdr" | grep -qi '^content-encoding: gzip$' || fail "/fault/gzip not gzip-encoded"
grep -q '<!DOCTYPE html>' "$TW_TMP/g.html" || fail "/fault/gzip does not decode to HTML"
ok "/fault/gzip decodes to HTML"
hdr=$(tw_curl --compressed -D - -o /dev/null "$(url 1 /)" | tr -d '\r')
echo "$hdr" | grep -qi '^content-encoding:' && fail "page gzip-encoded without --gzip"
ok "pages are identity-encoded without --gzip"
stop_server "$TW_PID"

start_server gz --gzip
tw_curl -o "$TW_TMP/plain.html" "$(url 2 /d5/p5.html)"
hdr=$(tw_curl --compressed -D - -o "$TW_TMP/dec.html" "$(url 2 /d5/p5.html)" | tr -d '\r')
echo "$hdr" | grep -qi '^content-encoding: gzip$' || fail "--gzip page not encoded"
cmp -s "$TW_TMP/plain.html" "$TW_TMP/dec.html" || fail "decoded page differs from identity page"
ok "--gzip page decodes to the identity body"
raw=$(tw_curl -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$(url 2 /d5/p5.html)")
plain=$(wc -c <"$TW_TMP/plain.html")
[ "$raw" -lt "$plain" ] || fail "gzip body ($raw) not smaller than identity ($plain)"
ok "gzip body is smaller ($raw < $plain bytes)"
stop_server "$TW_PID"
echo "all gzip tests passed"
