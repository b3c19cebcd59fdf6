#!/usr/bin/env bash
# test_basic.sh TESTWEB - pages, hosts, keep-alive, fault paths, protocol
# edge cases, the request log and a clean SIGTERM shutdown.
TESTWEB=$1
source "$(dirname "$0")/common.sh"

TW_HOSTS=3
LOG="$TW_TMP/requests.log"
start_server basic --hosts 3 --pages 30 --log "$LOG" --huge-bytes 1M \
  --slow-bps 10000
SERVER=$TW_PID
NREQ=0 # requests the log must show

# --- pages and hosts
out=$(tw_curl -o "$TW_TMP/home.html" -w '%{http_code} %{content_type}' "$(url 1 /)")
NREQ=$((NREQ + 1))
assert_eq "GET / status and type" "200 text/html; charset=utf-8" "$out"
n=$(grep -c '<a href=' "$TW_TMP/home.html")
[ "$n" -ge 20 ] || fail "home page has $n links"
ok "home page has links ($n)"
grep -q 'rel="nofollow"' "$TW_TMP/home.html" || fail "no nofollow link"
grep -q 'href="mailto:' "$TW_TMP/home.html" || fail "no mailto link"
grep -q 'rel="stylesheet" href="/style.css"' "$TW_TMP/home.html" || fail "no stylesheet"
ok "home page has nofollow, mailto and stylesheet"

out=$(tw_curl -o /dev/null -w '%{http_code}' "$(url 999 /)")
NREQ=$((NREQ + 1))
assert_eq "unknown host" 404 "$out"

out=$(tw_curl -o /dev/null -w '%{http_code}' "$(url 1 /d3/p33.html)")
NREQ=$((NREQ + 1))
assert_eq "page beyond --pages" 404 "$out"

# --- keep-alive: three URLs, one curl, one connection
out=$(tw_curl -w '%{http_code} ' -o /dev/null "$(url 1 /d1/p1.html)" \
  -o /dev/null "$(url 1 /d2/p2.html)" -o /dev/null "$(url 1 /d3/p3.html)")
NREQ=$((NREQ + 3))
assert_eq "three keep-alive requests" "200 200 200 " "$out"

# --- HEAD and Connection: close
get_len=$(tw_curl -o /dev/null -w '%{size_download}' "$(url 2 /)")
head_hdrs=$(tw_curl -I "$(url 2 /)" | tr -d '\r')
NREQ=$((NREQ + 2))
echo "$head_hdrs" | grep -qi "^content-length: $get_len\$" || fail "HEAD length != GET size $get_len"
ok "HEAD gives the GET length without a body"
hdrs=$(tw_curl -D - -o /dev/null -H 'Connection: close' "$(url 1 /)" | tr -d '\r')
NREQ=$((NREQ + 1))
echo "$hdrs" | grep -qi '^connection: close$' || fail "Connection: close not honoured"
ok "Connection: close honoured"

# --- robots and stylesheet
out=$(tw_curl "$(url 1 /robots.txt)")
NREQ=$((NREQ + 1))
assert_eq "default robots.txt" "$(printf 'User-agent: *\nAllow: /')" "$out"
out=$(tw_curl -o /dev/null -w '%{http_code} %{content_type}' "$(url 1 /style.css)")
NREQ=$((NREQ + 1))
assert_eq "stylesheet" "200 text/css" "$out"

# --- fault paths
for spec in notfound:404 500:500 503:503 wrong-type:200 binary:200 huge-headers:200; do
  out=$(tw_curl -o /dev/null -w '%{http_code}' "$(url 1 "/fault/${spec%%:*}")")
  NREQ=$((NREQ + 1))
  assert_eq "/fault/${spec%%:*}" "${spec#*:}" "$out"
