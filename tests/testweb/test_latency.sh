#!/usr/bin/env bash
# test_latency.sh TESTWEB - --latency delays each response on a timer: one
# request takes >= the latency, 50 concurrent ones take about one latency.
TESTWEB=$1
source "$(dirname "$0")/common.sh"

LOG="$TW_TMP/requests.log"
start_server lat --latency 200 --log "$LOG"
t=$(tw_curl -o /dev/null -w '%{time_total}' "$(url 1 /)")
awk -v t="$t" 'BEGIN { exit !(t >= 0.2) }' || fail "request took ${t}s < 0.2s"
ok "one request waits the latency (${t}s)"

args=()
for i in $(seq 1 50); do
  args+=(-o /dev/null "$(url $((i % 10 + 1)) "/d$((i % 10))/p$i.html")")
done
start_ns=$(date +%s%N)
codes=$(tw_curl --parallel --parallel-max 50 --parallel-immediate \
  -w '%{http_code}\n' "${args[@]}" | sort | uniq -c | awk '{ print $1 " " $2 }')
ms=$((($(date +%s%N) - start_ns) / 1000000))
assert_eq "50 parallel requests all 200" "50 200" "$codes"
[ "$ms" -lt 3000 ] || fail "50 parallel requests took ${ms} ms: latency is blocking"
[ "$ms" -ge 200 ] || fail "50 parallel requests took only ${ms} ms"
ok "50 parallel requests with 200 ms latency took ${ms} ms"
stop_server "$TW_PID"

# every logged request took at least the latency from arrival to done
awk -F'\t' '$2 - $1 < 200000 { bad = 1; print } END { exit bad }' "$LOG" ||
  fail "a logged request finished before its latency"
ok "log shows >= 200 ms between arrival and done"

# jitter stays within [latency, latency + jitter] and repeats per URL
start_server jit --latency 50 --jitter 100 --seed 3
for p in / /d1/p1.html /d2/p2.html /d3/p3.html; do
  t=$(tw_curl -o /dev/null -w '%{time_total}' "$(url 2 "$p")")
  awk -v t="$t" 'BEGIN { exit !(t >= 0.05 && t < 1.0) }' || fail "jittered request took ${t}s"
done
ok "jittered requests within bounds"
stop_server "$TW_PID"
echo "all latency tests passed"
