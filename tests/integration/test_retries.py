"""Retries: a URL that fails twice then succeeds is fetched (attempts 3); a
URL that always fails is tried exactly --retries + 1 times, with growing
backoff gaps in testweb's log; Retry-After is respected; resets are retried;
404 is not."""
import collections

import uvtest
from uvtest import Testweb, check, run_crawl


def test():
    a = uvtest.parse_args()
    with Testweb(a.testweb, ["--hosts", "4", "--pages", "3"]) as tw:
        seeds = {
            "flaky": tw.url(1, "/fault/flaky/2/a"),
            "always": tw.url(2, "/fault/500"),
            "limited": tw.url(3, "/fault/429?after=2"),
            "reset": tw.url(4, "/fault/reset"),
            "missing": tw.url(1, "/fault/notfound"),
        }
        rc, recs, stats, err = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--robots", "off", "--rate", "0", "--retries", "3",
            "--scope", "any", "-d", "0", "-q"] + list(seeds.values()), a.engine, timeout=180)
        log = tw.stop_and_read_log()
    check(rc == 0, f"crawl completes ({rc}: {err.strip()[-200:]})")
    by = {r["url"]: r for r in recs}
    check(len(recs) == len(seeds), "one record per URL, however many attempts")
    f = by[seeds["flaky"]]
    check(f["status"] == 200 and f["attempts"] == 3, f"fails twice then succeeds: 200 on attempt 3 ({f})")
    al = by[seeds["always"]]
    check(al["status"] == 500 and al["attempts"] == 4, f"always failing: 4 attempts recorded ({al})")
    times = collections.defaultdict(list)
    for row in log:
        times[row["path"]].append(row["arrival_us"])
    t = sorted(times["/fault/500"])
    check(len(t) == 4, f"always failing: exactly retries+1 = 4 requests ({len(t)})")
    gaps = [(b - a) / 1e6 for a, b in zip(t, t[1:])]
    # backoff 1 s, 2 s, 4 s, each with jitter in [0.5, 1.5)
    check(all(0.5 * base <= g <= 1.5 * base + 0.3 for g, base in zip(gaps, (1, 2, 4))),
          f"backoff gaps are 1, 2, 4 s with +-50% jitter ({', '.join(f'{g:.2f}' for g in gaps)} s)")
    t = sorted(times["/fault/429?after=2"])
    check(len(t) == 4 and all(b - a >= 1.95e6 for a, b in zip(t, t[1:])),
          f"Retry-After: 2 respected ({len(t)} requests)")
    check(by[seeds["reset"]]["error"] == "reset" and by[seeds["reset"]]["attempts"] == 4,
          "resets are retried")
    check(len(times["/fault/notfound"]) == 1 and by[seeds["missing"]]["attempts"] == 1,
          "404 is not retried")
    check(stats["retries"] == 2 + 3 + 3 + 3, f"stats count the retries ({stats['retries']})")


uvtest.main(test)
