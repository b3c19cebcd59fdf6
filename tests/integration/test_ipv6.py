"""IPv6 end to end (issue 14).

- --resolve '*.test:PORT:[::1]': testweb listening on [::1] only is crawled
  whole (the fetched set equals its --expect), in both engines.
- Loop engine, names from a real DNS server (dnsmasq answering *.test with
  both A 127.0.0.1 and AAAA ::1): c-ares asks for AAAA too and curl gets
  both addresses (happy eyeballs). testweb on [::1] only is crawled whole,
  which the IPv4 address alone could not do; testweb on 127.0.0.1 only is
  crawled whole too (the IPv6 attempt is refused, curl falls back).
"""
import uvtest
from dnsmasq import Dnsmasq
from uvtest import Testweb, check, run_crawl

SITE = ["--seed", "12", "--hosts", "3", "--pages", "20", "--links", "6", "--cross", "40"]


def crawl_all(a, tw, extra, what):
    want = tw.expect(-1)
    rc, recs, stats, err = run_crawl(a.uvcrawl, extra + [
        "--scope", "any", "--rate", "0", "--per-host", "4", "-q", tw.url()], a.engine,
        timeout=120)
    got = {r["url"] for r in recs}
    check(rc == 0 and got == want and all(r["status"] for r in recs),
          f"{what}: the crawl fetched --expect's {len(want)} URLs ({rc}: missing "
          f"{sorted(want - got)[:3]}, errors {sorted(set(r['error'] for r in recs if r['error']))};"
          f" {err.strip()[-200:]})")
    return stats


def test():
    a = uvtest.parse_args()
    with Testweb(a.testweb, SITE, listen="[::1]:0") as tw:
        crawl_all(a, tw, ["--resolve", f"*.test:{tw.port}:[::1]"],
                  "--resolve to [::1], testweb on [::1] only")
    if a.engine != "loop":
        return  # --dns-server is the loop engine's (c-ares)
    with Dnsmasq(["--address=/test/::1"]) as dns:
        with Testweb(a.testweb, SITE, listen="[::1]:0") as tw:
            stats = crawl_all(a, tw, ["--dns-server", f"127.0.0.1:{dns.port}"],
                              "A and AAAA from dnsmasq, testweb on [::1] only")
        with Testweb(a.testweb, SITE) as tw:
            crawl_all(a, tw, ["--dns-server", f"127.0.0.1:{dns.port}"],
                      "A and AAAA from dnsmasq, testweb on 127.0.0.1 only")
        with open(dns.log) as f:
            log = f.read()
    check("query[AAAA] h0001.test" in log and "query[A] h0001.test" in log,
          "c-ares asked dnsmasq for AAAA and A records")


uvtest.main(test)
