"""Sitemaps end to end, on a loopback server this test runs: robots.txt
names a sitemap index, which names a plain urlset and a gzip'd one
(served as application/gzip, no Content-Encoding); the urlsets list pages
that no page links to ("orphans"), and one URL on another host.

- Seeded with "/" only, the crawl fetches robots.txt, the index, both
  urlsets and every orphan page: exactly the set the sitemaps name on the
  seed's host (the other host is out of scope), each page at depth 1 with
  its sitemap as parent; the sitemaps' records list their URLs as links.
- --sitemaps off: the same crawl fetches "/" and robots.txt only.
- --sitemap URL (with --robots off and no seed URL): starts from the
  index and reaches the same pages.
- A sitemap that is not XML is a record with "links":0; the crawl goes on.
"""
import gzip
import os
import shutil
import tempfile
import http.server
import threading

import uvtest
from uvtest import check, run_crawl

ORPHANS = [f"/orphan/{i}.html" for i in range(1, 13)]


def urlset(paths, port):
    locs = "".join(f"<url><loc>http://sm.test:{port}{p}</loc><priority>0.5</priority></url>"
                   for p in paths)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns='
            f'"http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>').encode()


class Site:
    def __init__(self):
        self.served = []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                site.served.append(self.path)
                port = self.server.server_address[1]
                body, ctype = site.route(self.path, port)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]

    def route(self, path, port):
        if path == "/robots.txt":
            return (b"User-agent: *\nDisallow: /private/\n"
                    b"Sitemap: /sitemap_index.xml\n", "text/plain")
        if path == "/sitemap_index.xml":
            return (f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/'
                    f'schemas/sitemap/0.9"><sitemap><loc>http://sm.test:{port}/sm1.xml</loc>'
                    f'</sitemap><sitemap><loc>/sm2.xml.gz</loc></sitemap>'
                    f'<sitemap><loc>/broken.xml</loc></sitemap></sitemapindex>').encode(), \
                "application/xml"
        if path == "/sm1.xml":
            return urlset(ORPHANS[:6] + ["/private/x.html"], port), "application/xml"
        if path == "/sm2.xml.gz":
            body = urlset(ORPHANS[6:], port).replace(
                b"</urlset>", f"<url><loc>http://other.test:{port}/o.html</loc></url>"
                              "</urlset>".encode())
            return gzip.compress(body), "application/gzip"
        if path == "/broken.xml":
            return b"this is not xml <", "application/xml"
        if path == "/" or path in ORPHANS or path == "/o.html":
            return b"<html><body><p>no links here</p></body></html>", "text/html"
        return None, None

    def __enter__(self):
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.srv.shutdown()
        self.srv.server_close()

    def url(self, path="/"):
        return f"http://sm.test:{self.port}{path}"

    def resolve(self):
        return ["--resolve", f"sm.test:{self.port}:127.0.0.1",
                "--resolve", f"other.test:{self.port}:127.0.0.1"]


def test():
    a = uvtest.parse_args()
    with Site() as site:
        rc, recs, stats, err = run_crawl(a.uvcrawl, site.resolve() + [
            "--rate", "0", "-q", site.url()], a.engine)
        served_on = list(site.served)
        site.served.clear()
        rc_off, recs_off, _, err_off = run_crawl(a.uvcrawl, site.resolve() + [
            "--rate", "0", "-q", "--sitemaps", "off", site.url()], a.engine)
        served_off = list(site.served)
        site.served.clear()
        rc_seed, recs_seed, _, err_seed = run_crawl(a.uvcrawl, site.resolve() + [
            "--rate", "0", "-q", "--robots", "off", "--sitemap",
            site.url("/sitemap_index.xml")], a.engine)
        # With --warc curl hands over the bytes as received: sitemaps are
        # kept and parsed all the same.
        warc_dir = tempfile.mkdtemp(prefix="uvsitemap-warc-")
        rc_warc, recs_warc, _, err_warc = run_crawl(a.uvcrawl, site.resolve() + [
            "--rate", "0", "-q", "--warc", os.path.join(warc_dir, "crawl"), site.url()],
            a.engine)
        shutil.rmtree(warc_dir, ignore_errors=True)
    sitemaps = ["/sitemap_index.xml", "/sm1.xml", "/sm2.xml.gz", "/broken.xml"]
    by_path = {uvtest.url_key(r["url"])[1]: r for r in recs}
    want = set(["/"] + sitemaps + ORPHANS + ["/private/x.html"])
    check(rc == 0 and set(by_path) == want,
          f"robots.txt Sitemap: the crawl reached the index, both urlsets and all "
          f"{len(ORPHANS)} orphan pages ({rc}: missing {sorted(want - set(by_path))}, "
          f"extra {sorted(set(by_path) - want)}; {err.strip()[-200:]})")
    check(by_path["/private/x.html"]["error"] == "robots" and
          "/private/x.html" not in served_on,
          "robots.txt: a sitemap URL it disallows is refused, not fetched")
    check(all(by_path[p]["depth"] == 1 and by_path[p]["parent"] in
              (site.url("/sm1.xml"), site.url("/sm2.xml.gz")) for p in ORPHANS),
          "sitemap pages: depth 1, their sitemap as parent")
    check(by_path["/sm1.xml"]["links"] == 7 and by_path["/sm2.xml.gz"]["links"] == 7 and
          by_path["/sitemap_index.xml"]["links"] == 3,
          "sitemap records count their URLs as links (the gzip'd one too)")
    check(by_path["/broken.xml"]["status"] == 200 and by_path["/broken.xml"]["links"] == 0,
          "a sitemap that is not XML: a record with links 0, the crawl went on")
    check(stats["skipped"]["scope"] >= 1 and not any("other.test" in r["url"] for r in recs),
          "the other host's URL in a sitemap is out of the seed's scope")
    check(served_on.count("/sm1.xml") == 1 and served_on.count("/robots.txt") == 1,
          "each sitemap fetched once")

    warc_links = {uvtest.url_key(r["url"])[1]: r["links"] for r in recs_warc}
    check(rc_warc == 0 and warc_links == {p: r["links"] for p, r in by_path.items()},
          f"--warc: the same records, sitemaps parsed ({rc_warc}: {err_warc.strip()[-200:]})")

    check(rc_off == 0 and sorted(served_off) == ["/", "/robots.txt"],
          f"--sitemaps off: only / and robots.txt requested ({served_off})")

    paths_seed = set(uvtest.url_key(r["url"])[1] for r in recs_seed)
    want_seed = want - {"/"}
    check(rc_seed == 0 and paths_seed == want_seed,
          f"--sitemap URL: the same pages from the index alone ({rc_seed}: missing "
          f"{sorted(want_seed - paths_seed)}; {err_seed.strip()[-200:]})")


uvtest.main(test)
