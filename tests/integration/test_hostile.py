"""Hostile servers and crawler traps: huge headers, an endless body, endless
redirects, a gzip bomb, a slow trickle and binary disguised as HTML end with
a record each, no crash, and bounded memory: the crawler's peak RSS (wait4's
ru_maxrss) within 32 MiB of a one-page crawl's. --max-pages-per-host gives
exactly the cap on each of 4 hosts; URL-length and repeated-segment limits
refuse what they should and count it."""
import collections

import uvtest
from uvtest import Testweb, check, run_crawl, run_crawl_rusage, url_key

MAX_BODY = 2 << 20
# Peak RSS of the hostile crawl over a one-page crawl's, at most: a few
# --max-body buffers (ASan's quarantine and shadow included). Without the
# cut, the gzip bomb alone (1 GiB decoded) or the endless body would blow
# far past it.
RSS_SLACK_KIB = 16 * MAX_BODY // 1024


def test():
    a = uvtest.parse_args()
    with Testweb(a.testweb, ["--hosts", "1", "--pages", "3"]) as tw:
        rc, recs, _, err, base_kib = run_crawl_rusage(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--robots", "off", "-d", "0", "-q", tw.url()],
            a.engine, timeout=120)
    check(rc == 0 and len(recs) == 1, f"baseline: one page, peak RSS {base_kib} KiB ({rc})")
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
        rc, recs, stats, err, peak_kib = run_crawl_rusage(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--robots", "off", "--rate", "0", "--retries", "0",
            "--per-host", "16", "--max-body", str(MAX_BODY), "--timeout", "40", "-d", "0", "-q"]
            + list(seeds.values()), a.engine, timeout=180)
    check(rc == 0, f"crawl completes ({rc}: {err.strip()[-300:]})")
    check(peak_kib - base_kib <= RSS_SLACK_KIB,
          f"bounded memory: peak RSS {peak_kib} KiB, {peak_kib - base_kib} KiB over the "
          f"one-page crawl (at most {RSS_SLACK_KIB})")
    by = {r["url"]: r for r in recs}
    check(all(u in by for u in seeds.values()), "every hostile URL has a record")
    check(by[seeds["headers"]]["error"] == "headers-too-large", "huge headers: cut off")
    for name in ("endless", "bomb"):  # the bomb's bytes are counted decoded
        x = by[seeds[name]]
        check(x["error"] is None and x.get("truncated") is True and x["bytes"] == MAX_BODY,
              f"{name}: cut at --max-body and marked truncated ({x})")
    check(by[seeds["trickle"]]["error"] == "timeout", "slow trickle (64 B/s): cut off")
    chain = [r for r in recs if "/fault/redirect/" in r["url"]]
    check(len(chain) == 11 and chain[-1]["error"] == "too-many-redirects" if chain else False,
          f"endless redirects: stopped after --max-redirects ({len(chain)} records)")
    check(by[seeds["binary"]]["status"] == 200, "binary served as HTML: parsed without harm")
    check(by[seeds["wrong-type"]]["links"] is None, "HTML served as image/png: not parsed")

    # --max-pages-per-host on several hosts, each with more pages than the cap.
    with Testweb(a.testweb, ["--hosts", "4", "--pages", "60", "--links", "10", "--cross", "30",
                             "--broken", "0"]) as tw:
        rc, recs, stats, _ = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--robots", "off", "--rate", "0", "--scope", "any",
            "--per-host", "4", "--max-pages-per-host", "15", "-q", tw.url()], a.engine,
            timeout=120)
        check(rc == 0, "per-host cap: crawl completes")
        per_host = collections.Counter(url_key(r["url"])[0] for r in recs)
        check(len(per_host) == 4 and all(n == 15 for n in per_host.values()),
              f"--max-pages-per-host 15: exactly 15 pages on each of 4 hosts ({dict(per_host)})")
        check(stats["skipped"]["max_pages_per_host"] > 0, "per-host cap refusals are counted")

    with Testweb(a.testweb, ["--hosts", "1", "--pages", "60", "--links", "10"]) as tw:

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
