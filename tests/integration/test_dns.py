"""DNS through a real server: dnsmasq on a loopback port answers *.test with
127.0.0.1 and NXDOMAIN for *.invalid. The crawl through --dns-server covers
the site exactly, asks once per name, and records NXDOMAIN as a dns error."""
import os
import shutil
import socket
import subprocess
import tempfile

import uvtest
from uvtest import Failure, Testweb, check, run_crawl, stop


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    port = free_udp_port()
    dns, log = start_dnsmasq(port)
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
