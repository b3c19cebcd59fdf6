"""--warc and --warc-cdx (issue 11): a crawl of testweb (gzip pages,
redirects, 404s, a binary and a wrong content type, a body over --max-body,
a refused port) read back with warcio.js. Every record parses; a warcinfo
starts the file; each exchange is a response (or revisit) and a request
concurrent to it; both digests verify; every response payload is, byte for
byte, what testweb serves for that URL (cut at --max-body and marked
WARC-Truncated: length where it was cut); a fetch with no response is in
the JSON records only; repeated payloads (testweb's 404 pages) become
revisit records, none with --warc-dedup off; each CDXJ line's offset and
length read back its record and payload; --warc-max-size rotates files;
a robots.txt behind a redirect (which curl follows itself) is archived hop
by hop; a chunked response keeps its framing in the record, while its
payload digest is the entity-body's (WARC 1.1 6.3.2).
Run with the loop engine, the test also crawls with the threads engine and
compares: the same URIs, statuses and payload digests."""
import json
import os
import tempfile

import uvtest
from uvtest import Testweb, check, run_crawl
from warcutil import gzip_members, read_warc, reader_ready, truth, warc_files

MAX_BODY = 64 * 1024


def crawl(a, tw, engine, d, extra=()):
    prefix = os.path.join(d, "crawl")
    cdx = os.path.join(d, "crawl.cdxj")
    seeds = [tw.url(1, "/"), tw.url(1, "/fault/binary"), tw.url(1, "/fault/wrong-type"),
             tw.url(1, "/fault/huge"), tw.url(1, "/fault/bomb"), tw.url(1, "/fault/redirect/3"),
             tw.url(1, "/fault/notfound"), tw.url(1, "/missing/1.html"),
             tw.url(1, "/missing/2.html"), tw.url(1, "/fault/500"), tw.url(1, "/fault/gzip"),
             tw.url(1, "/fault/chunked"), "http://refused.test:1/"]
    rc, recs, stats, err = run_crawl(a.uvcrawl, [
        "--resolve", tw.resolve_arg(), "--resolve", "refused.test:1:127.0.0.1",
        "--retries", "0", "--rate", "0", "--per-host", "4", "-d", "1", "-q",
        "--max-body", str(MAX_BODY), "--warc", prefix, "--warc-cdx", cdx] + list(extra) + seeds,
        engine, timeout=120)
    check(rc == 0, f"{engine}: crawl exits 0 ({rc}: {err.strip()[-300:]})")
    return prefix, cdx, recs


