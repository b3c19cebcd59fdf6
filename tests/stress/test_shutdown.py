"""Graceful shutdown under load: 20 crawls of a 40-host site (every host a
seed), each interrupted (SIGINT or SIGTERM, alternating) once testweb's log
shows a random number of requests (1..1200) answered, so that up to 160
transfers (40 hosts x --per-host 4) are in flight. The
latency (100..300 ms) is far below --drain-timeout (3 s), so each drain ends
when the transfers in flight end, never at the timeout:
  - exit 130, within the last logged transfer + a bound, before the timeout;
  - every request testweb saw has a complete record, none "aborted";
  - the summary says "interrupted (drained)"; the stats count every record.
Then a signal in the first moments of the process (as soon as its SIGINT
handler is installed, read from /proc, before the engine has its own) still
drains: exit 130, stats written. Last, a second signal (sent once the first
was taken, so the kernel cannot merge them) aborts what is in flight:
"aborted" records, the summary says "interrupted (aborted)"."""
import os
import random
import re
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import uvtest  # noqa: E402
from uvtest import (Failure, Testweb, check, now_us, read_records, read_stats,  # noqa: E402
                    start_crawl, stop, url_key, wait_exit, wait_for_requests)

DRAIN_S = 3.0
ROUNDS = 20
EXIT_BOUND_S = 1.5
SITE = ["--seed", "2", "--hosts", "40", "--pages", "200", "--links", "10",
        "--latency", "100", "--jitter", "200"]


def crawl(a, tw):
    return start_crawl(a.uvcrawl, [
        "--resolve", tw.resolve_arg(), "--scope", "any", "-c", "300", "--per-host", "4",
        "--rate", "0", "--drain-timeout", str(DRAIN_S)] + [tw.url(h) for h in range(1, 41)],
        a.engine)


def sig_field(pid, field, sig=signal.SIGINT):
    """Whether sig is in a signal mask of /proc/PID/status (SigCgt: caught,
    ShdPnd: sent to the process and not yet taken by any thread)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1], 16) & (1 << (sig - 1)) != 0
    except FileNotFoundError:
        pass
    return False


def sigint_caught(pid):
    return sig_field(pid, "SigCgt")


def wait_sigint_taken(proc, timeout=10.0):
    """Bounded wait until a SIGINT sent to proc has been taken (handled or
    sigwait'ed): a second one sent before would merge with it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not sig_field(proc.pid, "ShdPnd") or proc.poll() is not None:
            return
        time.sleep(0.001)  # polling interval of a bounded wait, not a delay
    raise Failure("the crawler never took the first SIGINT")


def wait_sigint_caught(proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sigint_caught(proc.pid):
            return
        if proc.poll() is not None:
            raise Failure(f"crawler exited ({proc.returncode}) before catching SIGINT")
        # no sleep: the point is to signal as early as the handler exists
    raise Failure("crawler never installed a SIGINT handler")


def finish(proc, out, stats, err, what):
    rc = wait_exit(proc, DRAIN_S + 10, what)
    with open(err) as f:
        text = f.read()
    return rc, read_records(out), read_stats(stats), text


def test():
    a = uvtest.parse_args()
    rnd = random.Random(int(os.environ.get("UVTEST_SEED", "20261127")))
    for i in range(ROUNDS):
        sig = (signal.SIGINT, signal.SIGTERM)[i % 2]
        after = rnd.randint(1, 1200)
        what = f"round {i} ({sig.name} after {after} responses)"
        with Testweb(a.testweb, SITE) as tw:
            proc, out, stats, err = crawl(a, tw)
            try:
                wait_for_requests(tw, after, proc)
                t_sig = now_us()
                proc.send_signal(sig)
                rc, recs, st, text = finish(proc, out, stats, err, what)
                took = (now_us() - t_sig) / 1e6
            finally:
                stop(proc, signal.SIGKILL)
            log = tw.stop_and_read_log()
        check(rc == 130, f"{what}: exit 130 ({rc}: {text.strip()[-300:]})")
        last_s = (max(r["done_us"] for r in log) - t_sig) / 1e6
        check(took <= min(last_s + EXIT_BOUND_S, DRAIN_S),
              f"{what}: exit {took:.2f} s after the signal: when the last transfer ended "
              f"({last_s:.2f} s), before the {DRAIN_S} s timeout")
        check(st is not None and st["pages"] == len(recs) and st["interrupted"],
              f"{what}: {len(recs)} complete records, stats count them")
        by_key = {url_key(r["url"]): r for r in recs}
        seen = [(r["host"], r["path"]) for r in log if r["path"] != "/robots.txt"]
        missing = [k for k in seen if k not in by_key]
        check(not missing, f"{what}: a record for each of testweb's {len(seen)} page requests "
                           f"(missing {missing[:3]})")
        aborted = [k for k in seen if by_key[k]["error"] == "aborted"]
        check(not aborted, f"{what}: no transfer in flight was aborted ({len(aborted)}: "
                           f"{aborted[:3]})")
        if a.engine == "loop":  # threads: a job handed out but not started may be
            n = sum(1 for r in recs if r["error"] == "aborted")  # given back "aborted"
            check(n == 0, f"{what}: no \"aborted\" record at all ({n})")
        check(re.search(r"interrupted \(drained\)", text) is not None,
              f"{what}: summary says drained ({text.strip()[-200:]})")

    # As soon as the process catches SIGINT: main()'s early handler, which
    # hands the signal on to the engine once it runs.
    for i in range(3):
        with Testweb(a.testweb, SITE, log=False) as tw:
            proc, out, stats, err = crawl(a, tw)
            try:
                wait_sigint_caught(proc)
                proc.send_signal(signal.SIGINT)
                rc, recs, st, text = finish(proc, out, stats, err, f"early signal {i}")
            finally:
                stop(proc, signal.SIGKILL)
        check(rc == 130 and st is not None and st["interrupted"] and st["pages"] == len(recs),
              f"early signal {i}: exit 130, stats written ({rc}: {text.strip()[-200:]})")
        check(re.search(r"interrupted \(drained\)", text) is not None,
              f"early signal {i}: summary says drained")

    # Two signals: the second aborts what is in flight.
    with Testweb(a.testweb, SITE) as tw:
        proc, out, stats, err = crawl(a, tw)
        try:
            wait_for_requests(tw, 20, proc)
            t_sig = now_us()
            proc.send_signal(signal.SIGINT)
            wait_sigint_taken(proc)  # else the two may merge into one delivery
            proc.send_signal(signal.SIGINT)
            rc, recs, st, text = finish(proc, out, stats, err, "two signals")
        finally:
            stop(proc, signal.SIGKILL)
        log = tw.stop_and_read_log()
    in_flight = [r for r in log if r["arrival_us"] < t_sig < r["done_us"]]
    check(rc == 130 and st["interrupted"], f"two SIGINTs: exit 130 ({rc})")
    n = sum(1 for r in recs if r["error"] == "aborted")
    check(in_flight and n > 0, f"two SIGINTs: {n} \"aborted\" records "
                               f"({len(in_flight)} requests were in flight)")
    check(re.search(r"interrupted \(aborted\)", text) is not None,
          f"two SIGINTs: summary says aborted ({text.strip()[-200:]})")


uvtest.main(test)
