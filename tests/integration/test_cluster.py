"""Three agents share one crawl through a real redis-server (issue 12).

The test starts redis-server on a unix socket in a temp dir, persistence
off, and stops it by PID (also on failure); testweb has 200 hosts with
latency, small pages and half the links cross-host, so most links are
handed over. Each part runs in seconds:

  equal      the union of the 3 agents' records equals testweb's --expect
             set and a 1-agent crawl's; no URL (robots.txt included) is
             requested twice; each host's requests come from one agent
             (its records, and robots.txt once); per host the rate bound
             (burst + rate*t) holds; every agent exits 0 within 2 s of the
             last request; --status says done with the totals.
  transit    one agent reads its stream late (UVCRAWL_CLUSTER_READ_DELAY_MS),
             so links wait in Redis while every agent is idle: an agent
             says so (--verbose), and the crawl still ends complete.
  kill       kill -9 of one agent (--state) at a random moment, restart
             with the same --state: the union is complete, and URLs
             requested twice are at most that agent's -c.
  redis      redis-server stopped and started again (empty) mid-crawl:
             the crawl ends complete; the links held meanwhile beyond a
             bound of 10 (UVCRAWL_CLUSTER_HOLD_MAX) went to the spill file.
  stop       --stop drains every agent (exit 130); Redis unreachable at
             start, the threads engine, a bad --cluster, --agent alone or
             out of range: one line, exit 2.
"""
import collections
import json
import os
import random
import signal
import subprocess
import tempfile
import time

import uvtest
from uvtest import Testweb, check

AGENTS = 3
SITE = ["--hosts", "200", "--pages", "4", "--links", "6", "--page-bytes", "300",
        "--cross", "50", "--latency", "5", "--jitter", "3"]
RATE, BURST = 20.0, 2
SPREAD_S = 0.1  # as test_rate: token-to-arrival spread the rate check allows


class Redis:
    """redis-server on a unix socket, persistence off; `with Redis() as r`."""

    def __init__(self, path=None):
        self.dir = tempfile.mkdtemp(prefix="uvredis-")
        self.sock = path or os.path.join(self.dir, "redis.sock")
        self.proc = None

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", self.sock, "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise uvtest.Failure("redis-server did not start")
            time.sleep(0.01)  # polling interval of a bounded wait
        return self

    def stop(self):
        uvtest.stop(self.proc)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def url(self, name):
        return f"unix://{self.sock}?name={name}"


class Agent:
    def __init__(self, args, k, cluster, common, seeds, d, env=None, state=False):
        self.k = k
        self.out = os.path.join(d, f"records{k}.jsonl")
        self.stats = os.path.join(d, f"stats{k}.json")
        self.err = os.path.join(d, f"stderr{k}.txt")
        self.state = os.path.join(d, f"state{k}") if state else None
        self.cmd = [args.uvcrawl, "--cluster", cluster, "--agent", str(k), "--agents",
                    str(AGENTS), "-o", self.out, "--stats", self.stats] + common
        if self.state:
            self.cmd += ["--state", self.state]
        self.cmd += seeds
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.exit_us = None

    def start(self):
        with open(self.err, "a") as ef:
            self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=ef,
                                         env=self.env)
        self.exit_us = None
        return self

    def stderr(self):
        with open(self.err) as f:
            return f.read()


def wait_all(agents, bound):
    """Wait for every agent, noting when each exited (CLOCK_MONOTONIC us)."""
    deadline = time.monotonic() + bound
    while any(a.exit_us is None for a in agents):
        for a in agents:
            if a.exit_us is None and a.proc.poll() is not None:
                a.exit_us = uvtest.now_us()
        if time.monotonic() > deadline:
            raise uvtest.Failure("agents still running after %.0f s: %s" % (
                bound, [a.k for a in agents if a.exit_us is None]))
        time.sleep(0.002)  # polling interval of a bounded wait