def check_archive(tw, prefix, recs, dedup=True):
    files = warc_files(prefix)
    check(len(files) == 1, f"one WARC file ({files})")
    warc = read_warc(*files)
    check(warc and warc[0]["type"] == "warcinfo" and
          warc[0]["filename"] == os.path.basename(files[0]) and
          "software: uvcrawl/" in warc[0]["block_text"] and
          "format: WARC File Format 1.1" in warc[0]["block_text"],
          f"a warcinfo record first, naming the file and the software ({warc[0]})")
    check(sum(r["type"] == "warcinfo" for r in warc) == 1, "one warcinfo")
    by_id = {r["id"]: r for r in warc}
    check(len(by_id) == len(warc), "record ids are unique")
    responses = [r for r in warc if r["type"] in ("response", "revisit")]
    requests = [r for r in warc if r["type"] == "request"]
    check(len(responses) == len(requests) and len(warc) == 1 + 2 * len(requests),
          f"each exchange is a response and a request ({len(responses)}, {len(requests)})")
    for q in requests:
        peer = by_id.get(q["concurrent_to"])
        check(peer is not None and peer["uri"] == q["uri"] and peer["type"] != "request",
              f"request {q['uri']} is concurrent to its response")
        check(q["block_ok"] is True, f"request {q['uri']}: block digest verifies")
        check(q["ip"] == "127.0.0.1", f"request {q['uri']}: WARC-IP-Address")
    for r in warc[1:]:
        check(r["content_type"] == f"application/http;msgtype={'request' if r['type'] == 'request' else 'response'}",
              f"{r['type']} {r['uri']}: Content-Type {r['content_type']}")
    seen_digest = {}
    for r in responses:
        check(r["block_ok"] is True, f"{r['type']} {r['uri']}: block digest verifies")
        check(r["ip"] == "127.0.0.1" and r["date"].endswith("Z"), f"{r['uri']}: IP and date")
        if r["type"] == "revisit":
            check(dedup, f"no revisit with --warc-dedup off ({r['uri']})")
            orig = seen_digest.get(r["payload_digest"])
            check(orig is not None and r["refers_to_uri"] == orig["uri"] and
                  r["refers_to_date"] == orig["date"] and
                  r["profile"].endswith("/revisit/identical-payload-digest"),
                  f"revisit {r['uri']} refers to the first response with its payload")
            continue
        check(r["payload_ok"] is True, f"response {r['uri']}: payload digest verifies")
        seen_digest.setdefault(r["payload_digest"], r)
        host, path = r["uri"].split("://", 1)[1].split("/", 1)
        status, body = truth(tw.port, host, "/" + path, limit=MAX_BODY)
        check(status == r["status"], f"{r['uri']}: status {r['status']} as served ({status})")
        cut = "/fault/huge" in r["uri"] or "/fault/bomb" in r["uri"]
        # A gzip bomb is cut where its decoded bytes reach --max-body: what
        # was read of it is archived as it came.
        served = body[:len(r["payload"])] if "/fault/bomb" in r["uri"] else body
        check(r["entity"] == served and len(r["entity"]) > 0,
              f"{r['uri']}: payload is byte for byte what testweb served "
              f"({len(r['entity'])} vs {len(served)} bytes)")
        # A chunked response is archived as it came, framing and trailer
        # included; its payload digest is the entity-body's (checked above).
        check(r["chunked"] == ("/fault/chunked" in r["uri"]) and
              (r["payload"] != r["entity"]) == r["chunked"],
              f"{r['uri']}: chunk framing kept in the record ({r['chunked']})")
        check((r["truncated"] == "length") == cut,
              f"{r['uri']}: WARC-Truncated only where cut at --max-body ({r['truncated']})")
    uris = {r["uri"] for r in responses}
    check(any(r["uri"].endswith("/robots.txt") for r in responses), "robots.txt is archived")
    bomb = [x for x in recs if "/fault/bomb" in x["url"]]
    check(bomb and bomb[0]["truncated"] is True and bomb[0]["bytes"] == MAX_BODY,
          f"a gzip bomb is cut at --max-body decoded bytes ({bomb})")
    gz = [r for r in responses if "/fault/gzip" in r["uri"]]
    check(gz and gz[0]["payload"][:2] == b"\x1f\x8b", "a gzip payload is archived encoded")
    ch = [r for r in responses if "/fault/chunked" in r["uri"]]
    check(ch and ch[0]["payload"].startswith(b"1\r\n\x1f\r\n7;part=two\r\n") and
          ch[0]["payload"].endswith(b"0\r\nX-Testweb-Trailer: end\r\n\r\n") and
          ch[0]["entity"][:2] == b"\x1f\x8b",
          "a chunked gzip response: framing, extension and trailer archived as sent")
    chunked_rec = [x for x in recs if "/fault/chunked" in x["url"]]
    check(chunked_rec and chunked_rec[0]["status"] == 200 and chunked_rec[0]["links"] >= 1,
          f"a chunked gzip page is parsed: its links are found ({chunked_rec})")
    for x in recs:
        if x["status"] and x["error"] is None:
            check(x["url"] in uris, f"{x['url']}: its exchange is archived")
        if x["error"] in ("refused", "dns"):
            check(x["url"] not in uris, f"{x['url']}: no response, not archived")
    revisits = [r for r in responses if r["type"] == "revisit"]
    if dedup:
        check(len(revisits) >= 2, f"404 pages share a payload: revisits ({len(revisits)})")
    return warc


def check_cdx(cdx, warc, prefix):
    by_offset = {(os.path.basename(r["file"]), r["offset"]): r for r in warc}
    lines = [line for line in open(cdx, "rb") if line.strip()]
    check(lines == sorted(lines), "the index ends sorted in byte order (pywb's binary search)")
    lines = [line.decode() for line in lines]
    responses = [r for r in warc if r["type"] in ("response", "revisit")]
    check(len(lines) == len(responses), f"one CDXJ line a response ({len(lines)})")
    n200 = 0
    for line in lines:
        key, stamp, js = line.split(" ", 2)
        j = json.loads(js)
        check(len(stamp) == 14 and stamp.isdigit(), f"14-digit timestamp ({stamp})")
        check(")/" in key and key == key.lower(), f"SURT key ({key})")
        r = by_offset.get((j["filename"], int(j["offset"])))
        check(r is not None and r["uri"] == j["url"] and int(j["length"]) == r["length"],
              f"CDXJ {j['url']}: offset and length are those of its record")
        check("sha1:" + j["digest"] == r["payload_digest"] and int(j["status"]) == r["status"],
              f"CDXJ {j['url']}: digest and status")
        if j["status"] != "200" or r["type"] != "response":
            continue
        n200 += 1
        one = read_warc("--at", os.path.join(os.path.dirname(prefix), j["filename"]),
                        j["offset"], j["length"])
        check(len(one) == 1 and one[0]["id"] == r["id"] and one[0]["payload"] == r["payload"] and
              one[0]["payload_ok"] is True,
              f"CDXJ {j['url']}: its byte range reads back the same record and payload")
    check(n200 >= 5, f"200 responses indexed ({n200})")