done
out=$(tw_curl -o /dev/null -w '%{content_type}' "$(url 1 /fault/wrong-type)")
NREQ=$((NREQ + 1))
assert_eq "wrong-type content type" image/png "$out"
out=$(tw_curl -o /dev/null -w '%{size_header}' "$(url 1 /fault/huge-headers)")
NREQ=$((NREQ + 1))
[ "$out" -ge 200000 ] || fail "huge headers only $out bytes"
ok "huge headers ($out bytes)"
out=$(tw_curl -D - -o /dev/null "$(url 1 '/fault/429?after=7')" | tr -d '\r' | grep -i -e '^HTTP' -e '^retry-after')
NREQ=$((NREQ + 1))
assert_eq "/fault/429?after=7" "$(printf 'HTTP/1.1 429 Too Many Requests\nRetry-After: 7')" "$out"

out=$(tw_curl -L -o /dev/null -w '%{http_code} %{num_redirects}' "$(url 1 /fault/redirect/3)")
NREQ=$((NREQ + 4))
assert_eq "redirect chain of 3" "200 3" "$out"

rc=0
tw_curl -L --max-redirs 5 -o /dev/null "$(url 1 /fault/loop)" 2>/dev/null || rc=$?
NREQ=$((NREQ + 6))
assert_eq "redirect loop stops curl (CURLE_TOO_MANY_REDIRECTS)" 47 "$rc"

rc=0
tw_curl -o /dev/null "$(url 1 /fault/reset)" 2>/dev/null || rc=$?
NREQ=$((NREQ + 1))
[ "$rc" -ne 0 ] || fail "/fault/reset gave curl no error"
ok "/fault/reset makes curl fail (exit $rc)"

codes=""
for i in 1 2 3; do
  codes+=$(tw_curl -o /dev/null -w '%{http_code} ' "$(url 1 /fault/flaky/2/x)")
done
codes+=$(tw_curl -o /dev/null -w '%{http_code}' "$(url 1 /fault/flaky/1/other)")
NREQ=$((NREQ + 4))
assert_eq "flaky fails K times then succeeds" "503 503 200 503" "$codes"

out=$(tw_curl -o /dev/null -w '%{http_code} %{size_download}' "$(url 1 /fault/huge)")
NREQ=$((NREQ + 1))
assert_eq "huge body streamed" "200 1048576" "$out"

out=$(tw_curl -o /dev/null -w '%{time_total}' "$(url 1 /fault/slow)")
NREQ=$((NREQ + 1))
awk -v t="$out" 'BEGIN { exit !(t >= 0.1) }' || fail "slow body took only ${out}s"
ok "slow body trickled (${out}s)"

rc=0
n=$(tw_curl --max-time 1 "$(url 1 /fault/endless)" 2>/dev/null | wc -c) || rc=$?
NREQ=$((NREQ + 1))
[ "$n" -gt 65536 ] || fail "endless body sent only $n bytes"
ok "endless body streams ($n bytes in 1 s)"

tw_curl -o "$TW_TMP/bomb.gz" "$(url 1 /fault/bomb)"
NREQ=$((NREQ + 1))
# ISIZE, the last 4 bytes (little-endian); `gzip -l` would take seconds
size=$(tail -c 4 "$TW_TMP/bomb.gz" | od -An -tu4 --endian=little | tr -d ' ')
assert_eq "bomb inflates to 1 GiB (gzip trailer)" 1073741824 "$size"
n=$(gzip -dc "$TW_TMP/bomb.gz" 2>/dev/null | head -c 3000000 | tr -d '\0' | wc -c) || true
assert_eq "bomb inflates to zeros" 0 "$n"

# --- raw protocol: bad request, oversized head, pipelining
raw() { # raw REQUEST-BYTES -> the response bytes (server closes or 3 s)
  exec 3<>"/dev/tcp/127.0.0.1/$TW_PORT"
  printf '%b' "$1" >&3
  timeout 3 cat <&3 || true
  exec 3<&-
}
out=$(raw 'GARBAGE\r\n\r\n' | head -1 | tr -d '\r')
NREQ=$((NREQ + 1))
assert_eq "malformed request line" "HTTP/1.1 400 Bad Request" "$out"
big=$(head -c 20000 /dev/zero | tr '\0' a)
out=$(raw "GET / HTTP/1.1\r\nHost: h0001.test\r\nX-Big: $big\r\n\r\n" | head -1 | tr -d '\r')
NREQ=$((NREQ + 1))
assert_eq "oversized request head" "HTTP/1.1 431 Request Header Fields Too Large" "$out"
out=$(raw "GET /d1/p1.html HTTP/1.1\r\nHost: h0001.test\r\n\r\nGET /d2/p2.html HTTP/1.1\r\nHost: H0001.TEST:1\r\nConnection: close\r\n\r\n" |
  grep -c '^HTTP/1.1 200 OK')