def stop_all(agents):
    for a in agents:
        if a.proc is not None and a.proc.poll() is None:
            a.proc.kill()
            a.proc.wait()


def common_args(tw):
    return ["--scope", "any", "--rate", str(RATE), "--burst", str(BURST), "--per-host", "2",
            "-c", "32", "--resolve", tw.resolve_arg(), "--quiet"]


def union(agents):
    urls, by_agent = [], {}
    for a in agents:
        recs = uvtest.read_records(a.out)
        by_agent[a.k] = recs
        urls += [r["url"] for r in recs]
    return urls, by_agent


def run_cluster(args, tw, redis, name, env_of=None, extra=(), bound=60):
    d = tempfile.mkdtemp(prefix="uvcluster-")
    agents = [Agent(args, k, redis.url(name), common_args(tw) + list(extra),
                    [tw.url()] if k == 0 else [], d, (env_of or {}).get(k))
              for k in range(AGENTS)]
    try:
        for a in agents:
            a.start()
        wait_all(agents, bound)
    finally:
        stop_all(agents)
    return agents


def part_equal(args):
    with Testweb(args.testweb, SITE) as tw, Redis() as redis:
        expect = tw.expect(-1)
        check(len(expect) > 500, f"testweb: {len(expect)} URLs reachable")
        agents = run_cluster(args, tw, redis, "equal")
        log = tw.stop_and_read_log()
        for a in agents:
            check(a.proc.returncode == 0, f"agent {a.k} exits 0 ({a.proc.returncode}): "
                  f"{a.stderr()[-300:]}")
        urls, by_agent = union(agents)
        check(set(urls) == expect, f"union of 3 agents equals --expect ({len(set(urls))} "
              f"vs {len(expect)}; missing {sorted(expect - set(urls))[:3]}, extra "
              f"{sorted(set(urls) - expect)[:3]})")
        check(len(urls) == len(set(urls)), f"no URL has two records ({len(urls)} records)")
        asked = collections.Counter((r["host"], r["path"]) for r in log)
        twice = [k for k, n in asked.items() if n > 1]
        check(not twice, f"no URL requested twice across agents ({twice[:3]})")
        owners = collections.defaultdict(set)
        for k, recs in by_agent.items():
            for r in recs:
                owners[uvtest.url_key(r["url"])[0]].add(k)
        shared = {h: o for h, o in owners.items() if len(o) > 1}
        check(not shared and len(owners) >= 200,
              f"each of {len(owners)} hosts is fetched by exactly one agent ({shared})")
        check(all(len(recs) > 0 for recs in by_agent.values()),
              "every agent has a share: " + ", ".join(f"{k}: {len(v)}" for k, v in
                                                       by_agent.items()))
        hosts = collections.defaultdict(list)
        for r in log:
            hosts[r["host"]].append(r["arrival_us"])
        worst = max(uvtest.max_window_excess(sorted(v), BURST, RATE) for v in hosts.values())
        check(worst <= RATE * SPREAD_S, f"per-host rate bound holds on every host (worst "
              f"excess {worst:.2f})")
        last = max(r["done_us"] for r in log)
        late = max(a.exit_us for a in agents) - last
        check(late < 2_000_000, f"every agent exits within 2 s of the last fetch "
              f"({late / 1e6:.3f} s)")
        stats = [json.load(open(a.stats)) for a in agents]
        check(all(s["cluster"]["agents"] == AGENTS for s in stats) and
              sum(s["cluster"]["links_in"] for s in stats) ==
              sum(s["cluster"]["links_out"] for s in stats) > 0,
              "--stats: each agent's share; links received = links handed out (%d)" %
              sum(s["cluster"]["links_out"] for s in stats))
        st = subprocess.run([args.uvcrawl, "--cluster", redis.url("equal"), "--agents",
                             str(AGENTS), "--status"], capture_output=True, text=True,
                            timeout=20)
        check(st.returncode == 0 and "cluster equal: done" in st.stdout and
              f"total: {len(urls)} pages" in st.stdout,
              f"--status prints the cluster's totals: {st.stdout!r}")
    # The same site, one crawler alone: the same set.
    with Testweb(args.testweb, SITE, log=False) as tw:
        code, recs, _, err = uvtest.run_crawl(args.uvcrawl, common_args(tw) + [tw.url()])
        solo = set(r["url"] for r in recs)
        check(code == 0 and solo == expect_of(tw),
              f"a 1-agent crawl finds the same set ({len(solo)})")


