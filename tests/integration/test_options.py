"""Options wget2 and curl users reach for (issue 14), end to end.

- --header 'Name: value' (repeatable): a server on loopback that keeps each
  request's headers sees both lines on every request (robots.txt too), and
  a --header User-Agent replaces the default; a header without a name or
  with a line break is refused with exit 2.
- --proxy URL: a crawl through a real tinyproxy (Debian's package, started
  in the foreground on a free loopback port and stopped by its PID) reaches
  testweb under the name "localhost", which the proxy resolves itself
  (testweb --localhost 1); every page the crawl recorded is in tinyproxy's
  log and testweb served exactly as many requests. A proxy that is not
  there makes records with an error, not a crash.
- --reject html: no .html URL is requested from testweb (every page but
  the hosts' "/" has one), the links are counted as skipped by extension,
  and the "/" pages are crawled.
- --accept text/html with testweb serving a share of pages as
  application/octet-stream (--fault-wrong-type): each of those is a record
  with its status, its type, "error":"rejected-type" and 0 bytes (the body
  was not read); the HTML pages are crawled as before. --reject
  application/octet-stream does the same.
"""
import http.server
import os
import subprocess
import tempfile
import threading

import uvtest
from uvtest import Testweb, check, run_crawl, stop
from tlsweb import free_port, start_listening


class Quiet(http.server.ThreadingHTTPServer):
    daemon_threads = True


