"""Scale: 10,000 transfers in flight against testweb with 4 s latency (the
threads engine: 2,000 with 1 s), judged by testweb, not by the crawler's own
counters:
  - testweb's log shows at least 95% of -c requests being served at once
    (the peak overlap of the [arrival, end] of every request);
  - the fetched set equals `testweb --expect` from the 1,000 seeds (every
    reachable page, about 25,000), each with one record and no error, and
    testweb saw each URL requested as often as its record's attempts (once,
    unless a try failed and was retried): never twice for one fetch."""
import collections
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import uvtest  # noqa: E402
from uvtest import Testweb, check, max_overlap, run_crawl  # noqa: E402

HOSTS = 1000


def test():
    a = uvtest.parse_args({"--concurrency": {"type": int, "default": 10000}})
    # Long enough for the crawler to start -c transfers before the first of
    # them is answered: otherwise testweb never sees them all at once,
    # whatever the crawler counts as in flight. Note: 2 s for 10,000 (5,000
    # starts a second) fell short in a fresh clone's run of the suite on
    # this 2-core machine (9,134 at once, plain build); 4 s gives the ramp
    # 2,500 starts a second.
    latency_ms = max(1000, a.concurrency * 2 // 5)
    site = ["--seed", "4", "--hosts", str(HOSTS), "--pages", "25", "--links", "12",
            "--cross", "10", "--broken", "0", "--latency", str(latency_ms), "--page-bytes", "800"]
    with Testweb(a.testweb, site) as tw:
        seed_urls = [tw.url(h) for h in range(1, HOSTS + 1)]
        expected = tw.expect(-1, seeds=seed_urls)
        seeds = os.path.join(tempfile.mkdtemp(prefix="scale-"), "seeds.txt")
        with open(seeds, "w") as f:
            f.write("\n".join(seed_urls) + "\n")
        rc, recs, stats, err = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--scope", "any", "--robots", "off",
            "-c", str(a.concurrency), "--per-host", "12", "--rate", "0", "--timeout", "60",
            "-q", "-i", seeds], a.engine, timeout=600)
        log = tw.stop_and_read_log()
    check(rc == 0, f"crawl exits 0 ({rc}: {err.strip()[-300:]})")
    want = int(a.concurrency * 0.95)
    peak = max_overlap([(r["arrival_us"], r["done_us"]) for r in log])
    check(peak >= want, f"testweb served {peak} requests at once (>= {want}; the crawler "
                        f"counted {stats['peak_inflight']})")
    errors = [r for r in recs if r["error"] or r["status"] != 200]
    check(not errors, f"no transfer failed ({len(errors)} errors, e.g. {errors[:2]})")
    urls = [r["url"] for r in recs]
    dupes = [u for u, n in collections.Counter(urls).items() if n > 1]
    check(not dupes, f"one record per URL (duplicates: {dupes[:3]})")
    got = set(urls)
    check(got == expected, f"fetched set equals testweb --expect ({len(got)} vs "
                           f"{len(expected)}; missing {sorted(expected - got)[:3]}, "
                           f"extra {sorted(got - expected)[:3]})")
    # Each URL is requested as many times as its record says it was tried:
    # once, or again after a failure (--retries); never twice otherwise.
    served = collections.Counter((r["host"].split(":")[0].lower(), r["path"]) for r in log)
    tries = {uvtest.url_key(r["url"]): r["attempts"] for r in recs}
    wrong = [(k, n, tries.get(k)) for k, n in served.items() if n != tries.get(k)]
    retried = sum(n > 1 for n in tries.values())
    check(not wrong and sum(served.values()) == len(log),
          f"testweb: {len(log)} requests, each URL as often as its record's attempts "
          f"({retried} retried; (url, served, attempts): {wrong[:3]})")


uvtest.main(test)
