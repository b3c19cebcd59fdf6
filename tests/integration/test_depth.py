"""Depth: with -d 0, 1, 2 and 3 the fetched set is exactly the set testweb
computes by breadth-first search within that depth, and each record's depth
is the URL's shortest link distance from the seed. Without -d, a record's
depth is its parent's plus one (the parent being the first fetched page
found linking it; a redirect target keeps its source's depth), as the
README says: not always the shortest distance, but never inconsistent."""
import uvtest
from uvtest import Testweb, check, run_crawl


def test():
    a = uvtest.parse_args()
    site = ["--seed", "11", "--hosts", "10", "--pages", "60", "--links", "6",
            "--cross", "25", "--latency", "2", "--jitter", "8"]
    with Testweb(a.testweb, site) as tw:
        prev = set()
        for depth in range(4):
            expected = tw.expect(depth)
            rc, recs, _, err = run_crawl(a.uvcrawl, [
                "--resolve", tw.resolve_arg(), "--scope", "any", "-c", "64",
                "--per-host", "4", "--rate", "0", "-d", str(depth), "-q", tw.url()], a.engine)
            check(rc == 0, f"depth {depth}: exit 0 ({rc}: {err.strip()[-200:]})")
            got = {r["url"] for r in recs}
            check(got == expected,
                  f"depth {depth}: fetched set equals --expect {depth} ({len(got)} vs "
                  f"{len(expected)}; missing {sorted(expected - got)[:3]}, "
                  f"extra {sorted(got - expected)[:3]})")
            check(all(r["depth"] <= depth for r in recs), f"depth {depth}: nothing deeper")
            new = expected - prev
            check(all(r["depth"] == depth for r in recs if r["url"] in new),
                  f"depth {depth}: URLs first reachable at {depth} carry depth {depth}")
            check(depth == 0 or len(expected) > len(prev), f"depth {depth}: the set grows")
            prev = expected

        rc, recs, _, _ = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--scope", "any", "-c", "64", "--per-host", "4",
            "--rate", "0", "-q", tw.url()], a.engine)
        by_url = {r["url"]: r for r in recs}
        check(rc == 0 and len(by_url) == len(tw.expect(-1)), "no -d: the whole site")
        wrong = []
        for r in recs:
            p = by_url.get(r["parent"]) if r["parent"] else None
            want = 0 if p is None else p["depth"] + (0 if 300 <= (p["status"] or 0) < 400 else 1)
            if r["depth"] != want or (r["parent"] and p is None):
                wrong.append((r["url"], r["depth"], r["parent"]))
        check(not wrong, f"no -d: every depth is its parent's plus one ({wrong[:3]})")


uvtest.main(test)
