"""Address literals skip DNS in both engines (issue 15): testweb listens on
[::1] and on 127.0.0.1, and a crawl of http://[::1]:PORT/ and of
http://127.0.0.1:PORT/ must fetch each (a status from testweb, no error),
with testweb's log showing the request and, in the loop engine, no DNS
query sent. Before the fix the loop engine handed "[::1]" to c-ares and
recorded "error":"dns" without connecting."""
import uvtest
from uvtest import Testweb, check, run_crawl


def crawl_literal(a, listen, url_host):
    with Testweb(a.testweb, ["--hosts", "1", "--pages", "3"], listen=listen) as tw:
        url = f"http://{url_host}:{tw.port}/"
        rc, recs, stats, err = run_crawl(a.uvcrawl, ["--robots", "off", "-d", "0", "-q", url],
                                         a.engine, timeout=60)
        log = tw.stop_and_read_log()
    # testweb serves hNNNN.test names only: an address gets its 404, and a
    # crawl whose one seed got a 4xx exits 3 (no seed could be fetched).
    check(rc == 3, f"{url}: exit 3 ({rc}: {err.strip()[-300:]})")
    check(len(recs) == 1 and recs[0]["url"] == url, f"{url}: one record ({recs})")
    r = recs[0]
    check(r["error"] is None and r["status"] == 404,
          f"{url}: fetched, not failed (status {r['status']}, error {r['error']})")
    check(len(log) == 1 and log[0]["path"] == "/", f"{url}: testweb saw the request ({log})")
    if a.engine == "loop":
        check(stats["dns_queries"] == 0, f"{url}: no DNS query ({stats['dns_queries']})")


def test():
    a = uvtest.parse_args()
    crawl_literal(a, "[::1]:0", "[::1]")
    crawl_literal(a, "127.0.0.1:0", "127.0.0.1")


uvtest.main(test)
