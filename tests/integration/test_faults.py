"""Faults: 5xx, resets, timeouts, bodies over --max-body (cut there, parsed,
marked truncated, whether the size was announced or not), redirect chains
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
    for name in ("endless", "huge"):  # chunked without end; a Content-Length of 8 MiB
        x = r[seeds[name]]
        check(x["error"] is None and x["status"] == 200 and x.get("truncated") is True and
              x["bytes"] == 1 << 20,
              f"{name} body: cut at 1 MiB, parsed, marked truncated ({x})")
    check(stats["truncated"] == 2, f"stats count the truncated bodies ({stats['truncated']})")
    check(not any(x.get("truncated") for u, x in r.items() if u not in
                  (seeds["endless"], seeds["huge"])), "no other record is truncated")
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


    # What arrived before the cut is parsed: links on a page cut at 4 KiB.
    with Testweb(a.testweb, ["--hosts", "1", "--pages", "5", "--links", "4",
                             "--page-bytes", "30000"]) as tw:
        rc, recs, stats, _ = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--robots", "off", "--rate", "0", "--max-body", "4K",
            "-d", "1", "-q", tw.url()], a.engine, timeout=60)
    seed = [x for x in recs if x["url"] == tw.url()]
    check(rc == 0 and seed and seed[0].get("truncated") and seed[0]["bytes"] == 4096 and
          seed[0]["links"] and len(recs) > 1,
          f"a page cut at --max-body is parsed up to the cut ({seed})")


uvtest.main(test)
