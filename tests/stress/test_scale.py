"""Scale: 10,000 transfers in flight against testweb with 1 s latency. The
stats show a peak in flight of at least 9,500 and the crawl completes with
every reachable page fetched."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import uvtest  # noqa: E402
from uvtest import Testweb, check, run_crawl  # noqa: E402

HOSTS = 1000


def test():
    a = uvtest.parse_args({"--concurrency": {"type": int, "default": 10000}})
    site = ["--seed", "4", "--hosts", str(HOSTS), "--pages", "25", "--links", "12",
            "--cross", "10", "--broken", "0", "--latency", "1000", "--page-bytes", "800"]
    with Testweb(a.testweb, site, log=False) as tw:
        seeds = os.path.join(tempfile.mkdtemp(prefix="scale-"), "seeds.txt")
        with open(seeds, "w") as f:
            for h in range(1, HOSTS + 1):
                f.write(tw.url(h) + "\n")
        rc, recs, stats, err = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--scope", "any", "--robots", "off",
            "-c", str(a.concurrency), "--per-host", "12", "--rate", "0", "--timeout", "60",
            "-q", "-i", seeds], a.engine, timeout=600)
    check(rc == 0, f"crawl exits 0 ({rc}: {err.strip()[-300:]})")
    want = int(a.concurrency * 0.95)
    check(stats["peak_inflight"] >= want,
          f"peak in flight {stats['peak_inflight']} >= {want}")
    errors = [r for r in recs if r["error"]]
    check(not errors, f"no transfer failed ({len(errors)} errors, e.g. {errors[:2]})")
    check(len(recs) >= HOSTS * 20, f"the crawl went wide ({len(recs)} pages)")


uvtest.main(test)
