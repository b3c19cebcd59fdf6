"""Graceful shutdown: SIGINT at a random moment of a running crawl, 20 times.
Each run exits 130 (or 0 if it finished first) within the drain bound, every
output line is complete JSON, and the summary counts what was left. Then two
SIGINTs in a row end a crawl promptly, still with complete records."""
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import uvtest  # noqa: E402
from uvtest import Failure, Testweb, check, read_records, read_stats  # noqa: E402

DRAIN_S = 3.0
ROUNDS = 20


def start_crawl(a, tw, out, stats):
    return subprocess.Popen([a.uvcrawl, "--engine", a.engine, "--resolve", tw.resolve_arg(),
                             "--scope", "any", "-c", "300", "--per-host", "4", "--rate", "0",
                             "--drain-timeout", str(DRAIN_S), "-o", out, "--stats", stats,
                             tw.url()], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def wait_exit(p, bound, what):
    try:
        p.wait(bound)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise Failure(f"{what}: still running {bound:.1f} s after the signal")
    return p.returncode


def test():
    a = uvtest.parse_args()
    rnd = random.Random(int(os.environ.get("UVTEST_SEED", "20261127")))
    d = tempfile.mkdtemp(prefix="shutdown-")
    site = ["--seed", "2", "--hosts", "40", "--pages", "200", "--links", "10",
            "--latency", "100", "--jitter", "200"]
    with Testweb(a.testweb, site, log=False) as tw:
        for i in range(ROUNDS):
            out, stats = os.path.join(d, f"r{i}.jsonl"), os.path.join(d, f"s{i}.json")
            p = start_crawl(a, tw, out, stats)
            delay = rnd.uniform(0.05, 2.5)
            try:
                p.wait(delay)  # the crawl may finish by itself; that is fine
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGINT)
            t0 = time.monotonic()
            rc = wait_exit(p, DRAIN_S + 10, f"round {i}")
            took = time.monotonic() - t0
            err = p.stderr.read()
            check(rc in (0, 130), f"round {i}: exit {rc} after SIGINT at {delay:.2f} s "
                                  f"in {took:.2f} s ({err.strip()[-300:]})")
            recs = read_records(out)  # raises on a half-written line
            st = read_stats(stats)
            check(st is not None and st["pages"] == len(recs),
                  f"round {i}: {len(recs)} complete records, stats written")
            if rc == 130:
                check("left unfetched" in err, f"round {i}: summary says what was left")
        # A signal in the first milliseconds, before the engine has set up
        # its own signal handling, still ends the crawl gracefully.
        for i, delay in enumerate((0.01, 0.03, 0.06)):
            out, stats = os.path.join(d, f"early{i}.jsonl"), os.path.join(d, f"early{i}.json")
            p = start_crawl(a, tw, out, stats)
            time.sleep(delay)  # the moment to interrupt, not a wait for an event
            p.send_signal(signal.SIGINT)
            rc = wait_exit(p, DRAIN_S + 10, f"early signal at {delay}s")
            st = read_stats(stats)
            if st is None:  # before main(): the default action, exit by signal
                check(rc == -signal.SIGINT, f"signal at {delay} s, before main: killed ({rc})")
                continue
            check(rc == 130 and st["interrupted"], f"signal at {delay} s: exit 130 ({rc})")
            read_records(out)

        out, stats = os.path.join(d, "twice.jsonl"), os.path.join(d, "twice.json")
        p = start_crawl(a, tw, out, stats)
        try:
            p.wait(1.0)
        except subprocess.TimeoutExpired:
            pass
        p.send_signal(signal.SIGINT)
        p.send_signal(signal.SIGINT)
        rc = wait_exit(p, 5.0, "two signals")
        check(rc == 130, f"two SIGINTs: exit 130 promptly ({rc})")
        read_records(out)
        check(read_stats(stats)["interrupted"], "stats say interrupted")


uvtest.main(test)
