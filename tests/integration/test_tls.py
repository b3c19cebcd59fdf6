"""HTTPS and HTTP/2 end to end: nginx (TLS 1.3, HTTP/2 by ALPN) in front of
testweb, with a certificate from a CA this test makes (tlsweb.py).

- Coverage: a crawl through nginx with --ca-cert fetches exactly the URLs
  testweb's --expect lists (every one https on nginx's port), and every
  record says "http_version":"2" and "tls_version":"TLSv1.3"; nginx's log
  agrees (HTTP/2.0, TLSv1.3). --http1.1 gets HTTP/1.1 (records and nginx).
- TLS sessions: with --http1.1 and --per-host 4 a host gets several
  connections; stats count the handshakes, and some are resumptions (the
  loop engine shares sessions through a curl share handle, the threads
  engine through its workers' share).
- Per-host cap under multiplexing: --rate 0 --per-host 3 with 200 ms
  latency, 6 seeds a host: testweb sees at most 3 requests of a host at
  once, and exactly 3 (the cap is what binds). Loop engine: nginx's log
  shows one connection carrying several requests at once (HTTP/2 streams),
  so the cap held on streams, not only on connections.
- Rate under multiplexing: --rate 5 --burst 2, --per-host 8: in every
  window of a host's requests as nginx received them, at most
  burst + rate * t (windows start at no connection's first request: that
  one waited for the TLS handshake after it left the crawler).
- Certificate errors: a seed whose certificate names other hosts, one that
  expired, and one from a CA the crawler was not told of become records with
  "error" cert-wrong-name, cert-expired and cert-unknown-ca; the crawl exits
  3 (no seed fetched), never crashes.
- --insecure fetches the same seeds (status 200) and says so on stderr,
  even with --quiet.
"""
import collections

import uvtest
from uvtest import Testweb, check, max_overlap, run_crawl
from tlsweb import Certs, Nginx, free_port


def site(nginx_port, extra=()):
    return ["--scheme", "https", "--link-port", str(nginx_port)] + list(extra)


def base_args(certs, ngx):
    return ["--ca-cert", certs.ca, "-q"] + ngx.resolve_args()


def by_host(rows, key="host"):
    hosts = collections.defaultdict(list)
    for row in rows:
        hosts[row[key]].append(row)
    return hosts


def check_coverage(a, certs):
    port = free_port()
    shape = site(port, ["--seed", "3", "--hosts", "4", "--pages", "40", "--links", "8",
                        "--cross", "30", "--latency", "5"])
    with Testweb(a.testweb, shape) as tw, Nginx(tw.port, certs, port) as ngx:
        want = tw.expect(-1, seeds=[ngx.url()])
        rc, recs, stats, err = run_crawl(a.uvcrawl, base_args(certs, ngx) + [
            "--scope", "any", "--robots", "off", "--rate", "0", "--per-host", "4",
            ngx.url()], a.engine)
        h2_log = ngx.read_log()
        rc1, recs1, stats1, err1 = run_crawl(a.uvcrawl, base_args(certs, ngx) + [
            "--http1.1", "--scope", "any", "--robots", "off", "--rate", "0", "--per-host", "4",
            ngx.url()], a.engine)
        h1_log = ngx.read_log()[len(h2_log):]
    check(rc == 0, f"https: crawl exits 0 ({rc}: {err.strip()[-300:]})")
    got = set(r["url"] for r in recs)
    check(len(want) > 100 and all(u.startswith(f"https://") and f":{port}/" in u for u in want),
          f"https: testweb's --expect lists {len(want)} https URLs on nginx's port")
    check(got == want, f"https: the crawl fetched exactly --expect's {len(want)} URLs "
                       f"(missing {sorted(want - got)[:3]}, extra {sorted(got - want)[:3]})")
    check(all(r.get("http_version") == "2" and r.get("tls_version") == "TLSv1.3"
              for r in recs if r["status"] is not None),
          "https: every record says http_version 2 and tls_version TLSv1.3")
    check(h2_log and all(r["protocol"] == "HTTP/2.0" and r["ssl_protocol"] == "TLSv1.3"
                         for r in h2_log),
          f"https: nginx served all {len(h2_log)} requests over HTTP/2.0 and TLSv1.3")
    check(stats["tls_handshakes"] >= 4 and
          sum(1 for r in recs if r.get("tls_handshake")) == stats["tls_handshakes"],
          f"https: {stats['tls_handshakes']} TLS handshakes counted, one record says each")
    if a.engine == "loop":  # PIPEWAIT: a host's first transfers wait for ALPN's answer
        check(stats["tls_handshakes"] == 4 == len(set(r["connection"] for r in h2_log)),
              f"https: one HTTP/2 connection and handshake per host "
              f"({stats['tls_handshakes']} for 4 hosts)")

    check(rc1 == 0 and set(r["url"] for r in recs1) == want,
          f"--http1.1: exits 0, same {len(want)} URLs ({rc1}: {err1.strip()[-200:]})")
    check(all(r.get("http_version") == "1.1" for r in recs1 if r["status"] is not None) and
          h1_log and all(r["protocol"] == "HTTP/1.1" for r in h1_log),
          f"--http1.1: records and nginx's log ({len(h1_log)} requests) say HTTP/1.1")
    conns = len(set(r["connection"] for r in h1_log))
    reused = len(set(r["connection"] for r in h1_log if r["ssl_reused"] == "r"))
    check(conns > 4 and stats1["tls_handshakes"] == conns,
          f"--http1.1: {conns} connections for 4 hosts, each a counted handshake "
          f"({stats1['tls_handshakes']})")
    check(stats1["tls_resumed"] > 0 and reused == stats1["tls_resumed"],
          f"--http1.1: TLS sessions reused across a host's connections: "
          f"{stats1['tls_resumed']} resumptions, nginx agrees ({reused} resumed connections)")


