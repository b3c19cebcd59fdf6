"""What the first signal says (issue 15): the crawl names how many
transfers are draining and that a second signal aborts them, on stderr,
and with --progress on a terminal the progress line says so from then on
(it ran on unchanged before). Signalled on an observed event: the first
response in testweb's log, with the other seeds' responses held back."""
import os
import pty
import re
import select
import signal
import subprocess
import tempfile
import time

import uvtest
from uvtest import Testweb, check, read_records

SEEDS = 8
LINE = re.compile(r"uvcrawl: interrupted: draining (\d+) transfers \(at most 20 s\), "
                  r"Ctrl-C again to abort them")


def wait_first_response(tw, proc, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(tw.log_path) and os.path.getsize(tw.log_path) > 0:
            return
        if proc.poll() is not None:
            raise uvtest.Failure(f"the crawl ended before any response ({proc.returncode})")
        time.sleep(0.01)  # polling the log file: the event itself, bounded
    raise uvtest.Failure("no response in testweb's log")


def start(a, tw, out, extra, stderr):
    seeds = [tw.url(h) for h in range(1, SEEDS + 1)]
    return subprocess.Popen([a.uvcrawl, "--engine", a.engine, "--resolve", tw.resolve_arg(),
                             "--robots", "off", "--rate", "0", "-d", "0", "--retries", "0",
                             "--drain-timeout", "20", "-o", out] + extra + seeds,
                            stdout=subprocess.DEVNULL, stderr=stderr)


def test():
    a = uvtest.parse_args()
    site = ["--hosts", str(SEEDS), "--pages", "2", "--latency", "50", "--jitter", "1500"]
    tmp = tempfile.mkdtemp(prefix="draining-")
    out = os.path.join(tmp, "records.jsonl")

    with Testweb(a.testweb, site) as tw:
        proc = start(a, tw, out, [], subprocess.PIPE)
        try:
            wait_first_response(tw, proc)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=60)
        finally:
            uvtest.stop(proc)
    m = LINE.search(err.decode())
    check(m is not None, f"the first signal says what drains ({err.decode()[-300:]})")
    n = int(m.group(1))
    recs = read_records(out)
    check(proc.returncode == 130 and 1 <= n < SEEDS and len(recs) == SEEDS and
          not any(r["error"] == "aborted" for r in recs),
          f"{n} transfers drained, every seed recorded ({proc.returncode}, {len(recs)} records)")

    # --progress on a terminal: the line turns to "draining"; a second signal aborts.
    with Testweb(a.testweb, site) as tw:
        master, slave = pty.openpty()
        proc = start(a, tw, out, ["--progress"], slave)
        os.close(slave)
        seen = b""
        try:
            wait_first_response(tw, proc)
            proc.send_signal(signal.SIGINT)
            end = time.monotonic() + 20
            while b"Ctrl-C again to abort  (" not in seen and time.monotonic() < end:
                r, _, _ = select.select([master], [], [], 0.5)
                if r:
                    try:
                        seen += os.read(master, 65536)
                    except OSError:
                        break
            proc.send_signal(signal.SIGINT)
            rc = proc.wait(timeout=30)
        finally:
            uvtest.stop(proc)
            os.close(master)
    text = seen.decode(errors="replace")
    check(re.search(r"\r\x1b\[Kdraining \d+ transfers, Ctrl-C again to abort  \(", text),
          f"--progress: the line says draining ({text[-300:]!r})")
    check(rc == 130, f"the second signal aborts: exit 130 ({rc})")


uvtest.main(test)
