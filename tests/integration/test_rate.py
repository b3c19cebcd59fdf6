"""Rate and per-host cap, from testweb's log of arrival times: with --rate 5
--burst 2, in every window of every host's arrivals the count is at most
burst + rate * window + 1; with --per-host 2 no host ever serves more than 2
requests at once."""
import collections

import uvtest
from uvtest import Testweb, check, run_crawl

RATE, BURST, PER_HOST = 5.0, 2, 2


def max_window_excess(arrivals_us):
    """Largest count - (burst + rate*t) over all windows [a_i, a_j]."""
    worst = float("-inf")
    for i in range(len(arrivals_us)):
        for j in range(i, len(arrivals_us)):
            t = (arrivals_us[j] - arrivals_us[i]) / 1e6
            worst = max(worst, (j - i + 1) - (BURST + RATE * t))
    return worst


def max_overlap(intervals):
    events = sorted([(a, 1) for a, _ in intervals] + [(d, -1) for _, d in intervals],
                    key=lambda e: (e[0], e[1]))
    cur = peak = 0
    for _, delta in events:
        cur += delta
        peak = max(peak, cur)
    return peak


def test():
    a = uvtest.parse_args()
    site = ["--seed", "5", "--hosts", "4", "--pages", "30", "--links", "8", "--cross", "30",
            "--latency", "40", "--jitter", "120"]
    with Testweb(a.testweb, site) as tw:
        rc, recs, _, err = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--scope", "any", "-c", "100",
            "--per-host", str(PER_HOST), "--rate", str(RATE), "--burst", str(BURST), "-q",
            tw.url()], a.engine)
        log = tw.stop_and_read_log()
    check(rc == 0, f"crawl exits 0 ({rc}: {err.strip()[-200:]})")
    by_host = collections.defaultdict(list)
    for row in log:
        by_host[row["host"]].append(row)
    check(len(by_host) == 4 and len(log) > 60, f"enough traffic to judge ({len(log)} requests)")
    for host, rows in sorted(by_host.items()):
        arrivals = sorted(r["arrival_us"] for r in rows)
        excess = max_window_excess(arrivals)
        check(excess <= 1.0, f"{host}: {len(rows)} requests within burst + rate*t + 1 "
                             f"(worst excess {excess:.2f})")
        peak = max_overlap([(r["arrival_us"], r["done_us"]) for r in rows])
        check(peak <= PER_HOST, f"{host}: at most {PER_HOST} requests at once (peak {peak})")


uvtest.main(test)