def check_per_host(a, certs, cap=3, latency_ms=200):
    port = free_port()
    shape = site(port, ["--seed", "6", "--hosts", "4", "--pages", "12", "--links", "6",
                        "--cross", "30", "--broken", "0", "--latency", str(latency_ms)])
    with Testweb(a.testweb, shape) as tw, Nginx(tw.port, certs, port) as ngx:
        seeds = [ngx.url(h, "/" if p == 0 else f"/d{p % 10}/p{p}.html")
                 for h in range(1, 5) for p in range(6)]
        rc, recs, _, err = run_crawl(a.uvcrawl, base_args(certs, ngx) + [
            "--scope", "any", "--robots", "off", "-c", "100", "--per-host", str(cap),
            "--rate", "0"] + seeds, a.engine)
        nlog = ngx.read_log()
        log = tw.stop_and_read_log()
    check(rc == 0, f"per-host over HTTP/2: crawl exits 0 ({rc}: {err.strip()[-200:]})")
    check(len(log) == len(recs) and all(r.get("http_version") == "2" for r in recs),
          f"per-host over HTTP/2: {len(log)} requests, one record each, all HTTP/2")
    for host, rows in sorted(by_host(log).items()):
        peak = max_overlap([(r["arrival_us"], r["done_us"]) for r in rows])
        check(peak == cap, f"per-host over HTTP/2: {host}: peak {peak} requests at once "
                           f"== --per-host {cap}")
    # Streams at once on one connection, from nginx's end times and
    # durations; both have millisecond resolution, so each span loses 2 ms
    # at either end (a stream that starts in the millisecond another ends
    # does not overlap it; a 200 ms response still does).
    streams = 0
    for rows in by_host(nlog, "connection").values():
        spans = [(float(r["msec"]) - float(r["request_time"]) + 0.002, float(r["msec"]) - 0.002)
                 for r in rows]
        streams = max(streams, max_overlap(spans))
    if a.engine == "loop":
        check(2 <= streams <= cap, f"per-host over HTTP/2: curl multiplexed ({streams} streams "
                                   f"at once on one connection, at most --per-host {cap})")
    else:
        check(streams >= 1, f"per-host over HTTP/2 (threads: a connection per worker, "
                            f"{streams} stream(s) at once on one)")


RATE, BURST = 5.0, 2


