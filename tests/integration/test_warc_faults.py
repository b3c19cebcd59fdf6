"""--warc under bad input and faults (issue 11): a PREFIX in a place that
cannot be written gets one clear line and exit 2 before any fetch; a full
disk (the CDXJ index on /dev/full, and the WARC files on a small tmpfs when
this machine lets us mount one) stops the crawl with exit 1, and every WARC
file ends on a complete record; after SIGINT the files are closed on
complete records (exit 130); after kill -9 at most the last record of the
open file is incomplete, and a --state resume goes on in a new file (the
next free index) that reads back whole."""
import os
import signal
import subprocess
import tempfile
import time

import uvtest
from uvtest import Failure, Testweb, check, run_crawl, start_crawl, wait_exit
from warcutil import gzip_members, read_warc, reader_ready, warc_files


def wait_for_size(path, size, proc, timeout=30.0):
    """Bounded wait until `path` holds at least `size` bytes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.path.getsize(path) >= size:
                return
        except FileNotFoundError:
            pass
        if proc.poll() is not None:
            raise Failure(f"crawler exited ({proc.returncode}) before {path} reached {size} bytes")
        time.sleep(0.002)  # polling interval of a bounded wait, not a delay
    raise Failure(f"timed out waiting for {path} to reach {size} bytes")


def whole(files, what):
    """Every file is complete gzip members only, and warcio.js reads them."""
    for f in files:
        members, left = gzip_members(f)
        check(members >= 1 and left == 0,
              f"{what}: {os.path.basename(f)} ends on a complete record "
              f"({members} records, {left} bytes left over)")
        recs = read_warc(f)
        check(len(recs) == members and recs[0]["type"] == "warcinfo" and
              all(r["block_ok"] is not False for r in recs),
              f"{what}: {os.path.basename(f)} reads back with warcio.js ({len(recs)} records)")


def crawl_args(tw):
    return ["--resolve", tw.resolve_arg(), "--rate", "0", "--per-host", "4", "--retries", "0",
            tw.url(1, "/")]


def unwritable(a, tw):
    for prefix in ("/nonexistent-dir/crawl", "/proc/crawl"):
        d = tempfile.mkdtemp(prefix="uvwarc-bad-")
        out, stats = os.path.join(d, "out.jsonl"), os.path.join(d, "stats.json")
        p = subprocess.run([a.uvcrawl, "--engine", a.engine, "-o", out, "--stats", stats,
                            "--warc", prefix] + crawl_args(tw), capture_output=True, text=True,
                           timeout=60)
        lines = [x for x in p.stderr.splitlines() if x.strip()]
        check(p.returncode == 2 and len(lines) == 1 and
              lines[0].startswith("uvcrawl: cannot create") and prefix in lines[0],
              f"--warc {prefix}: one clear line, exit 2 ({p.returncode}: {lines})")
        check(not os.listdir(d), f"--warc {prefix}: nothing written ({os.listdir(d)})")
    d = tempfile.mkdtemp(prefix="uvwarc-cdx-")
    rc, _, _, err = run_crawl(a.uvcrawl, ["--warc", os.path.join(d, "crawl"), "--warc-cdx",
                                          "/nonexistent-dir/x.cdxj"] + crawl_args(tw), a.engine)
    check(rc == 2 and "cannot create /nonexistent-dir/x.cdxj" in err and not os.listdir(d),
          f"--warc-cdx unwritable: exit 2, no WARC file begun ({rc}: {err.strip()}, "
          f"{os.listdir(d)})")
    rc, _, _, err = run_crawl(a.uvcrawl, ["--warc-cdx", "x.cdxj"] + crawl_args(tw), a.engine)
    check(rc == 2 and "--warc-cdx needs --warc" in err, f"--warc-cdx alone: exit 2 ({err.strip()})")
    rows = uvtest.read_log(tw.log_path)
    check(len(rows) == 0, f"testweb saw no request ({len(rows)})")


def cdx_full(a, tw):
    d = tempfile.mkdtemp(prefix="uvwarc-full-")
    prefix = os.path.join(d, "crawl")
    rc, _, _, err = run_crawl(a.uvcrawl, ["--warc", prefix, "--warc-cdx", "/dev/full"] +
                              crawl_args(tw), a.engine)
    check(rc == 1 and "No space left on device" in err and "WARC files" in err,
          f"index on /dev/full: exit 1 and why ({rc}: {err.strip()[-300:]})")
    whole(warc_files(prefix), "index on /dev/full")


def tmpfs_full(a, tw):
    mnt = tempfile.mkdtemp(prefix="uvwarc-tmpfs-")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", mnt],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(f"note - no tmpfs here ({p.stderr.strip()}): the WARC-full case is covered by "
              f"the index on /dev/full only")
        return
    try:
        prefix = os.path.join(mnt, "crawl")
        rc, _, _, err = run_crawl(a.uvcrawl, ["--warc", prefix, "--warc-max-size", "40k"] +
                                  crawl_args(tw), a.engine)
        check(rc == 1 and "No space left on device" in err,
              f"WARC on a full tmpfs: exit 1 and why ({rc}: {err.strip()[-300:]})")
        files = warc_files(prefix)
        check(len(files) >= 2, f"rotated before the disk filled ({len(files)} files)")
        whole(files, "full tmpfs")
    finally:
        subprocess.run(["umount", mnt], check=False)


def interrupted(a, tw):
    d = tempfile.mkdtemp(prefix="uvwarc-int-")
    prefix = os.path.join(d, "crawl")
    proc, _, _, errp = start_crawl(a.uvcrawl, ["--warc", prefix, "-c", "16"] + crawl_args(tw),
                                   a.engine)
    try:
        wait_for_size(prefix + "-00000.warc.gz", 8000, proc)
        proc.send_signal(signal.SIGINT)
        rc = wait_exit(proc, 30, "SIGINT")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    check(rc == 130, f"SIGINT: exit 130 ({rc}: {open(errp).read()[-300:]})")
    whole(warc_files(prefix), "SIGINT")


def killed_and_resumed(a, tw):
    d = tempfile.mkdtemp(prefix="uvwarc-kill-")
    prefix, state = os.path.join(d, "crawl"), os.path.join(d, "state")
    args = ["--warc", prefix, "--state", state, "-c", "16"] + crawl_args(tw)
    proc, _, _, _ = start_crawl(a.uvcrawl, args, a.engine)
    try:
        wait_for_size(prefix + "-00000.warc.gz", 8000, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    first = prefix + "-00000.warc.gz"
    members, left = gzip_members(first)
    # Whole members, then at most the start of one more.
    check(members >= 2, f"kill -9: the file holds complete records ({members}, {left} left over)")
    if left:
        with open(first, "rb") as f:
            data = f.read()
        check(data[len(data) - left:][:2] == b"\x1f\x8b",
              f"kill -9: what is left over is the start of one last record ({left} bytes)")
    rc, _, _, err = run_crawl(a.uvcrawl, args, a.engine, timeout=120)
    check(rc == 0, f"resume: exit 0 ({rc}: {err.strip()[-300:]})")
    files = warc_files(prefix)
    check(files == [first, prefix + "-00001.warc.gz"],
          f"resume: goes on in the next free file ({[os.path.basename(f) for f in files]})")
    whole(files[1:], "resumed")


def test():
    a = uvtest.parse_args()
    reader_ready()
    with Testweb(a.testweb, ["--hosts", "1", "--pages", "400", "--page-bytes", "4000"]) as tw:
        unwritable(a, tw)
    with Testweb(a.testweb, ["--hosts", "1", "--pages", "60", "--page-bytes", "4000"]) as tw:
        cdx_full(a, tw)
        tmpfs_full(a, tw)
    with Testweb(a.testweb, ["--hosts", "1", "--pages", "400", "--page-bytes", "4000",
                             "--latency", "20"]) as tw:
        interrupted(a, tw)
        killed_and_resumed(a, tw)


uvtest.main(test)
