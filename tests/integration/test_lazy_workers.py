"""The threads engine starts workers as work appears (issue 15, item 17).

1. `-c 100000` on a three-page site: the crawl fetches every page and
   starts no more worker threads than fetches were ever in flight at once
   (stats "threads_started" <= "peak_inflight", and under 50), and its peak
   RSS (wait4's ru_maxrss) stays under 100 MB and within 30 MB of the same
   crawl at -c 1. Before the fix every -c worker started up front: 9,968
   threads (-c fitted to the open-files limit) and about 150 MB.
2. A worker that cannot be started lowers the cap instead of stopping the
   crawl: with each thread's stack at 4 GiB (RLIMIT_STACK) and 14 GiB of
   address space (RLIMIT_AS), only the signal thread and two workers fit;
   the crawl still fetches the whole site, says so in one stderr line, and
   never has more fetches in flight than the workers it has plus one.
3. If not even one worker can start (6 GiB: the signal thread alone), the
   run ends with exit 1, one line on stderr and no record.

Parts 2 and 3 limit the address space, which sanitizer builds (their
shadow memory is terabytes of it) cannot run under: they are skipped there.
"""
import os
import re
import resource
import subprocess
import tempfile
import threading
import time

import uvtest
from uvtest import Testweb, check, read_records, read_stats

GIB = 1 << 30


def crawl(a, args, limits=None, timeout=120):
    """Run uvcrawl to the end with optional soft rlimits {resource: bytes};
    returns (exit code, records, stats, stderr, peak RSS in bytes, wall s)."""
    d = tempfile.mkdtemp(prefix="uvcrawl-")
    out, stats = os.path.join(d, "records.jsonl"), os.path.join(d, "stats.json")
    cmd = [a.uvcrawl, "--engine", a.engine, "-o", out, "--stats", stats] + list(args)

    def set_limits():
        for res, value in (limits or {}).items():
            resource.setrlimit(res, (value, resource.getrlimit(res)[1]))

    with open(os.path.join(d, "stderr"), "w+") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=set_limits)
        killer = threading.Timer(timeout, p.kill)  # a bound, not a wait
        killer.start()
        _, status, usage = os.wait4(p.pid, 0)
        killer.cancel()
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        err.seek(0)
        text = err.read()
    # ru_maxrss is in KiB on Linux.
    return p.returncode, read_records(out), read_stats(stats), text, usage.ru_maxrss * 1024, wall


def small_site(a, sanitized):
    with Testweb(a.testweb, ["--hosts", "1", "--pages", "3"]) as tw:
        expected = tw.expect(-1, scope="host")
        base = ["--resolve", tw.resolve_arg(), "--rate", "0", "-q", tw.url()]
        rc1, recs1, _, err1, rss1, _ = crawl(a, ["-c", "1"] + base)
        rc, recs, stats, err, rss, wall = crawl(a, ["-c", "100000"] + base)
    check(rc1 == 0 and {r["url"] for r in recs1} == expected,
          f"-c 1: exit 0, every page ({rc1}: {err1.strip()[-300:]})")
    check(rc == 0, f"-c 100000: exit 0 ({rc}: {err.strip()[-300:]})")
    got = [r["url"] for r in recs]
    check(sorted(got) == sorted(expected),
          f"-c 100000: every page once ({sorted(got)} vs {sorted(expected)})")
    check(stats is not None and "threads_started" in stats,
          f"stats has threads_started ({sorted(stats or {})})")
    started, peak = stats["threads_started"], stats["peak_inflight"]
    print(f"# -c 100000: {started} worker threads, peak in flight {peak}, "
          f"peak RSS {rss / 1e6:.1f} MB (-c 1: {rss1 / 1e6:.1f} MB), {wall:.3f} s")
    check(1 <= started <= max(1, peak),
          f"no more workers than fetches in flight at once ({started} vs peak {peak})")
    check(started < 50, f"a few worker threads, not -c ({started})")
    check(rss < rss1 + 30e6,
          f"peak RSS within 30 MB of -c 1 ({rss / 1e6:.1f} vs {rss1 / 1e6:.1f} MB)")
    if not sanitized:
        check(rss < 100e6, f"peak RSS under 100 MB ({rss / 1e6:.1f} MB)")


def capped_by_limits(a):
    site = ["--hosts", "10", "--pages", "30", "--latency", "20"]
    limits = {resource.RLIMIT_STACK: 4 * GIB, resource.RLIMIT_AS: 14 * GIB}
    with Testweb(a.testweb, site) as tw:
        expected = tw.expect(-1)
        rc, recs, stats, err, _, _ = crawl(a, [
            "--resolve", tw.resolve_arg(), "--scope", "any", "-c", "50", "--per-host", "4",
            "--rate", "0", "-q", tw.url()], limits)
    check(rc == 0, f"capped: exit 0 ({rc}: {err.strip()[-300:]})")
    lines = err.strip().splitlines()
    said = [re.fullmatch(r"uvcrawl: cannot start another worker thread \((.+)\): "
                         r"going on with (\d+) \(-c 50\)", l) for l in lines]
    check(len(lines) == 1 and said[0] is not None, f"capped: one line says so ({lines})")
    running = int(said[0].group(2))
    check(stats["threads_started"] == running and 1 <= running < 50,
          f"capped: {running} workers said, {stats['threads_started']} counted")
    urls = [r["url"] for r in recs]
    check(len(urls) == len(set(urls)) and set(urls) == expected,
          f"capped: the whole site, each page once ({len(set(urls))} of {len(expected)}, "
          f"{len(urls)} records)")
    check(stats["peak_inflight"] <= running + 1,
          f"capped: in flight never above workers + 1 ({stats['peak_inflight']} vs {running})")


def no_worker(a):
    limits = {resource.RLIMIT_STACK: 4 * GIB, resource.RLIMIT_AS: 6 * GIB}
    with Testweb(a.testweb, ["--hosts", "1", "--pages", "3"]) as tw:
        rc, recs, stats, err, _, _ = crawl(a, [
            "--resolve", tw.resolve_arg(), "-c", "50", "-q", tw.url()], limits)
    lines = err.strip().splitlines()
    check(rc == 1, f"no worker: exit 1 ({rc}: {lines})")
    check(len(lines) == 1 and re.fullmatch(r"uvcrawl: cannot start a worker thread: .+", lines[0]),
          f"no worker: one line on stderr ({lines})")
    check(recs == [] and stats["threads_started"] == 0,
          f"no worker: nothing fetched ({len(recs)} records, {stats['threads_started']} started)")


def test():
    a = uvtest.parse_args({"--sanitize": {"default": "none"}})
    sanitized = a.sanitize not in ("", "none")
    small_site(a, sanitized)
    if sanitized:
        print(f"# skip - address-space limits under -Db_sanitize={a.sanitize}")
        return
    capped_by_limits(a)
    no_worker(a)


uvtest.main(test)