def check_rate(a, certs):
    """Judged on nginx's log, the first hop: a request starts when nginx has
    read it (end time minus request_time, 1 ms resolution), which is
    closer to the crawler's token than testweb's arrival behind a proxy
    hop (measured under ASan: testweb's arrivals bunch by up to 170 ms)."""
    port = free_port()
    shape = site(port, ["--seed", "5", "--hosts", "3", "--pages", "20", "--links", "8",
                        "--cross", "30", "--broken", "0", "--latency", "40", "--jitter", "120"])
    with Testweb(a.testweb, shape) as tw, Nginx(tw.port, certs, port) as ngx:
        seeds = [ngx.url(h, "/" if p == 0 else f"/d{p % 10}/p{p}.html")
                 for h in range(1, 4) for p in range(10)]
        rc, recs, _, err = run_crawl(a.uvcrawl, base_args(certs, ngx) + [
            "--scope", "any", "--robots", "off", "-c", "100", "--per-host", "8",
            "--rate", str(RATE), "--burst", str(BURST)] + seeds, a.engine)
        nlog = ngx.read_log()
    check(rc == 0, f"rate over HTTP/2: crawl exits 0 ({rc}: {err.strip()[-200:]})")
    tolerance = RATE * 0.1
    for host, rows in sorted(by_host(nlog).items()):
        # (start, first request of its connection): such a request left the
        # crawler before its TLS handshake, and nginx saw it only after;
        # a window that starts at it would be short by the handshake
        # (measured under ASan: 3 requests in 84 ms). It still counts inside
        # and at the end of windows, where a late start only helps it.
        reqs = sorted((float(r["msec"]) - float(r["request_time"]),
                       r["connection_requests"] == "1") for r in rows)
        starts = [t for t, _ in reqs]
        worst = max((j - i + 1) - (BURST + RATE * (starts[j] - starts[i]))
                    for i in range(len(starts)) if not reqs[i][1]
                    for j in range(i, len(starts)))
        check(len(rows) >= 15 and all(r["protocol"] == "HTTP/2.0" for r in rows) and
              worst <= tolerance,
              f"rate over HTTP/2: {host}: {len(rows)} requests, every window within "
              f"burst + rate*t at nginx (worst excess {worst:.2f}, tolerance {tolerance:.2f})")


def check_cert_errors(a, certs):
    port = free_port()
    with Testweb(a.testweb, site(port, ["--hosts", "2", "--pages", "5"])) as tw, \
            Nginx(tw.port, certs, port) as ngx:
        wrong = ngx.url(1, "/", ngx.port_wrong_name)
        expired = ngx.url(1, "/", ngx.port_expired)
        good = ngx.url(2, "/")
        cases = {wrong: "cert-wrong-name", expired: "cert-expired"}
        rc, recs, stats, err = run_crawl(a.uvcrawl, ["--ca-cert", certs.ca] +
                                         ngx.resolve_args() + [
            "--robots", "off", "--retries", "0", wrong, expired], a.engine)
        # Not told of the test CA: the system's store does not know it.
        rc2, recs2, _, err2 = run_crawl(a.uvcrawl, ngx.resolve_args() + [
            "-q", "--robots", "off", "--retries", "0", good], a.engine)
        rc3, recs3, _, err3 = run_crawl(a.uvcrawl, ngx.resolve_args() + [
            "-q", "--insecure", "--robots", "off", "--depth", "0", wrong, expired, good],
            a.engine)
    errors = {r["url"]: r["error"] for r in recs}
    check(rc == 3 and errors == cases,
          f"certificate errors: wrong name and expired become records {errors} "
          f"(exit {rc}: {err.strip()[-200:]})")
    check(stats["errors_by_kind"]["cert-wrong-name"] == 1 and
          stats["errors_by_kind"]["cert-expired"] == 1, "certificate errors: counted by kind")
    check("cert-wrong-name 1" in err and "cert-expired 1" in err,
          "certificate errors: the summary names them")
    check(rc2 == 3 and [r["error"] for r in recs2] == ["cert-unknown-ca"],
          f"unknown CA: record error cert-unknown-ca ({rc2}: {[r['error'] for r in recs2]})")
    check(rc3 == 0 and len(recs3) == 3 and all(r["status"] == 200 for r in recs3),
          f"--insecure: all three seeds fetched ({rc3}: {[r['status'] for r in recs3]})")
    check("--insecure" in err3 and "NOT verified" in err3,
          f"--insecure: said on stderr even with -q ({err3.strip()[-120:]!r})")


def test():
    a = uvtest.parse_args()
    certs = Certs()
    check_cert_errors(a, certs)
    check_coverage(a, certs)
    check_per_host(a, certs)
    check_rate(a, certs)


uvtest.main(test)