NREQ=$((NREQ + 2))
assert_eq "two pipelined requests answered" 2 "$out"
out=$(raw "GET / HTTP/1.0\r\nHost: h0002.test\r\n\r\n" | head -1 | tr -d '\r')
NREQ=$((NREQ + 1))
assert_eq "HTTP/1.0 request (closes without keep-alive)" "HTTP/1.1 200 OK" "$out"

# --- clean shutdown while a stream is in flight
tw_curl --max-time 20 -o /dev/null "$(url 1 /fault/endless)" 2>/dev/null &
CURL=$!
NREQ=$((NREQ + 1))
deadline=$((SECONDS + 10))
until [ "$(ss -Htn state established "( sport = :$TW_PORT )" | wc -l)" -ge 1 ]; do
  [ $SECONDS -lt $deadline ] || fail "endless stream never started"
  sleep 0.02
done
stop_server "$SERVER"
wait "$CURL" 2>/dev/null || true
ok "SIGTERM with a stream in flight exits 0"

# --- the request log
lines=$(wc -l <"$LOG")
assert_eq "one log line per request" "$NREQ" "$lines"
awk -F'\t' 'NF != 6 || $1 !~ /^[0-9]+$/ || $2 < $1 || $6 !~ /^[0-9]+$/ { print "bad line " NR ": " $0; bad = 1 }
  END { exit bad }' "$LOG" || fail "malformed log lines"
ok "log lines have 6 fields and done >= arrival"
sort -n -k1,1 -s "$LOG" | cut -f4 | head -3 | tr '\n' ' ' >"$TW_TMP/first"
assert_eq "log arrival order follows request order" "/ / /d3/p33.html " "$(cat "$TW_TMP/first")"
# requests were sequential: arrival order == order of completion
sort -n -k1,1 -c "$LOG" 2>/dev/null || fail "arrival times not monotonic"
ok "arrival times monotonic"
ids=$(awk -F'\t' '$4 == "/d1/p1.html" || $4 == "/d2/p2.html" || $4 == "/d3/p3.html" { print $6 }' "$LOG" | head -3 | sort -u | wc -l)
assert_eq "keep-alive requests share one conn_id" 1 "$ids"
out=$(awk -F'\t' '$4 == "/fault/reset" { print $5 }' "$LOG")
assert_eq "reset logged with status 0" 0 "$out"
out=$(awk -F'\t' '$4 == "/" && $5 == 404 { print $3 }' "$LOG")
assert_eq "unknown host logged lower-case without port" h0999.test "$out"

# --- robots.txt options
printf 'User-agent: *\nDisallow: /d1/\nCrawl-delay: 2\n' >"$TW_TMP/robots.txt"
start_server robots --robots "$TW_TMP/robots.txt"
out=$(tw_curl "$(url 2 /robots.txt)")
assert_eq "--robots FILE served" "$(cat "$TW_TMP/robots.txt")" "$out"
stop_server "$TW_PID"
start_server robots503 --robots-status 503
out=$(tw_curl -o /dev/null -w '%{http_code}' "$(url 1 /robots.txt)")
assert_eq "--robots-status 503" 503 "$out"
stop_server "$TW_PID"

rc=0
"$TESTWEB" --hosts x 2>"$TW_TMP/usage.err" || rc=$?
assert_eq "bad number is a usage error" 2 "$rc"
grep -q "bad value for --hosts" "$TW_TMP/usage.err" || fail "no clear message for a bad number"
echo "all basic tests passed"
