"""Coverage: a 50-host x 200-page testweb is crawled exactly: the fetched set
equals `testweb --expect`, every URL has one record, and testweb's log shows
no URL requested twice."""
import collections

import uvtest
from uvtest import Testweb, check, run_crawl


def test():
    a = uvtest.parse_args()
    site = ["--seed", "3", "--hosts", "50", "--pages", "200", "--links", "12",
            "--page-bytes", "1500"]
    with Testweb(a.testweb, site) as tw:
        expected = tw.expect(-1)
        rc, recs, stats, err = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--scope", "any", "-c", "400",
            "--per-host", "8", "--rate", "0", "-q", tw.url()], a.engine)
        log = tw.stop_and_read_log()
    check(rc == 0, f"crawl exits 0 (got {rc}; stderr: {err.strip()[-300:]})")
    urls = [r["url"] for r in recs]
    dupes = [u for u, n in collections.Counter(urls).items() if n > 1]
    check(not dupes, f"every URL has exactly one record (duplicates: {dupes[:5]})")
    got = set(urls)
    check(got == expected,
          f"fetched set equals testweb --expect ({len(got)} vs {len(expected)}; "
          f"missing {sorted(expected - got)[:5]}, extra {sorted(got - expected)[:5]})")
    check(len(expected) > 5000, f"the site is large enough to matter ({len(expected)} pages)")
    requests = [(r["host"], r["path"]) for r in log]
    twice = [k for k, n in collections.Counter(requests).items() if n > 1]
    check(not twice, f"testweb log: no URL requested twice ({twice[:5]})")
    robots = sum(1 for _, p in requests if p == "/robots.txt")
    check(robots == stats["hosts"], f"robots.txt fetched once per host ({robots})")
    check(stats["pages"] == len(recs), "stats count every record")
    check(all(r["engine"] == a.engine for r in recs), "records name the engine")


uvtest.main(test)
