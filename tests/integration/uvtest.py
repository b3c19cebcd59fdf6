"""uvtest - helpers for the integration and stress tests.

Starts the real testweb server (and dnsmasq when asked) on loopback, runs the
real uvcrawl binary against it, and reads back records, stats and testweb's
request log. Every process a test starts is stopped by its PID when the test
ends, also on failure. Waits are bounded waits on the event itself (a file
appearing, a process exiting), never fixed sleeps.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time


def parse_args(extra=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--uvcrawl", required=True)
    ap.add_argument("--testweb", required=True)
    ap.add_argument("--engine", default="loop")
    for name, kw in (extra or {}).items():
        ap.add_argument(name, **kw)
    return ap.parse_args()


class Failure(Exception):
    pass


def check(cond, what):
    """Assert that reports what was checked."""
    if not cond:
        raise Failure(what)
    print("ok -", what.split("\n")[0][:200])


def wait_for_file(path, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return
        if proc.poll() is not None:
            raise Failure(f"process exited ({proc.returncode}) before writing {path}")
        time.sleep(0.02)  # polling interval of a bounded wait, not a delay
    raise Failure(f"timed out waiting for {path}")


def stop(proc, sig=signal.SIGTERM, timeout=20.0):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Testweb:
    """testweb on 127.0.0.1 (or `listen`, e.g. "[::1]:0") with a free port;
    `with Testweb(path, args) as tw`."""

    def __init__(self, binary, args, log=True, listen="127.0.0.1:0"):
        self.binary = binary
        self.listen = listen
        self.args = list(args)
        self.dir = tempfile.mkdtemp(prefix="uvtest-")
        self.log_path = os.path.join(self.dir, "requests.log") if log else None
        self.proc = None
        self.port = None

    def __enter__(self):
        port_file = os.path.join(self.dir, "port")
        cmd = [self.binary, "--listen", self.listen, "--port-file", port_file] + self.args
        if self.log_path:
            cmd += ["--log", self.log_path]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        try:
            wait_for_file(port_file, self.proc)
        except Exception:
            stop(self.proc)
            raise
        with open(port_file) as f:
            self.port = int(f.read().strip())
        return self

    def __exit__(self, *exc):
        stop(self.proc)

    def url(self, host=1, path="/"):
        return f"http://h{host:04d}.test:{self.port}{path}"

    def resolve_arg(self):
        return f"*.test:{self.port}:127.0.0.1"

    def expect(self, depth, seeds=None, scope="any"):
        """URLs reachable within depth, as testweb computes them."""
        cmd = [self.binary, "--port", str(self.port), "--expect", str(depth),
               "--expect-scope", scope] + self.args
        for s in seeds or [self.url()]:
            cmd += ["--expect-seed", s]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)
        return set(line for line in out.stdout.splitlines() if line)

    def stop_and_read_log(self):
        """Stop the server (it flushes its log on SIGTERM) and parse the log."""
        stop(self.proc)
        rows = []
        with open(self.log_path) as f:
            for line in f:
                arr, done, host, path, status, conn = line.rstrip("\n").split("\t")
                rows.append({"arrival_us": int(arr), "done_us": int(done), "host": host,
                             "path": path, "status": int(status), "conn": conn})
        return rows


def run_crawl(uvcrawl, args, engine="loop", timeout=300):
    """Run uvcrawl to the end; returns (exit code, records, stats, stderr)."""
    d = tempfile.mkdtemp(prefix="uvcrawl-")
    out, stats = os.path.join(d, "records.jsonl"), os.path.join(d, "stats.json")
    # UVTEST_EXTRA: options a test registration adds to every crawl
    # (e.g. "--seen lockfree" to run a test over the lock-free visited set).
    extra = os.environ.get("UVTEST_EXTRA", "").split()
    cmd = [uvcrawl, "--engine", engine, "-o", out, "--stats", stats] + extra + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, read_records(out), read_stats(stats), p.stderr


def read_records(path):
    records = []
    if not os.path.exists(path):
        return records
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        raise Failure(f"{path}: last record is not a complete line")
    for n, line in enumerate(data.splitlines(), 1):
        try:
            records.append(json.loads(line))
        except ValueError as e:
            raise Failure(f"{path}:{n}: not JSON ({e}): {line[:200]!r}")
    return records


def read_stats(path):
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path) as f:
        return json.load(f)


def main(fn):
    """Run a test function; exit 0 on success, 1 with a message on failure."""
    try:
        fn()
    except Failure as e:
        print("FAIL -", e, file=sys.stderr)
        sys.exit(1)


# ---- helpers added for issue 16 (observed events, log analysis, rusage) ----

def read_log(path):
    """testweb's request log (whole lines only) as dicts, like
    Testweb.stop_and_read_log, without stopping the server."""
    rows = []
    if path is None or not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                break  # a line still being written
            arr, done, host, path_, status, conn = line.rstrip("\n").split("\t")
            rows.append({"arrival_us": int(arr), "done_us": int(done), "host": host,
                         "path": path_, "status": int(status), "conn": conn})
    return rows


def wait_for_requests(tw, n, proc, timeout=30.0):
    """Bounded wait until testweb's log holds at least n requests (testweb
    logs a request when its response is written, or its connection dies);
    returns the rows. Fails if proc exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(tw.log_path, "rb") as f:
                lines = f.read().count(b"\n")
        except FileNotFoundError:
            lines = 0
        if lines >= n:
            return read_log(tw.log_path)
        if proc.poll() is not None:
            raise Failure(f"crawler exited ({proc.returncode}) before testweb logged "
                          f"{n} requests ({lines})")
        time.sleep(0.002)  # polling interval of a bounded wait, not a delay
    raise Failure(f"timed out waiting for {n} requests in testweb's log")


