"""Hostile servers and crawler traps: huge headers, an endless body, endless
redirects, a gzip bomb, a slow trickle and binary disguised as HTML end with
a record each, no crash, bounded memory; URL-length, repeated-segment and
per-host page limits refuse what they should and count it."""
import uvtest
from uvtest import Testweb, check, run_crawl


def test():
    a = uvtest.parse_args()
    with Testweb(a.testweb, ["--hosts", "2", "--pages", "40", "--links", "8", "--slow-bps", "64",
                             "--broken", "0"]) as tw:
        seeds = {
            "headers": tw.url(1, "/fault/huge-headers"),
            "endless": tw.url(1, "/fault/endless"),
            "redirects": tw.url(1, "/fault/redirect/40"),
            "bomb": tw.url(1, "/fault/bomb"),
            "trickle": tw.url(1, "/fault/slow"),
            "binary": tw.url(1, "/fault/binary"),
            "wrong-type": tw.url(1, "/fault/wrong-type"),
        }
        rc, recs, stats, err = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--robots", "off", "--rate", "0", "--retries", "0",
            "--per-host", "16", "--max-body", "2M", "--timeout", "40", "-d", "0", "-q"]
            + list(seeds.values()), a.engine, timeout=180)
    check(rc == 0, f"crawl completes ({rc}: {err.strip()[-300:]})")
    by = {r["url"]: r for r in recs}
    check(all(u in by for u in seeds.values()), "every hostile URL has a record")
    check(by[seeds["headers"]]["error"] == "headers-too-large", "huge headers: cut off")
    check(by[seeds["endless"]]["error"] == "max-body", "endless body: cut at --max-body")
    check(by[seeds["bomb"]]["error"] == "max-body" and by[seeds["bomb"]]["bytes"] <= 2 << 20,
          "gzip bomb: decoded bytes cut at --max-body")
    check(by[seeds["trickle"]]["error"] == "timeout", "slow trickle (64 B/s): cut off")
    chain = [r for r in recs if "/fault/redirect/" in r["url"]]
    check(len(chain) == 11 and chain[-1]["error"] == "too-many-redirects" if chain else False,
          f"endless redirects: stopped after --max-redirects ({len(chain)} records)")
    check(by[seeds["binary"]]["status"] == 200, "binary served as HTML: parsed without harm")
    check(by[seeds["wrong-type"]]["links"] is None, "HTML served as image/png: not parsed")

    with Testweb(a.testweb, ["--hosts", "1", "--pages", "60", "--links", "10"]) as tw:
        rc, recs, stats, _ = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--robots", "off", "--rate", "0",
            "--max-pages-per-host", "15", "-q", tw.url()], a.engine, timeout=120)
        check(rc == 0, "per-host cap: crawl completes")
        check(len(recs) == 15, f"--max-pages-per-host 15: 15 pages ({len(recs)})")
        check(stats["skipped"]["max_pages_per_host"] > 0, "per-host cap refusals are counted")

        # /fault/trap/ links to a/ and b/ below itself, forever.
        rc, recs, stats, _ = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--robots", "off", "--rate", "0",
            "-q", tw.url(1, "/fault/trap/")], a.engine, timeout=120)
        worst = max(max(r["url"].count("/a/"), r["url"].count("/b/")) for r in recs)
        check(rc == 0 and stats["skipped"]["repeated_segment"] > 0 and len(recs) < 200,
              f"trap: the repeated-segment guard ends it ({len(recs)} pages, "
              f"{stats['skipped']['repeated_segment']} refused)")
        check(worst <= 3, "trap: no page repeats a segment more than 3 times")

        limit = len(tw.url(1, "/fault/trap/")) + 8
        rc, recs, stats, _ = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--robots", "off", "--rate", "0",
            "--max-url-length", str(limit), "-q", tw.url(1, "/fault/trap/")],
            a.engine, timeout=120)
        check(rc == 0 and stats["skipped"]["url_length"] > 0 and
              all(len(r["url"]) <= limit for r in recs),
              f"--max-url-length {limit}: longer links refused and counted "
              f"({stats['skipped']['url_length']})")

uvtest.main(test)
