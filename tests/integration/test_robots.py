"""robots.txt end to end: Disallow rules with Allow overrides, '*' and '$'
are obeyed (denied URLs get an "error":"robots" record and are never
requested); Crawl-delay lowers the host's rate (seen in testweb's log); a
404 robots.txt allows everything; a 503 one (after its retries) fetches
nothing from the host; robots.txt behind a redirect is followed."""
import os
import tempfile

import uvtest
from uvtest import Testweb, check, run_crawl

RULES = """# test rules
User-agent: someotherbot
Disallow: /

User-agent: *
Disallow: /d1/
Allow: /d1/p11.html
Disallow: /*p2*.html$
Disallow: /d3
Crawl-delay: 0.5
"""


def denied(path):
    """The same rules, by hand, for the pages testweb serves."""
    if path == "/d1/p11.html":
        return False
    if path.startswith("/d1/") or path.startswith("/d3"):
        return True
    name = path.rsplit("/", 1)[-1]
    return name.startswith("p2") and name.endswith(".html")


def crawl(a, tw, extra=()):
    return run_crawl(a.uvcrawl, ["--resolve", tw.resolve_arg(), "--rate", "0", "--per-host", "4",
                                 "--retries", "1", "-q", *extra, tw.url()], a.engine, timeout=180)


def test():
    a = uvtest.parse_args()
    d = tempfile.mkdtemp(prefix="robots-")
    rules = os.path.join(d, "robots.txt")
    with open(rules, "w") as f:
        f.write(RULES)
    site = ["--seed", "8", "--hosts", "1", "--pages", "40", "--links", "10", "--broken", "0"]

    with Testweb(a.testweb, site + ["--robots", rules]) as tw:
        rc, recs, stats, _ = crawl(a, tw)
        log = tw.stop_and_read_log()
    check(rc == 0, "rules: crawl completes")
    paths = {r["url"].split(str(tw.port), 1)[1]: r for r in recs}
    wrong = [p for p, r in paths.items() if (r["error"] == "robots") != denied(p)]
    check(not wrong, f"rules: exactly the disallowed URLs are refused ({wrong[:5]})")
    check(any(r["error"] == "robots" for r in recs) and "/d1/p11.html" in paths,
          "rules: some refused, and Allow overrides a shorter Disallow")
    requested = [r["path"] for r in log]
    check(not [p for p in requested if p != "/robots.txt" and denied(p)],
          "rules: no refused URL was ever requested")
    arrivals = sorted(r["arrival_us"] for r in log if r["path"] != "/robots.txt")
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    check(len(gaps) > 5 and min(gaps) >= 450_000,
          f"Crawl-delay 0.5 s held between requests (smallest gap {min(gaps) / 1000:.0f} ms)")
    check(stats["errors_by_kind"]["robots"] > 0,
          "stats count robots refusals")

    small = ["--seed", "8", "--hosts", "1", "--pages", "10", "--links", "4", "--broken", "0"]
    with Testweb(a.testweb, small + ["--robots-status", "404"]) as tw:
        rc, recs, _, _ = crawl(a, tw)
        expected = tw.expect(-1, scope="host")
    check(rc == 0 and {r["url"] for r in recs} == expected and
          not any(r["error"] for r in recs), "404 robots.txt: everything fetched")

    with Testweb(a.testweb, small + ["--robots-status", "503"]) as tw:
        rc, recs, _, _ = crawl(a, tw)
        log = tw.stop_and_read_log()
    check(rc == 0 and len(recs) == 1 and recs[0]["error"] == "robots",
          f"503 robots.txt: the page is refused ({[r['error'] for r in recs]})")
    check([r["path"] for r in log] == ["/robots.txt", "/robots.txt"],
          f"503 robots.txt: retried once, no page requested ({[r['path'] for r in log]})")

    with Testweb(a.testweb, small + ["--robots", rules, "--robots-status", "301"]) as tw:
        rc, recs, _, _ = crawl(a, tw)
        log = tw.stop_and_read_log()
    check(rc == 0 and any(r["error"] == "robots" for r in recs),
          "robots.txt behind a redirect: its rules apply")
    check([r["path"] for r in log][:2] == ["/robots.txt", "/robots-moved.txt"],
          "robots.txt behind a redirect: the redirect was followed")


uvtest.main(test)
