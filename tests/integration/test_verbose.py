"""--record-headers and --verbose (issue 15): with --record-headers each
record that got a response carries the final response's Location,
Content-Length, Last-Modified and ETag, exactly as the server sent them
(only those present), and a record without a response has no "headers";
without the option no record has the key. With --verbose each refused or
failed URL gets one stderr line saying why (scope, 404, refused, robots
with its cause), duplicates none, and a password is masked there too."""
import http.server
import threading

import uvtest
from uvtest import check, run_crawl

ETAG = '"v1-abc"'
MODIFIED = "Tue, 01 Dec 2026 10:00:00 GMT"
PAGE = (b'<html><body><a href="/moved">m</a> <a href="/missing">x</a> '
        b'<a href="/moved">again</a> <a href="http://elsewhere.test/">out</a></body></html>')


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.send_header("ETag", ETAG)
            self.send_header("Last-Modified", MODIFIED)
            self.end_headers()
            self.wfile.write(PAGE)
        elif self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


def test():
    a = uvtest.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        port = srv.server_address[1]
        root = f"http://u:hush@site.test:{port}/"
        base = ["--resolve", f"site.test:{port}:127.0.0.1", "--resolve",
                f"gone.test:1:127.0.0.1", "--robots", "off", "--rate", "0"]
        rc, recs, _, err = run_crawl(a.uvcrawl, base + ["--record-headers", "-v", root,
                                                        "http://gone.test:1/"], a.engine)
        by = {r["url"].replace("u:*password*@", ""): r for r in recs}
        home, moved = by[f"http://site.test:{port}/"], by[f"http://site.test:{port}/moved"]
        check(rc == 0 and home["headers"] == {"content-length": str(len(PAGE)), "etag": ETAG,
                                              "last-modified": MODIFIED},
              f"the page's headers, as sent ({rc}: {home.get('headers')})")
        check(moved["headers"] == {"location": "/", "content-length": "0"},
              f"the redirect's headers ({moved.get('headers')})")
        check("headers" not in by["http://gone.test:1/"], "no response: no headers key")
        lines = err.strip().splitlines()
        want = [f"uvcrawl: fail http://u:*password*@site.test:{port}/missing: http 404",
                "uvcrawl: fail http://gone.test:1/: refused",
                "uvcrawl: skip http://elsewhere.test/: scope"]
        for w in want:
            check(lines.count(w) == 1, f"--verbose says '{w}' once ({lines})")
        check(not any("hush" in l for l in lines), "--verbose masks the password")
        check(not any("duplicate" in l for l in lines), "--verbose says nothing of duplicates")
        check(len([l for l in lines if l.startswith("uvcrawl: ")]) == len(want),
              f"--verbose: one line per refused or failed URL, no more ({lines})")

        rc, recs, _, err = run_crawl(a.uvcrawl, base + ["-q", root], a.engine)
        check(rc == 0 and recs and not any("headers" in r for r in recs) and err.strip() == "",
              "without the options: no headers key, nothing on stderr")
    finally:
        srv.shutdown()
        srv.server_close()


uvtest.main(test)
