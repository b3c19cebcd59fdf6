"""DNS through a real server: dnsmasq on a loopback port answers *.test with
127.0.0.1 and NXDOMAIN for *.invalid. The crawl through --dns-server covers
the site exactly, asks once per name (counted in dnsmasq's own query log:
exactly one query[A] line per name, the NXDOMAIN one included), and records
NXDOMAIN as a dns error."""
import collections

import uvtest
from dnsmasq import Dnsmasq
from uvtest import Testweb, check, run_crawl


def test():
    a = uvtest.parse_args()
    with Dnsmasq() as dns:
        # dnsmasq logs a query when it answers it; its readiness probe is
        # answered (and so logged) before the crawl starts.
        with open(dns.log) as f:
            probe_lines = len(f.readlines())
        with Testweb(a.testweb, ["--seed", "9", "--hosts", "6", "--pages", "20",
                                 "--links", "6", "--cross", "40"]) as tw:
            expected = tw.expect(-1)
            rc, recs, stats, err = run_crawl(a.uvcrawl, [
                "--dns-server", f"127.0.0.1:{dns.port}", "--scope", "any", "--rate", "0",
                "--per-host", "4", "-q", tw.url(), f"http://nx.invalid:{tw.port}/"],
                a.engine, timeout=120)
        log = dns.log
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
        lines = f.readlines()[probe_lines:]
    # "... dnsmasq[PID]: query[A] h0001.test from 127.0.0.1"
    asked = collections.Counter(l.split("query[A] ", 1)[1].split()[0].lower()
                                for l in lines if "query[A] " in l)
    check(set(asked) == names and all(n == 1 for n in asked.values()),
          f"dnsmasq's log: one A query per name, {len(names)} names "
          f"({sorted(asked.items())[:8]})")


uvtest.main(test)
