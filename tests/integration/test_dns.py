"""DNS through a real server: dnsmasq on a loopback port answers *.test with
127.0.0.1 and NXDOMAIN for *.invalid. The crawl through --dns-server covers
the site exactly, asks once per name, and records NXDOMAIN as a dns error."""
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time

import uvtest
from uvtest import Failure, Testweb, check, run_crawl, stop


def free_port():
    """A port free on 127.0.0.1 for both UDP and TCP (dnsmasq takes both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                    return port
                except OSError:
                    continue


def dns_answers(port, name="h0001.test"):
    """True once a server on 127.0.0.1:port answers an A query for name."""
    query = struct.pack(">HHHHHH", 0x5eed, 0x0100, 1, 0, 0, 0)
    query += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    query += struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        try:
            s.sendto(query, ("127.0.0.1", port))
            reply, _ = s.recvfrom(512)
        except OSError:  # refused (not listening yet) or timed out
            return False
    return reply[:2] == query[:2]


def wait_for_dns(proc, port, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failure(f"dnsmasq exited ({proc.returncode}): {proc.stderr.read()}")
        if dns_answers(port):
            return
    raise Failure("dnsmasq did not answer in time")


def start_dnsmasq(port):
    exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not os.path.exists(exe):
        raise Failure("dnsmasq is not installed (setup.sh installs dnsmasq-base)")
    log = tempfile.mktemp(prefix="dnsmasq-", suffix=".log")
    proc = subprocess.Popen([exe, "--keep-in-foreground", "--no-resolv", "--no-hosts",
                             "--listen-address=127.0.0.1", "--bind-interfaces",
                             f"--port={port}", "--pid-file=", "--user=root",
                             "--address=/test/127.0.0.1", "--address=/invalid/",
                             "--log-queries", f"--log-facility={log}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, log


def test():
    a = uvtest.parse_args()
    for attempt in range(5):  # the port can be taken between our check and dnsmasq's bind
        port = free_port()
        dns, log = start_dnsmasq(port)
        try:
            wait_for_dns(dns, port)  # a query before it listens fails, and is cached
            break
        except Failure:
            stop(dns)
            if attempt == 4:
                raise
    try:
        with Testweb(a.testweb, ["--seed", "9", "--hosts", "6", "--pages", "20",
                                 "--links", "6", "--cross", "40"]) as tw:
            expected = tw.expect(-1)
            rc, recs, stats, err = run_crawl(a.uvcrawl, [
                "--dns-server", f"127.0.0.1:{port}", "--scope", "any", "--rate", "0",
                "--per-host", "4", "-q", tw.url(), f"http://nx.invalid:{tw.port}/"],
                a.engine, timeout=120)
    finally:
        stop(dns)
    check(rc == 0, f"crawl exits 0 ({rc}: {err.strip()[-300:]})")
    got = {r["url"] for r in recs if "nx.invalid" not in r["url"]}
    check(got == expected, f"fetched set equals --expect through dnsmasq ({len(got)} vs {len(expected)})")
    nx = [r for r in recs if "nx.invalid" in r["url"]]
    check(len(nx) == 1 and nx[0]["error"] == "dns", f"NXDOMAIN gives error dns ({nx})")
    names = {r["url"].split("/")[2].split(":")[0] for r in recs}
    if a.engine == "loop":
        check(stats["dns_queries"] == len(names),
              f"one DNS query per name ({stats['dns_queries']} queries, {len(names)} names)")
        check(stats["dns_cache_hits"] > 0, "later transfers hit the DNS cache")
    with open(log) as f:
        queries = [l for l in f if "query[A]" in l]
    check(len(queries) >= len(names), f"dnsmasq saw the queries ({len(queries)})")


uvtest.main(test)
