"""Scope follows a seed's redirect (issue 15): a seed on h0001 that
redirects to h0002 makes h0002 a seed host, as wget2 does. The crawl then
fetches exactly what testweb says is reachable from h0002 within host
scope, plus the redirect itself, and nothing of other hosts. The threads
engine's workers filter links off the crawl's thread, where the hosts a
seed redirected to are not visible: those links must come back to the
crawl's thread and be judged there (run in both engines, and with the
loop engine's parse pool)."""
import uvtest
from uvtest import Testweb, check, run_crawl


def crawl(a, tw, seed, extra=()):
    rc, recs, stats, err = run_crawl(a.uvcrawl, [
        "--resolve", tw.resolve_arg(), "--robots", "off", "--rate", "0", "--per-host", "4",
        "-q", *extra, seed], a.engine, timeout=120)
    check(rc == 0, f"{seed} {' '.join(extra)}: exit 0 ({rc}: {err.strip()[-200:]})")
    return recs, stats


def hosts_of(recs):
    return {r["url"].split("/")[2].split(":")[0] for r in recs}


def test():
    a = uvtest.parse_args()
    variants = [[]] + ([["--parse-threads", "2"]] if a.engine == "loop" else [])
    # No cross-host links: what h0002 reaches is exactly testweb's host-scope set.
    site = ["--seed", "5", "--hosts", "4", "--pages", "30", "--links", "6", "--cross", "0",
            "--broken", "0"]
    with Testweb(a.testweb, site) as tw:
        seed = tw.url(1, "/fault/to-host/2")
        expected = tw.expect(-1, seeds=[tw.url(2)], scope="host")
        for extra in variants:
            recs, _ = crawl(a, tw, seed, extra)
            got = {r["url"] for r in recs}
            check(got == expected | {seed},
                  f"seed redirect {' '.join(extra)}: the target host is crawled whole "
                  f"({len(got)} vs {len(expected) + 1}; missing {sorted(expected - got)[:3]}, "
                  f"extra {sorted(got - expected - {seed})[:3]})")

    # With cross-host links: the seed's host and the target's are in scope, no other.
    site = ["--seed", "5", "--hosts", "4", "--pages", "30", "--links", "6", "--cross", "40",
            "--broken", "0"]
    with Testweb(a.testweb, site) as tw:
        seed = tw.url(1, "/fault/to-host/2")
        for extra in variants:
            recs, stats = crawl(a, tw, seed, extra)
            check(hosts_of(recs) == {"h0001.test", "h0002.test"} and stats["skipped"]["scope"] > 0,
                  f"cross links {' '.join(extra)}: only the two hosts are crawled, the others "
                  f"refused ({sorted(hosts_of(recs))}, {stats['skipped']['scope']} refused)")
        recs, stats = crawl(a, tw, tw.url(1))
        check(hosts_of(recs) == {"h0001.test"} and stats["skipped"]["scope"] > 0,
              f"without a seed redirect only the seed's host ({sorted(hosts_of(recs))})")


uvtest.main(test)