def check_rotation(a, tw, engine):
    d = tempfile.mkdtemp(prefix="uvwarc-rot-")
    limit = 16 * 1024
    prefix, cdx, recs = crawl(a, tw, engine, d, ["--warc-max-size", str(limit)])
    files = warc_files(prefix)
    check(len(files) >= 3, f"--warc-max-size {limit}: several files ({len(files)})")
    total = 0
    for i, f in enumerate(files):
        check(f.endswith(f"-{i:05d}.warc.gz"), f"files numbered in order ({f})")
        recs_f = read_warc(f)
        check(recs_f[0]["type"] == "warcinfo" and
              recs_f[0]["filename"] == os.path.basename(f), f"{f} starts with its warcinfo")
        pairs = (len(recs_f) - 1) // 2
        size = os.path.getsize(f)
        # A file passes the bound only with its first exchange (a big body).
        check(size <= limit or pairs == 1, f"{f}: {size} bytes within {limit} ({pairs} pairs)")
        check(gzip_members(f) == (len(recs_f), 0), f"{f}: one gzip member a record")
        total += pairs
    lines = [json.loads(line.split(" ", 2)[2]) for line in open(cdx) if line.strip()]
    check({x["filename"] for x in lines} == {os.path.basename(f) for f in files},
          "the CDXJ index names every file")
    check(total == len(lines), f"every exchange in one of the files ({total}, {len(lines)})")


def check_robots_hops(a, engine):
    """robots.txt behind a redirect: the redirect and its target, each a
    response with its request; the redirect's body, which curl reads away
    when it follows, is marked cut."""
    with Testweb(a.testweb, ["--hosts", "1", "--pages", "3", "--robots-status", "301"]) as tw:
        d = tempfile.mkdtemp(prefix="uvwarc-robots-")
        prefix = os.path.join(d, "crawl")
        rc, _, _, err = run_crawl(a.uvcrawl, ["--resolve", tw.resolve_arg(), "--rate", "0", "-q",
                                              "--warc", prefix, tw.url(1, "/")], engine)
        check(rc == 0, f"robots.txt behind a redirect: exit 0 ({rc}: {err.strip()[-200:]})")
        warc = read_warc(*warc_files(prefix))
        hop = [r for r in warc if r["type"] == "response" and r["uri"].endswith("/robots.txt")]
        moved = [r for r in warc if r["type"] == "response" and
                 r["uri"].endswith("/robots-moved.txt")]
        check(len(hop) == 1 and 300 <= hop[0]["status"] < 400 and hop[0]["truncated"] == "length"
              and hop[0]["payload"] == b"" and hop[0]["block_ok"] and hop[0]["payload_ok"],
              f"the redirect hop is archived, its unread body marked cut ({hop})")
        status, body = truth(tw.port, tw.url(1, "/").split("/")[2], "/robots-moved.txt")
        check(len(moved) == 1 and moved[0]["status"] == 200 and moved[0]["payload"] == body,
              "the redirect's target is archived with its payload")
        reqs = {r["uri"] for r in warc if r["type"] == "request"}
        check({hop[0]["uri"], moved[0]["uri"]} <= reqs, "each hop has its request record")
        check(warc.index(hop[0]) < warc.index(moved[0]), "hops in the order they were fetched")


def content(warc):
    return sorted((r["uri"], r["status"], r["payload_digest"])
                  for r in warc if r["type"] in ("response", "revisit"))


def test():
    a = uvtest.parse_args()
    reader_ready()
    with Testweb(a.testweb, ["--hosts", "2", "--pages", "30", "--gzip", "--page-bytes", "3000",
                             "--huge-bytes", str(300 * 1024)]) as tw:
        d = tempfile.mkdtemp(prefix="uvwarc-")
        prefix, cdx, recs = crawl(a, tw, a.engine, d)
        warc = check_archive(tw, prefix, recs)
        check(gzip_members(warc_files(prefix)[0]) == (len(warc), 0),
              "each record is its own gzip member, none left over")
        check_cdx(cdx, warc, prefix)

        d2 = tempfile.mkdtemp(prefix="uvwarc-nodedup-")
        prefix2, _, recs2 = crawl(a, tw, a.engine, d2, ["--warc-dedup", "off"])
        check_archive(tw, prefix2, recs2, dedup=False)

        # The JSON records are the same with --warc (zlib decodes for the
        # parser) as without (curl decodes).
        _, plain, _, _ = run_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--retries", "0", "--rate", "0", "--per-host", "4",
            "-d", "1", "-q", "--max-body", str(MAX_BODY), tw.url(1, "/"),
            tw.url(1, "/fault/gzip"), tw.url(1, "/fault/chunked"), tw.url(1, "/fault/huge"),
            tw.url(1, "/fault/bomb")],
            a.engine)
        key = lambda x: (x["status"], x["bytes"], x["links"], x.get("truncated"))
        mine = {x["url"]: key(x) for x in recs}
        for x in plain:
            check(mine.get(x["url"]) == key(x),
                  f"{x['url']}: the same record with --warc ({mine.get(x['url'])} vs {key(x)})")

        check_rotation(a, tw, a.engine)
        check_robots_hops(a, a.engine)

        if a.engine == "loop":
            d3 = tempfile.mkdtemp(prefix="uvwarc-threads-")
            prefix3, _, _ = crawl(a, tw, "threads", d3)
            other = read_warc(*warc_files(prefix3))
            check(content(other) == content(warc),
                  "both engines archive the same URIs, statuses and payloads")


uvtest.main(test)
