"""robots.txt end to end: Disallow rules with Allow overrides, '*' and '$'
are obeyed (denied URLs get an "error":"robots" record and are never
requested); Crawl-delay lowers the host's rate (seen in testweb's log); a
404 robots.txt allows everything; a 503 one (after its retries) fetches
nothing from the host; robots.txt behind a redirect is followed. A robots.txt
larger than --max-body is read up to its own 500 KiB bound and obeyed (RFC
9309 2.5); pages held back by an unreachable robots.txt (503, a TLS server
whose certificate fails, a server that never answers) carry the cause."""
import http.server
import os
import socket
import ssl
import subprocess
import tempfile
import threading

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
    check(rc == 3 and len(recs) == 1 and recs[0]["error"] == "robots",
          f"503 robots.txt: the page is refused, no seed fetched: exit 3 "
          f"({rc}, {[r['error'] for r in recs]})")
    check(recs[0].get("cause") == "http-503",
          f"503 robots.txt: the record says why ({recs[0].get('cause')})")
    check([r["path"] for r in log] == ["/robots.txt", "/robots.txt"],
          f"503 robots.txt: retried once, no page requested ({[r['path'] for r in log]})")

    with Testweb(a.testweb, small + ["--robots", rules, "--robots-status", "301"]) as tw:
        rc, recs, _, _ = crawl(a, tw)
        log = tw.stop_and_read_log()
    check(rc == 0 and any(r["error"] == "robots" for r in recs),
          "robots.txt behind a redirect: its rules apply")
    check([r["path"] for r in log][:2] == ["/robots.txt", "/robots-moved.txt"],
          "robots.txt behind a redirect: the redirect was followed")

    big_robots(a, d, small)
    unreachable_robots(a, d)


BIG_HEAD = "User-agent: *\nDisallow: /d1/\n"
BIG_TAIL = "Disallow: /\n"  # past 500 KiB: must not count


def big_robots(a, d, small):
    """A 600 KiB robots.txt with --max-body 64K: its first 500 KiB are parsed."""
    path = os.path.join(d, "big-robots.txt")
    with open(path, "w") as f:
        f.write(BIG_HEAD)
        f.write(("# padding " + "x" * 89 + "\n") * (600 * 1024 // 100))
        f.write(BIG_TAIL)
    with Testweb(a.testweb, small + ["--robots", path]) as tw:
        rc, recs, _, err = crawl(a, tw, ["--max-body", "64K"])
    check(rc == 0, f"big robots.txt: crawl completes ({rc}: {err.strip()[-200:]})")
    by_path = {r["url"].split(str(tw.port), 1)[1]: r for r in recs}
    wrong = [p for p, r in by_path.items() if (r["error"] == "robots") != p.startswith("/d1/")]
    check(not wrong and by_path.get("/", {}).get("status") == 200,
          f"big robots.txt: its early rule holds, the rule past 500 KiB does not ({wrong[:5]})")


def self_signed(d):
    key, crt = os.path.join(d, "tls.key"), os.path.join(d, "tls.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", key, "-out", crt, "-subj", "/CN=tls.test"],
                   check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    return ctx


class Quiet(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the crawler hangs up on the certificate: expected


def refused_with_cause(a, url, resolve, cause, what):
    rc, recs, _, err = run_crawl(a.uvcrawl, ["--resolve", resolve, "--retries", "0",
                                             "--timeout", "1", "-q", url], a.engine, timeout=60)
    check(rc == 3 and len(recs) == 1, f"{what}: one record, exit 3 ({rc}: {err.strip()[-200:]})")
    check(recs[0]["error"] == "robots" and recs[0].get("cause") == cause,
          f"{what}: the page says robots and why ({recs[0]})")


def unreachable_robots(a, d):
    served = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            served.append(self.path)
            self.send_error(404)

        def log_message(self, *args):
            pass

    srv = Quiet(("127.0.0.1", 0), Handler)
    srv.socket = self_signed(d).wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        port = srv.server_address[1]
        # A self-signed certificate: its CA is unknown (issue 14 names it).
        refused_with_cause(a, f"https://tls.test:{port}/", f"tls.test:{port}:127.0.0.1",
                           "cert-unknown-ca",
                           "self-signed TLS")
    finally:
        srv.shutdown()
        srv.server_close()
    check(not served, f"self-signed TLS: no request got through ({served})")

    # Listening, never accepting: the kernel completes the handshake, nobody answers.
    mute = socket.socket()
    try:
        mute.bind(("127.0.0.1", 0))
        mute.listen(8)
        port = mute.getsockname()[1]
        refused_with_cause(a, f"http://mute.test:{port}/", f"mute.test:{port}:127.0.0.1",
                           "timeout", "robots.txt that never answers")
    finally:
        mute.close()


uvtest.main(test)