def expect_of(tw):
    return tw.expect(-1)


def part_transit(args):
    with Testweb(args.testweb, SITE) as tw, Redis() as redis:
        expect = tw.expect(-1)
        env = {2: {"UVCRAWL_CLUSTER_READ_DELAY_MS": "300"}}
        agents = run_cluster(args, tw, redis, "transit", env_of=env, extra=["--verbose"],
                             bound=90)
        said = [a.k for a in agents if "agents idle" in a.stderr()]
        for a in agents:
            check(a.proc.returncode == 0, f"agent {a.k} exits 0 ({a.proc.returncode})")
        urls, _ = union(agents)
        check(set(urls) == expect, f"with links in transit, the union is complete "
              f"({len(set(urls))} of {len(expect)})")
        check(said, "an agent saw every agent idle with hand-overs still in transit "
              "(where 'all idle' alone would have ended the crawl)")


def part_kill(args):
    with Testweb(args.testweb, SITE) as tw, Redis() as redis:
        expect = tw.expect(-1)
        d = tempfile.mkdtemp(prefix="uvcluster-")
        agents = [Agent(args, k, redis.url("kill"), common_args(tw),
                        [tw.url()] if k == 0 else [], d, state=True)
                  for k in range(AGENTS)]
        try:
            for a in agents:
                a.start()
            at = random.randint(len(expect) // 10, len(expect) // 2)
            uvtest.wait_for_requests(tw, at, agents[1].proc)
            agents[1].proc.send_signal(signal.SIGKILL)
            agents[1].proc.wait()
            print(f"# killed agent 1 after {at} requests")
            agents[1].start()
            wait_all(agents, 90)
        finally:
            stop_all(agents)
        log = tw.stop_and_read_log()
        for a in agents:
            check(a.proc.returncode == 0, f"agent {a.k} exits 0 ({a.proc.returncode}): "
                  f"{a.stderr()[-300:]}")
        urls, _ = union(agents)
        check(set(urls) == expect, f"after kill -9 and restart the union is complete "
              f"({len(set(urls))} of {len(expect)}; missing {sorted(expect - set(urls))[:3]})")
        asked = collections.Counter((r["host"], r["path"]) for r in log)
        again = {k: n - 1 for k, n in asked.items() if n > 1}
        pages = sum(n for (h, p), n in again.items() if p != "/robots.txt")
        robots = sum(n for (h, p), n in again.items() if p == "/robots.txt")
        killed_hosts = {uvtest.url_key(r["url"])[0]
                        for r in uvtest.read_records(agents[1].out)}
        check(all(h in killed_hosts for h, _ in again),
              f"every URL requested twice is on a host of the killed agent "
              f"({sorted(h for h, _ in again if h not in killed_hosts)[:3]})")
        check(pages <= 32, f"pages requested twice ({pages}, and {robots} robots.txt) are at "
              f"most the killed agent's in-flight bound (-c 32)")


def part_redis(args):
    site = SITE[:-4] + ["--latency", "20", "--jitter", "5"]
    with Testweb(args.testweb, site) as tw, Redis() as redis:
        expect = tw.expect(-1)
        d = tempfile.mkdtemp(prefix="uvcluster-")
        # At most 10 links held in memory while Redis is away: the rest spill.
        hold = {"UVCRAWL_CLUSTER_HOLD_MAX": "10"}
        agents = [Agent(args, k, redis.url("restart"), common_args(tw) + ["-c", "8"],
                        [tw.url()] if k == 0 else [], d, hold) for k in range(AGENTS)]
        try:
            for a in agents:
                a.start()
            uvtest.wait_for_requests(tw, len(expect) // 4, agents[0].proc)
            redis.stop()
            n = len(uvtest.read_log(tw.log_path))
            redis.start()  # empty: no persistence
            print(f"# redis-server restarted after {n} requests")
            wait_all(agents, 90)
        finally:
            stop_all(agents)
        tw.stop_and_read_log()
        for a in agents:
            check(a.proc.returncode == 0, f"agent {a.k} exits 0 ({a.proc.returncode}): "
                  f"{a.stderr()[-300:]}")
        urls, _ = union(agents)
        check(set(urls) == expect, f"after a Redis restart the union is complete "
              f"({len(set(urls))} of {len(expect)}; missing {sorted(expect - set(urls))[:3]})")
        stats = [json.load(open(a.stats)) for a in agents]
        check(all(s["cluster"]["reconnects"] > 0 for s in stats),
              "every agent lost Redis and reconnected")
        spilled = sum(s["cluster"]["links_spilled"] for s in stats)
        check(spilled > 0, f"links beyond the hold bound spilled to a file ({spilled}) and "
              "were sent once Redis was back")


def part_stop(args):
    with Testweb(args.testweb, SITE[:-4] + ["--latency", "50"]) as tw, Redis() as redis:
        d = tempfile.mkdtemp(prefix="uvcluster-")
        agents = [Agent(args, k, redis.url("stop"), common_args(tw) + ["--rate", "2"],
                        [tw.url()] if k == 0 else [], d) for k in range(AGENTS)]
        try:
            for a in agents:
                a.start()
            uvtest.wait_for_requests(tw, 60, agents[0].proc)
            p = subprocess.run([args.uvcrawl, "--cluster", redis.url("stop"), "--stop"],
                               capture_output=True, text=True, timeout=20)
            check(p.returncode == 0, f"--stop exits 0 ({p.stderr.strip()})")
            wait_all(agents, 20)
        finally:
            stop_all(agents)
        codes = [a.proc.returncode for a in agents]
        check(codes == [130] * AGENTS, f"--stop drains every agent: exits {codes}")
    missing = os.path.join(tempfile.mkdtemp(prefix="uvcluster-"), "no.sock")
    p = subprocess.run([args.uvcrawl, "--cluster", f"unix://{missing}", "--agent", "0",
                        "--agents", "3", "http://h0001.test/"], capture_output=True,
                       text=True, timeout=20)
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 2 and len(lines) == 1 and "cannot reach Redis" in lines[0],
          f"Redis unreachable at start: one line, exit 2 ({p.returncode}: {p.stderr!r})")
    for bad, why in ((["--cluster", "redis://h:1/x", "--agent", "0", "--agents", "2",
                       "--engine", "threads"], "--engine loop"),
                     (["--cluster", "redis://h/x", "--agent", "0", "--agents", "2"],
                      "bad value for --cluster"),
                     (["--agent", "0", "--agents", "2"], "needs --cluster"),
                     (["--cluster", "redis://h:1/x", "--agent", "2", "--agents", "2"],
                      "below --agents")):
        p = subprocess.run([args.uvcrawl] + bad + ["http://h0001.test/"], capture_output=True,
                           text=True, timeout=20)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 2 and len(lines) == 1 and why in lines[0],
              f"{' '.join(bad)}: one line, exit 2 ({p.returncode}: {p.stderr.strip()!r})")


PARTS = {"equal": part_equal, "transit": part_transit, "kill": part_kill,
         "redis": part_redis, "stop": part_stop}

if __name__ == "__main__":
    args = uvtest.parse_args({"--part": {"required": True, "choices": sorted(PARTS)}})
    uvtest.main(lambda: PARTS[args.part](args))
