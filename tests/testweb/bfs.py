#!/usr/bin/env python3
"""bfs.py - an independent breadth-first crawler (stdlib only) used to check
testweb --expect. It speaks real HTTP to testweb on 127.0.0.1:PORT (the Host
header carries the virtual host), parses HTML with html.parser, resolves
links with urllib.parse and normalizes them the way DESIGN.md says a crawler
must. Prints the sorted set of URLs it reached (seeds and followed links).

usage: bfs.py PORT DEPTH SCOPE(any|host) SEED_URL...
"""
import http.client
import sys
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urldefrag, urlsplit, urlunsplit


class Links(HTMLParser):
    """Collects <a href> values, skipping rel=nofollow anchors."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag != "a":
            return
        a = dict(attrs)
        if "nofollow" in (a.get("rel") or "").lower().split():
            return
        if a.get("href") is not None:
            self.hrefs.append(a["href"])


def remove_dot_segments(path):
    """RFC 3986 5.2.4."""
    out = []
    segs = path.split("/")
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    res = "/".join(out)
    return res if res.startswith("/") else "/" + res


def normalize(url):
    """Lower-case scheme/host, drop :80 and the fragment, remove dot
    segments; None for anything that is not http."""
    url = urldefrag(url)[0]
    p = urlsplit(url)
    if p.scheme.lower() != "http" or not p.hostname:
        return None
    host = p.hostname.lower()
    netloc = host if p.port in (None, 80) else "%s:%d" % (host, p.port)
    return urlunsplit(("http", netloc, remove_dot_segments(p.path or "/"),
                       p.query, ""))


def fetch(port, url):
    """GET url via 127.0.0.1:port following redirects. Returns (final_url,
    status, content_type, body) or None on a connection error."""
    for _ in range(10):
        p = urlsplit(url)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", p.path or "/", headers={"Host": p.netloc})
            r = conn.getresponse()
            body = r.read()
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()
        if r.status in (301, 302, 303, 307, 308) and r.getheader("Location"):
            url = normalize(urljoin(url, r.getheader("Location")))
            continue
        return url, r.status, r.getheader("Content-Type") or "", body
    return None


def main():
    port, depth, scope = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    seeds = [normalize(u) for u in sys.argv[4:]]
    seed_hosts = {urlsplit(u).hostname for u in seeds}
    seen = set(seeds)
    queue = deque((u, 0) for u in seeds)
    while queue:
        url, d = queue.popleft()
        got = fetch(port, url)
        if got is None or (depth >= 0 and d >= depth):
            continue
        final, status, ctype, body = got
        if status != 200 or not ctype.startswith("text/html"):
            continue
        parser = Links()
        parser.feed(body.decode("utf-8", "replace"))
        for href in parser.hrefs:
            # HTML strips leading/trailing ASCII whitespace from URLs.
            link = normalize(urljoin(final, href.strip(" \t\n\r\f")))
            if link is None or link in seen:
                continue
            if scope == "host" and urlsplit(link).hostname not in seed_hosts:
                continue
            seen.add(link)
            queue.append((link, d + 1))
    for u in sorted(seen):
        print(u)


if __name__ == "__main__":
    main()
