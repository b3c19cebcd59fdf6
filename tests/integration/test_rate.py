"""Rate and per-host cap, end to end, from testweb's log (arrival and end of
every request).

Rate: --rate 5 --burst 2, --per-host 8 (so the bucket is what binds), each
host seeded with 10 URLs at once. In every window [a_i, a_j] of a host's
arrivals the count is at most burst + rate * (a_j - a_i), with a tolerance
of rate * 0.1 s only (0.5 request): the spread of the delay between the
crawler taking a token and testweb seeing the request. No +1: one request
too many in any window fails. The first burst is exactly 2 requests at
once, and over the crawl the host gets close to 5 requests/s (the bucket
gives what it promises).

Per-host cap: --rate 0, --per-host N (2, then 3), 200 ms latency, -c 100,
each host seeded with 6 URLs: on every host the peak number of requests
testweb is serving at once equals N. Equality shows the cap is what binds:
without it the 6 seeds would overlap. And no record's fetch_ms reaches 1.75
x the latency: the crawler's own gate held each URL until a slot was free
(the loop engine also caps curl's connections per host, so a URL handed to
curl too early would wait inside curl, unseen by testweb, but timed)."""
import collections

import uvtest
from uvtest import Testweb, check, max_overlap, run_crawl

RATE, BURST = 5.0, 2
SPREAD_S = 0.1   # delay spread between token and arrival the check allows
HOSTS = 4
LATENCY_MS = 200  # the per-host crawls


def seeds(tw, per_host):
    """Page 0 ("/") to per_host - 1 of every host: all queued at t = 0."""
    return [tw.url(h, "/" if p == 0 else f"/d{p % 10}/p{p}.html")
            for h in range(1, HOSTS + 1) for p in range(per_host)]


def by_host(log):
    hosts = collections.defaultdict(list)
    for row in log:
        hosts[row["host"]].append(row)
    return hosts


def check_rate(a):
    site = ["--seed", "5", "--hosts", str(HOSTS), "--pages", "20", "--links", "8",
            "--cross", "30", "--broken", "0", "--latency", "40", "--jitter", "120"]
    with Testweb(a.testweb, site) as tw:
        rc, recs, _, err = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--scope", "any", "--robots", "off", "-c", "100",
            "--per-host", "8", "--rate", str(RATE), "--burst", str(BURST), "-q"]
            + seeds(tw, 10), a.engine)
        log = tw.stop_and_read_log()
    check(rc == 0, f"rate: crawl exits 0 ({rc}: {err.strip()[-200:]})")
    hosts = by_host(log)
    check(len(hosts) == HOSTS and all(len(r) >= 15 for r in hosts.values()),
          f"rate: enough traffic to judge ({len(log)} requests)")
    tolerance = RATE * SPREAD_S
    for host, rows in sorted(hosts.items()):
        arrivals = sorted(r["arrival_us"] for r in rows)
        excess = uvtest.max_window_excess(arrivals, BURST, RATE)
        check(excess <= tolerance,
              f"rate: {host}: {len(rows)} requests, every window within burst + rate*t "
              f"(worst excess {excess:.2f}, tolerance {tolerance:.2f})")
        first = sum(1 for t in arrivals if t - arrivals[0] <= SPREAD_S * 1e6)
        check(first == BURST, f"rate: {host}: the first burst is {BURST} requests at once ({first})")
        span = (arrivals[-1] - arrivals[0]) / 1e6
        got = (len(arrivals) - BURST) / span
        check(got >= 0.85 * RATE, f"rate: {host}: {got:.2f} requests/s after the burst, "
                                  f"close to --rate {RATE} (the bucket is what binds)")


def check_per_host(a, cap):
    site = ["--seed", "6", "--hosts", str(HOSTS), "--pages", "12", "--links", "6",
            "--cross", "30", "--broken", "0", "--latency", str(LATENCY_MS)]
    with Testweb(a.testweb, site) as tw:
        rc, recs, _, err = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--scope", "any", "--robots", "off", "-c", "100",
            "--per-host", str(cap), "--rate", "0", "-q"] + seeds(tw, 6), a.engine)
        log = tw.stop_and_read_log()
    check(rc == 0, f"--per-host {cap}: crawl exits 0 ({rc}: {err.strip()[-200:]})")
    hosts = by_host(log)
    check(len(hosts) == HOSTS and len(recs) == len(log),
          f"--per-host {cap}: {len(log)} requests on {len(hosts)} hosts, one record each")
    for host, rows in sorted(hosts.items()):
        peak = max_overlap([(r["arrival_us"], r["done_us"]) for r in rows])
        check(peak == cap, f"--per-host {cap}: {host}: peak {peak} requests at once == {cap}")
    # The crawler's gate holds a URL until its host has a free slot; one
    # handed to curl early would wait there for a connection (curl caps
    # connections per host too), and its fetch_ms would count the wait.
    slow = max(recs, key=lambda r: r["fetch_ms"])
    check(slow["fetch_ms"] < 1.75 * LATENCY_MS,
          f"--per-host {cap}: no transfer waited for a slot after dispatch "
          f"(longest fetch_ms {slow['fetch_ms']:.0f}, latency {LATENCY_MS})")


def test():
    a = uvtest.parse_args()
    check_rate(a)
    for cap in (2, 3):
        check_per_host(a, cap)


uvtest.main(test)
