"""Faults: 5xx, resets, timeouts, bodies over --max-body, redirect chains
longer than --max-redirects, redirect loops, a refused port, too many
headers and one header line too long (both "headers-too-large") each give a
record with their status or error, and the crawl completes."""
import uvtest
from uvtest import Testweb, check, run_crawl


def test():
    a = uvtest.parse_args()
    with Testweb(a.testweb, ["--hosts", "2", "--pages", "5", "--huge-bytes", str(8 << 20)]) as tw:
        seeds = {
            "500": tw.url(1, "/fault/500"),
            "reset": tw.url(1, "/fault/reset"),
            "endless": tw.url(1, "/fault/endless"),
            "huge": tw.url(1, "/fault/huge"),
            "loop": tw.url(1, "/fault/loop"),
            "chain": tw.url(1, "/fault/redirect/14"),
            "notfound": tw.url(1, "/fault/notfound"),
            "refused": "http://refused.test:1/",
            "many-headers": tw.url(1, "/fault/huge-headers"),
            "long-header": tw.url(1, "/fault/long-header"),
        }
        rc, recs, stats, err = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--resolve", "refused.test:1:127.0.0.1",
            "--robots", "off", "--retries", "0", "--timeout", "2", "--max-body", "1M",
            "--max-redirects", "10", "--rate", "0", "--per-host", "8", "-d", "0", "-q"]
            + list(seeds.values()), a.engine, timeout=120)
    check(rc == 0, f"crawl completes with exit 0 ({rc}: {err.strip()[-300:]})")
    by_url = {r["url"]: r for r in recs}
    for name, url in seeds.items():
        check(url in by_url, f"{name}: has a record")
    r = by_url
    check(r[seeds["500"]]["status"] == 500 and r[seeds["500"]]["error"] is None, "500: status 500")
    check(r[seeds["notfound"]]["status"] == 404, "404: status 404")
    check(r[seeds["reset"]]["error"] == "reset", f"reset: error reset ({r[seeds['reset']]})")
    check(r[seeds["endless"]]["error"] in ("timeout", "max-body"),
          f"endless body: cut by timeout or max-body ({r[seeds['endless']]['error']})")
    check(r[seeds["huge"]]["error"] == "max-body" and r[seeds["huge"]]["bytes"] <= 1 << 20,
          f"huge body: error max-body, at most 1 MiB kept ({r[seeds['huge']]})")
    check(r[seeds["refused"]]["error"] == "refused", f"refused port: error refused")
    for name in ("many-headers", "long-header"):
        check(r[seeds[name]]["error"] == "headers-too-large",
              f"{name}: error headers-too-large ({r[seeds[name]]['error']})")
    loop = [x for x in recs if "/fault/loop" in x["url"]]
    check(len(loop) == 2 and all(x["status"] == 302 for x in loop),
          f"redirect loop: each URL fetched once, then dedup ends it ({len(loop)} records)")
    chain = [x for x in recs if "/fault/redirect/" in x["url"]]
    errs = [x for x in chain if x["error"] == "too-many-redirects"]
    check(len(chain) == 11 and len(errs) == 1,
          f"redirect chain: 10 redirects followed, the 11th refused ({len(chain)} records)")
    check(all(x["depth"] == 0 for x in chain), "redirect targets keep the depth of their source")


uvtest.main(test)
