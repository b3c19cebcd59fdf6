"""--state DIR: a crawl survives kill -9 and resumes with nothing lost.

kill: a 30-host x 170-page testweb (latency on) is crawled with --state and
killed with SIGKILL 20 times at random moments (right after the start, after
a random number of records, during a SIGINT drain), resumed each time with
the same command, until a run ends by itself. Then: every line
of the records file is JSON; the URLs with a record (an "aborted" one is
not a fetch) are exactly testweb's --expect set; a run refetches at most -c
pages that an earlier run already had a 200 for (those in flight, or whose
commit was not durable, at the kill); in testweb's log every host's requests
stay within burst + rate * t over every window, across the restarts; and
robots.txt is not fetched again on resume while it is fresh.

sigint: a crawl stopped by SIGINT (exit 130) and resumed without seeds has
one record per URL, the same set as an uninterrupted crawl.

window: one host's long queue through the 32-URL window, killed three times.

full: the state and records on a small tmpfs that fills mid-crawl; exit 1,
a whole database, whole lines; moved to a disk with room, the crawl resumes
with nothing lost.

The random moments come from a seed printed first (UVTEST_SEED=N repeats
a run)."""
import collections
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time

import uvtest
from uvtest import Failure, Testweb, check

SITE = ["--seed", "11", "--hosts", "30", "--pages", "170", "--links", "10", "--cross", "30",
        "--page-bytes", "1500", "--latency", "5", "--jitter", "20"]
RATE, BURST, CONC = 20.0, 3, 48
SPREAD_S = 0.1  # as test_rate.py: token-to-arrival spread the rate check allows
KILLS = 20


