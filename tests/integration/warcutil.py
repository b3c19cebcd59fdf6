"""Helpers for the WARC tests: read archives back with warcio.js (through
tests/integration/node/warcread.mjs), take the truth from testweb, and walk
gzip members with Python's zlib."""
import base64
import http.client
import json
import os
import shutil
import subprocess
import zlib

from uvtest import Failure

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, "node")
READER = os.path.join(NODE_DIR, "warcread.mjs")


def reader_ready():
    """warcio.js is installed (setup.sh: npm ci in tests/integration/node)."""
    if shutil.which("node") is None:
        raise Failure("node is not installed (setup.sh installs nodejs)")
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "warcio")):
        raise Failure("warcio.js is not installed: cd tests/integration/node && npm ci")


def read_warc(*args):
    """Records as warcio.js parsed them (warcread.mjs's JSON), payload and
    entity-body decoded from base64 into bytes."""
    p = subprocess.run(["node", READER] + [str(a) for a in args], capture_output=True,
                       timeout=300)
    if p.returncode != 0:
        raise Failure(f"warcio.js cannot read {args}: {p.stderr.decode()[-600:]}")
    recs = [json.loads(line) for line in p.stdout.decode().splitlines() if line]
    for r in recs:
        for field in ("payload", "entity"):
            if r.get(field) is not None:
                r[field] = base64.b64decode(r[field])
    return recs


def warc_files(prefix):
    """PREFIX-00000.warc.gz, ... in order."""
    d, base = os.path.split(prefix)
    names = sorted(n for n in os.listdir(d or ".")
                   if n.startswith(base + "-") and n.endswith(".warc.gz"))
    return [os.path.join(d, n) for n in names]


def truth(port, host, path, user_agent=None, limit=None):
    """What testweb serves for host/path to a client that accepts gzip and
    deflate like uvcrawl --warc: (status, raw body bytes, undecoded), the
    body read up to `limit` bytes."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": host, "Accept-Encoding": "gzip, deflate", "Accept": "*/*"}
    if user_agent:
        headers["User-Agent"] = user_agent
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    body = r.read(limit) if limit is not None else r.read()
    c.close()
    return r.status, body


def gzip_members(path):
    """Walk the file member by member: (complete members, bytes left over
    that are not one complete member)."""
    with open(path, "rb") as f:
        data = f.read()
    members, at = 0, 0
    while at < len(data):
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            d.decompress(data[at:])
        except zlib.error:
            return members, len(data) - at
        if not d.eof:
            return members, len(data) - at
        at = len(data) - len(d.unused_data)
        members += 1
    return members, 0