def check_header(a):
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, dict(self.headers)))
            body = b'<html><body><a href="/next.html">n</a></body></html>'
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = Quiet(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        port = srv.server_address[1]
        rc, recs, _, err = run_crawl(a.uvcrawl, [
            "--resolve", f"hdr.test:{port}:127.0.0.1", "-q", "--rate", "0",
            "--header", "X-Uvtest: one two", "--header", "Accept-Language: fr",
            "--header", "User-Agent: tester/1.0", f"http://hdr.test:{port}/"], a.engine)
    finally:
        srv.shutdown()
        srv.server_close()
    paths = sorted(p for p, _ in seen)
    check(rc == 0 and paths == ["/", "/next.html", "/robots.txt"],
          f"--header: the crawl ran ({rc}: {paths} {err.strip()[-200:]})")
    for path, headers in seen:
        check(headers.get("X-Uvtest") == "one two" and headers.get("Accept-Language") == "fr"
              and headers.get("User-Agent") == "tester/1.0",
              f"--header: {path} carried both headers and the replaced User-Agent "
              f"({ {k: v for k, v in headers.items() if k != 'Host'} })")
    for bad in (": novalue", "No-colon", "X-A: b\r\nX-Evil: c", "Bad Name: x"):
        p = subprocess.run([a.uvcrawl, "--header", bad, "http://h.test/"], capture_output=True,
                           text=True, timeout=30)
        check(p.returncode == 2 and "--header" in p.stderr,
              f"--header {bad!r}: exit 2 with a line naming --header ({p.returncode})")


class Tinyproxy:
    """tinyproxy in the foreground (-d) on a free port of 127.0.0.1, allowing
    127.0.0.1 only, logging to a temporary file; stopped by its PID."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="uvtest-tinyproxy-")
        self.port = free_port()
        self.log = os.path.join(self.dir, "tinyproxy.log")
        self.conf = os.path.join(self.dir, "tinyproxy.conf")
        with open(self.conf, "w") as f:
            f.write(f"Port {self.port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 64\n"
                    f"LogFile \"{self.log}\"\nLogLevel Info\nAllow 127.0.0.1\n")
        self.proc = None

    def __enter__(self):
        self.proc = start_listening(["tinyproxy", "-d", "-c", self.conf], (self.port,))
        return self

    def __exit__(self, *exc):
        stop(self.proc, timeout=10)

    def requests(self):
        """The absolute URLs tinyproxy logged as requested."""
        urls = []
        with open(self.log, errors="replace") as f:
            for line in f:
                # "... Request (file descriptor 7): GET http://localhost:N/ HTTP/1.1"
                if "Request (file descriptor" in line:
                    parts = line.split("): ", 1)[1].split()
                    if len(parts) >= 2:
                        urls.append(parts[1])
        return urls


def check_proxy(a):
    site = ["--seed", "4", "--hosts", "2", "--pages", "20", "--links", "6", "--localhost", "1"]
    with Testweb(a.testweb, site) as tw, Tinyproxy() as proxy:
        seed = f"http://localhost:{tw.port}/"
        rc, recs, _, err = run_crawl(a.uvcrawl, [
            "--proxy", f"http://127.0.0.1:{proxy.port}", "--rate", "0", "-q", seed], a.engine)
        proxied = proxy.requests()
        log = tw.stop_and_read_log()
    check(rc == 0 and len(recs) >= 5 and all(r["status"] for r in recs),
          f"--proxy: crawl through tinyproxy exits 0 with {len(recs)} records, each with a "
          f"status ({rc}: {err.strip()[-200:]})")
    missing = [r["url"] for r in recs if r["url"] not in proxied]
    check(not missing, f"--proxy: every recorded URL went through tinyproxy "
                       f"({len(proxied)} logged; missing {missing[:3]})")
    check(len(log) == len(recs) + 1 and len(proxied) == len(log),
          f"--proxy: testweb served {len(log)} requests (pages and robots.txt), all of them "
          f"proxied ({len(proxied)})")
    dead = free_port()
    rc, recs, _, err = run_crawl(a.uvcrawl, [
        "--proxy", f"http://127.0.0.1:{dead}", "--retries", "0", "-q",
        "http://localhost:1/"], a.engine, timeout=60)
    check(rc == 3 and len(recs) == 1 and recs[0]["error"] is not None,
          f"--proxy to a closed port: a record with an error, exit 3 "
          f"({rc}: {[r['error'] for r in recs]})")


def check_accept_reject(a):
    site = ["--seed", "8", "--hosts", "3", "--pages", "30", "--links", "8", "--cross", "40",
            "--page-bytes", "20000", "--fault-wrong-type", "30"]
    with Testweb(a.testweb, site) as tw:
        common = ["--resolve", tw.resolve_arg(), "--scope", "any", "--rate", "0", "-q",
                  "--robots", "off"]
        rc, recs, stats, err = run_crawl(a.uvcrawl, common + ["--reject", "htm,html",
                                                              tw.url()], a.engine)
        log = tw.stop_and_read_log()
    paths = [r["path"] for r in log]
    check(rc == 0 and len(recs) >= 2 and all(p == "/" for p in paths),
          f"--reject html: only the hosts' / pages requested ({len(paths)}: "
          f"{sorted(set(paths))[:4]}; {rc}: {err.strip()[-200:]})")
    check(stats["skipped"]["extension"] > 0,
          f"--reject html: {stats['skipped']['extension']} links skipped by extension")

    for opt in (["--accept", "text/html"], ["--reject", "application/octet-stream"]):
        with Testweb(a.testweb, site) as tw:
            common = ["--resolve", tw.resolve_arg(), "--scope", "any", "--rate", "0", "-q",
                      "--robots", "off"]
            rc, recs, stats, err = run_crawl(a.uvcrawl, common + opt + [tw.url()], a.engine)
            log = tw.stop_and_read_log()
        wrong = [r for r in recs if r["content_type"] == "application/octet-stream"]
        html = [r for r in recs if (r["content_type"] or "").startswith("text/html")]
        check(rc == 0 and len(wrong) >= 5 and len(html) >= 20,
              f"{' '.join(opt)}: {len(html)} HTML pages and {len(wrong)} octet-stream ones "
              f"({rc}: {err.strip()[-200:]})")
        check(all(r["status"] == 200 and r["error"] == "rejected-type" and r["bytes"] == 0
                  for r in wrong),
              f"{' '.join(opt)}: each octet-stream page is a record with status 200, "
              f"error rejected-type and 0 bytes read")
        check(all(r["error"] is None and r["bytes"] > 10000 for r in html if r["status"] == 200),
              f"{' '.join(opt)}: the HTML pages are fetched whole")
        check(stats["errors_by_kind"]["rejected-type"] == len(wrong) and len(log) == len(recs),
              f"{' '.join(opt)}: counted as rejected-type; one request each")


def test():
    a = uvtest.parse_args()
    check_header(a)
    check_proxy(a)
    check_accept_reject(a)


uvtest.main(test)