def now_us():
    """CLOCK_MONOTONIC in microseconds: testweb's log uses the same clock."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def max_overlap(intervals):
    """Peak number of [start, end] intervals open at once (an interval that
    ends at the moment another starts does not overlap it)."""
    events = sorted([(a, 1) for a, _ in intervals] + [(d, -1) for _, d in intervals],
                    key=lambda e: (e[0], e[1]))
    cur = peak = 0
    for _, delta in events:
        cur += delta
        peak = max(peak, cur)
    return peak


def max_window_excess(arrivals_us, burst, rate):
    """Largest count - (burst + rate*t) over all windows [a_i, a_j] of one
    host's request arrivals (sorted, microseconds): > 0 breaks the rate."""
    worst = float("-inf")
    for i in range(len(arrivals_us)):
        for j in range(i, len(arrivals_us)):
            t = (arrivals_us[j] - arrivals_us[i]) / 1e6
            worst = max(worst, (j - i + 1) - (burst + rate * t))
    return worst


def url_key(url):
    """(host, path?query) of a record's URL, as testweb's log names it."""
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    return hostport.split(":")[0].lower(), "/" + path


def start_crawl(uvcrawl, args, engine="loop", stderr_path=None):
    """Start uvcrawl in the background; returns (proc, records path, stats
    path, stderr path). Stop it with stop() or wait for it; read stderr from
    the file after it exits."""
    d = tempfile.mkdtemp(prefix="uvcrawl-")
    out, stats = os.path.join(d, "records.jsonl"), os.path.join(d, "stats.json")
    err = stderr_path or os.path.join(d, "stderr.txt")
    extra = os.environ.get("UVTEST_EXTRA", "").split()
    cmd = [uvcrawl, "--engine", engine, "-o", out, "--stats", stats] + extra + list(args)
    with open(err, "w") as ef:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=ef)
    return proc, out, stats, err


def wait_exit(proc, bound, what):
    """Wait at most bound seconds for proc; kill it and fail after that."""
    try:
        proc.wait(bound)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise Failure(f"{what}: still running after {bound:.1f} s")
    return proc.returncode


def run_crawl_rusage(uvcrawl, args, engine="loop", timeout=300):
    """run_crawl, plus the crawler's peak resident set in KiB (ru_maxrss from
    wait4 on its own PID, so no other process is counted)."""
    proc, out, stats, err = start_crawl(uvcrawl, args, engine)
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        killer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(err) as f:
        stderr = f.read()
    return proc.returncode, read_records(out), read_stats(stats), stderr, usage.ru_maxrss
