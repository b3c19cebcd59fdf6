"""--state DIR refuses bad input with one line and exit 2, changing nothing:
a DIR that cannot be a directory, a database that is not uvcrawl's, of
another schema version, or corrupt, a second uvcrawl on the same DIR, an
option or seed that differs from the stored crawl's (until
--state-override), no seeds and no state. --status reads a state (also
while a crawl holds it), and a torn last record line is cut before a
resumed run appends."""
import json
import os
import sqlite3
import subprocess
import tempfile

import uvtest
from uvtest import Testweb, check

SITE = ["--seed", "5", "--hosts", "3", "--pages", "40", "--links", "6"]


def run(a, args, timeout=120):
    return subprocess.run([a.uvcrawl, "--engine", a.engine] + args, capture_output=True,
                          text=True, timeout=timeout)


def one_line_exit2(p, want, what):
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 2 and len(lines) == 1 and want in lines[0],
          f"{what}: exit 2 and one line saying '{want}' ({p.returncode}: {p.stderr.strip()})")


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def test():
    a = uvtest.parse_args()
    d = tempfile.mkdtemp(prefix="uvtest-statecli-")
    with Testweb(a.testweb, SITE, log=False) as tw:
        base = ["--resolve", tw.resolve_arg(), "--scope", "any", "--rate", "0", "-q"]

        # Places that cannot hold a state.
        a_file = os.path.join(d, "a-file")
        open(a_file, "w").close()
        p = run(a, base + ["--state", a_file, tw.url()])
        one_line_exit2(p, "not a directory", "--state naming a file")
        p = run(a, base + ["--state", "/dev/null/state", tw.url()])
        one_line_exit2(p, "Not a directory", "--state under a device")

        # Databases that are not ours, or not this version's, or not databases.
        cases = [
            ("foreign", "CREATE TABLE t(x);", "is not a uvcrawl state database"),
            ("version", "CREATE TABLE t(x); PRAGMA application_id=1970692978; "
                        "PRAGMA user_version=7;", "another version of uvcrawl"),
            ("corrupt", None, "not a database"),
        ]
        for name, sql, want in cases:
            sd = os.path.join(d, name)
            os.mkdir(sd)
            db = os.path.join(sd, "crawl.db")
            if sql is None:
                with open(db, "wb") as f:
                    f.write(b"SQLite format 3\x00" + b"\xff" * 4000)
            else:
                con = sqlite3.connect(db)
                con.executescript(sql)
                con.close()
            before = file_bytes(db)
            p = run(a, base + ["--state", sd, tw.url()])
            one_line_exit2(p, want, f"a {name} database")
            check(file_bytes(db) == before, f"a {name} database is left as it was")

        # No seeds and no state: nothing is made.
        empty = os.path.join(d, "never")
        p = run(a, base + ["--state", empty])
        one_line_exit2(p, "no seed URL given", "no seeds and no state")
        check(not os.path.exists(empty), "no seeds and no state: DIR is not made")
        p = run(a, ["--status"])
        one_line_exit2(p, "--status needs --state DIR", "--status without --state")

        # A crawl to resume: -n stops it with URLs still queued.
        sd, rec = os.path.join(d, "crawl"), os.path.join(d, "records.jsonl")
        p = run(a, base + ["--state", sd, "-o", rec, "-n", "20", tw.url()])
        check(p.returncode == 0, f"a first run of 20 pages exits 0 ({p.stderr.strip()})")
        status = run(a, ["--state", sd, "--status"])
        counts = dict(line.rsplit(" ", 1) for line in status.stdout.splitlines()
                      if line.split(" ")[0] in ("queued", "leased", "done", "failed", "hosts"))
        check(status.returncode == 0 and int(counts["done"]) + int(counts["failed"]) == 20
              and int(counts["queued"]) > 0 and int(counts["leased"]) == 0,
              f"--status: 20 URLs with a record, some queued, none leased ({status.stdout!r})")
        db = os.path.join(sd, "crawl.db")
        before = file_bytes(db)
        for args, want in [(["--scope", "host"], "--scope differs"),
                           (["--depth", "3"], "--depth differs"),
                           (["--deny", "x"], "--deny differs"),
                           (["--robots", "off"], "--robots differs")]:
            p = run(a, base + args + ["--state", sd, "-o", rec])
            one_line_exit2(p, want, f"resumed with {' '.join(args)}")
        p = run(a, base + ["--state", sd, "-o", rec, tw.url(2)])
        one_line_exit2(p, "the seeds differ", "resumed with another seed")
        check(file_bytes(db) == before, "refused resumes leave the database as it was")

        # A second uvcrawl while one runs: the lock names the first's pid.
        slow = subprocess.Popen([a.uvcrawl, "--engine", a.engine, "--state", sd, "-o", rec,
                                 "--resolve", tw.resolve_arg(), "--scope", "any", "--rate", "1",
                                 "--burst", "1", "-q"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            lock = os.path.join(sd, "lock")
            deadline_ok = False
            for _ in range(2500):  # bounded wait for the first to hold the lock
                with open(lock) as f:
                    if f.read().strip() == str(slow.pid):
                        deadline_ok = True
                        break
                if slow.poll() is not None:
                    break
                uvtest.time.sleep(0.002)  # polling interval of a bounded wait
            check(deadline_ok, "the first uvcrawl writes its pid into DIR/lock")
            p = run(a, base + ["--state", sd, "-o", os.path.join(d, "other.jsonl")])
            one_line_exit2(p, f"in use by another uvcrawl (pid {slow.pid})", "a second uvcrawl")
            status = run(a, ["--state", sd, "--status"])
            check(status.returncode == 0 and "queued" in status.stdout,
                  f"--status reads while a crawl runs ({status.returncode}: {status.stderr})")
        finally:
            uvtest.stop(slow)

        # A torn last line (a kill mid-write) is cut before the next run appends.
        with open(rec, "ab") as f:
            f.write(b'{"url":"http://h0001.test/torn","sta')
        p = run(a, base + ["--state", sd, "-o", rec, "--state-override", "--deny", "nothing"])
        check(p.returncode == 0, f"--state-override resumes with a new --deny ({p.stderr.strip()})")
        recs = uvtest.read_records(rec)  # fails on any line that is not JSON
        check(all("torn" not in r["url"] for r in recs), "the torn line is gone, the rest is JSON")
        check(len(set(r["url"] for r in recs)) == len(recs),
              f"one record per URL over the runs ({len(recs)})")
        p = run(a, base + ["--state", sd, "-o", rec, "--deny", "nothing"])
        check(p.returncode == 0 and "is finished" in p.stderr,
              f"the stored --deny is the new one, and the crawl is finished ({p.stderr.strip()})")


uvtest.main(test)