def complete_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def wait_lines(path, n, proc, bound=60.0):
    """Bounded wait until `path` has n complete lines (or proc exits)."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if complete_lines(path) >= n or proc.poll() is not None:
            return
        time.sleep(0.002)  # polling interval of a bounded wait, not a delay
    raise Failure(f"timed out waiting for {n} records in {path}")


def wait_text(path, text, proc, bound=30.0):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        with open(path) as f:
            if text in f.read():
                return True
        if proc.poll() is not None:
            return False
        time.sleep(0.002)  # polling interval of a bounded wait, not a delay
    raise Failure(f"timed out waiting for '{text}' in {path}")


def crawl_cmd(a, tw, state, records, seeds=True):
    extra = os.environ.get("UVTEST_EXTRA", "").split()
    cmd = [a.uvcrawl, "--engine", a.engine, "--state", state, "-o", records, "--resolve",
           tw.resolve_arg(), "--scope", "any", "-c", str(CONC), "--per-host", "4", "--rate",
           str(RATE), "--burst", str(BURST)] + extra
    return cmd + ([tw.url()] if seeds else [])


def fetched(recs):
    return [r for r in recs if r.get("error") != "aborted"]


def test_kill(a, rng):
    with Testweb(a.testweb, SITE) as tw:
        expected = tw.expect(-1)
        d = tempfile.mkdtemp(prefix="uvtest-state-")
        state, records, err = (os.path.join(d, n) for n in ("state", "records.jsonl", "err"))
        bounds = []  # complete lines before each run
        kills = 0
        for run in range(KILLS + 10):
            bounds.append(complete_lines(records))
            with open(err, "w") as ef:
                proc = subprocess.Popen(crawl_cmd(a, tw, state, records),
                                        stdout=subprocess.DEVNULL, stderr=ef)
            try:
                if kills < KILLS:
                    how = rng.choice(["start", "records", "records", "records", "drain"])
                    if how != "start":
                        wait_lines(records, bounds[-1] + rng.randint(1, 400), proc)
                    if how == "drain" and proc.poll() is None:
                        proc.send_signal(signal.SIGINT)
                        wait_text(err, "draining", proc)
                    if proc.poll() is None:
                        proc.kill()
                        kills += 1
                rc = uvtest.wait_exit(proc, 120, f"run {run}")
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if rc == -signal.SIGKILL:
                continue
            with open(err) as f:
                text = f.read()
            if rc == 130:
                continue  # a SIGINT drain that ended before the kill: resume it
            check(rc == 0, f"run {run} ends 0 (got {rc}: {text.strip()[-300:]})")
            break
        else:
            raise Failure("the crawl never ended")
        log = tw.stop_and_read_log()
    print(f"# {kills} kills, {len(bounds)} runs")
    check(kills == KILLS, f"the crawl was killed {KILLS} times ({kills})")
    recs = uvtest.read_records(records)  # every line is JSON, the last one whole
    got = set(r["url"] for r in fetched(recs))
    check(got == expected,
          f"the records' URLs equal testweb --expect ({len(got)} vs {len(expected)}; "
          f"missing {sorted(expected - got)[:3]}, extra {sorted(got - expected)[:3]})")
    check(len(expected) >= 5000, f"the site is large enough ({len(expected)} URLs)")
    # Refetched 200s, run by run: at most -c each.
    seen_ok = set()
    worst = 0
    for i, start in enumerate(bounds):
        end = bounds[i + 1] if i + 1 < len(bounds) else len(recs)
        again = 0
        for r in recs[start:end]:
            if r.get("status") == 200:
                again += r["url"] in seen_ok
                seen_ok.add(r["url"])
        worst = max(worst, again)
    check(worst <= CONC, f"no run refetched more than -c {CONC} pages already fetched ({worst})")
    hosts = collections.defaultdict(list)
    for row in log:
        hosts[row["host"]].append(row["arrival_us"])
    excess = max(uvtest.max_window_excess(sorted(v), BURST, RATE) for v in hosts.values())
    check(excess <= RATE * SPREAD_S,
          f"rate: every host's requests within {BURST} + {RATE:g}*t over every window, "
          f"across {len(bounds)} runs (worst excess {excess:.2f})")
    robots = sum(1 for row in log if row["path"] == "/robots.txt")
    check(robots < 2 * len(hosts),
          f"robots.txt is kept across runs: {robots} fetches for {len(hosts)} hosts in "
          f"{len(bounds)} runs")


def test_sigint(a, rng):
    with Testweb(a.testweb, SITE) as tw:
        expected = tw.expect(-1)
        d = tempfile.mkdtemp(prefix="uvtest-state-")
        state, records, err = (os.path.join(d, n) for n in ("state", "records.jsonl", "err"))
        with open(err, "w") as ef:
            proc = subprocess.Popen(crawl_cmd(a, tw, state, records), stdout=subprocess.DEVNULL,
                                    stderr=ef)
        try:
            wait_lines(records, rng.randint(200, 1500), proc)
            proc.send_signal(signal.SIGINT)
            rc = uvtest.wait_exit(proc, 60, "the interrupted run")
        finally:
            uvtest.stop(proc, signal.SIGKILL)
        check(rc == 130, f"SIGINT: the first run exits 130 ({rc})")
        first = len(uvtest.read_records(records))
        p = subprocess.run(crawl_cmd(a, tw, state, records, seeds=False), capture_output=True,
                           text=True, timeout=120)
        check(p.returncode == 0, f"the resumed run exits 0 ({p.returncode}: {p.stderr[-300:]})")
        # One more run: the state says the crawl is finished, and nothing is fetched.
        before = len(uvtest.read_log(tw.log_path))
        p2 = subprocess.run(crawl_cmd(a, tw, state, records), capture_output=True, text=True,
                            timeout=60)
        check(p2.returncode == 0 and "is finished" in p2.stderr,
              f"a finished crawl says so and exits 0 ({p2.returncode}: {p2.stderr.strip()})")
        log = tw.stop_and_read_log()
    check(len(log) == before, f"a finished crawl fetches nothing ({len(log) - before} requests)")
    recs = uvtest.read_records(records)
    urls = [r["url"] for r in fetched(recs)]
    twice = [u for u, n in collections.Counter(urls).items() if n > 1]
    check(not twice, f"one record per URL across the two runs ({len(twice)} twice: {twice[:3]})")
    check(set(urls) == expected,
          f"the two runs' records equal an uninterrupted crawl's set, testweb --expect "
          f"({len(set(urls))} vs {len(expected)}, {first} in the first run)")


def test_window(a, rng):
    """One host with thousands of queued URLs: with --state the frontier
    keeps a small window of each host's queue and refills it from the
    store; killed three times and resumed, the crawl still gets them all."""
    site = ["--seed", "9", "--hosts", "1", "--pages", "3000", "--links", "20", "--cross", "0",
            "--page-bytes", "800"]
    with Testweb(a.testweb, site) as tw:
        expected = tw.expect(-1)
        d = tempfile.mkdtemp(prefix="uvtest-state-")
        state, records = os.path.join(d, "state"), os.path.join(d, "records.jsonl")
        extra = os.environ.get("UVTEST_EXTRA", "").split()
        cmd = [a.uvcrawl, "--engine", a.engine, "--state", state, "-o", records, "--resolve",
               tw.resolve_arg(), "-c", "64", "--per-host", "64", "--rate", "0", "-q",
               tw.url()] + extra
        for kill in range(4):
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
            try:
                if kill < 3:
                    wait_lines(records, complete_lines(records) + rng.randint(100, 600), proc)
                    proc.kill()
                rc = uvtest.wait_exit(proc, 120, f"run {kill}")
            finally:
                uvtest.stop(proc, signal.SIGKILL)
        check(rc == 0, f"the last run ends 0 ({rc})")
        status = subprocess.run([a.uvcrawl, "--state", state, "--status"], capture_output=True,
                                text=True, timeout=60).stdout
    recs = uvtest.read_records(records)
    got = set(r["url"] for r in fetched(recs))
    check(got == expected, f"one host's {len(expected)} URLs, all fetched through the window "
                           f"({len(got)}; missing {sorted(expected - got)[:3]})")
    check("queued 0" in status and "leased 0" in status, f"nothing left in the store ({status!r})")


def test_full(a, rng):
    """A full disk: the state and the records on a small tmpfs that fills
    mid-crawl. The crawl stops with exit 1 and one line saying which file;
    the database passes SQLite's integrity check; every record line is
    whole; moved to a disk with room, the crawl resumes and ends with
    nothing lost (the records equal testweb --expect) and at most -c pages
    fetched twice. The tmpfs size is random (UVTEST_SEED), so the disk
    fills at another moment each run."""
    site = ["--seed", "3", "--hosts", "10", "--pages", "300", "--links", "10",
            "--page-bytes", "2000", "--broken", "0"]
    d = tempfile.mkdtemp(prefix="uvtest-state-full-")
    mnt = os.path.join(d, "small")
    os.mkdir(mnt)
    size_kb = rng.randint(150, 4200)  # the WAL alone grows to 4 MB: full mid-crawl
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", mnt],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(f"# SKIP: cannot mount a tmpfs here ({p.stderr.strip()})")
        raise SystemExit(77)
    try:
        with Testweb(a.testweb, site, log=False) as tw:
            expected = tw.expect(-1)

            def cmd(where):
                return [a.uvcrawl, "--engine", a.engine, "--state", os.path.join(where, "state"),
                        "-o", os.path.join(where, "records.jsonl"), "--resolve",
                        tw.resolve_arg(), "--scope", "any", "-c", str(CONC), "--rate", "0",
                        "-q", tw.url()]
            p = subprocess.run(cmd(mnt), capture_output=True, text=True, timeout=120)
            lines = p.stderr.strip().splitlines() or [""]
            check(p.returncode == 1 and len(lines) == 1 and
                  ("No space left" in lines[0] or "disk is full" in lines[0]),
                  f"a {size_kb} KB disk fills: exit 1 and one line saying why "
                  f"({p.returncode}: {p.stderr.strip()[-300:]})")
            check(os.path.join(mnt, "state") in lines[0] or os.path.join(mnt, "records") in lines[0],
                  f"the line names the file that could not be written ({lines[0]})")
            moved = os.path.join(d, "roomy")
            shutil.copytree(mnt, moved)
            first = len(uvtest.read_records(os.path.join(moved, "records.jsonl")))
            db = sqlite3.connect(os.path.join(moved, "state", "crawl.db"))
            ok = db.execute("PRAGMA integrity_check").fetchone()[0]
            db.close()
            check(ok == "ok", f"the state database is whole after the full disk ({ok})")
            p = subprocess.run(cmd(moved), capture_output=True, text=True, timeout=120)
            check(p.returncode == 0, f"resumed with room: exit 0 ({p.returncode}: "
                                     f"{p.stderr.strip()[-300:]})")
    finally:
        subprocess.run(["umount", mnt], check=False)
    recs = uvtest.read_records(os.path.join(moved, "records.jsonl"))
    urls = [r["url"] for r in fetched(recs)]
    twice = [u for u, n in collections.Counter(urls).items() if n > 1]
    check(set(urls) == expected,
          f"nothing lost: the records equal testweb --expect ({len(set(urls))} vs "
          f"{len(expected)}, {first} before the disk filled; missing "
          f"{sorted(expected - set(urls))[:3]})")
    check(len(twice) <= CONC, f"at most -c pages fetched twice ({len(twice)})")


def test():
    a = uvtest.parse_args({"--part": {"default": "kill"}})
    seed = int(os.environ.get("UVTEST_SEED", time.time_ns() % 1000000))
    print(f"# UVTEST_SEED={seed}")
    rng = random.Random(seed)
    {"kill": test_kill, "sigint": test_sigint, "window": test_window,
     "full": test_full}[a.part](a, rng)


uvtest.main(test)
