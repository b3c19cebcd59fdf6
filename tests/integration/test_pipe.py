"""A closed output (issue 15): `uvcrawl ... | head -1`. The reader takes one
record and closes the pipe; uvcrawl must not die of SIGPIPE. It stops the
crawl as a fatal condition: exit 1, one line naming the closed output
(stdout, Broken pipe), and --stats and --trace written whole (valid JSON).
Before the fix it died of SIGPIPE with both files empty or cut.

A full disk (-o /dev/full) is the same fatal condition: exit 1 and one line
naming the output and ENOSPC, with the stats whole, both when a write fails
mid-crawl (the crawl then stops early) and when only the last flush fails
(a crawl whose one record fits in the output buffer). --stats /dev/full and
--trace /dev/full: exit 1 as well, naming the file, records whole."""
import json
import os
import subprocess
import tempfile

import uvtest
from uvtest import Testweb, check, read_records, read_stats

SITE_PAGES = 5 * 200


def test():
    a = uvtest.parse_args()
    d = tempfile.mkdtemp(prefix="uvtest-pipe-")
    stats, trace = os.path.join(d, "s.json"), os.path.join(d, "t.json")
    with Testweb(a.testweb, ["--hosts", "5", "--pages", "200", "--links", "10"]) as tw:
        p = subprocess.Popen([a.uvcrawl, "--engine", a.engine, "--rate", "0", "--per-host", "8",
                              "--scope", "any", "--resolve", tw.resolve_arg(), "--stats", stats,
                              "--trace", trace, tw.url()],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = p.stdout.readline()
        p.stdout.close()  # what head -1 does
        err = p.stderr.read()
        rc = p.wait(timeout=120)
    check(json.loads(first)["url"], "the reader got a whole first record")
    check(rc == 1, f"exit 1, not death by SIGPIPE ({rc}: {err.strip()[-300:]})")
    check("cannot write records to stdout: Broken pipe" in err,
          f"one line names the closed output ({err.strip()[-300:]})")
    with open(stats) as f:
        s = json.load(f)
    check(1 <= s["pages"] < SITE_PAGES,
          f"stats written whole; the crawl stopped early ({s['pages']} of {SITE_PAGES} pages)")
    with open(trace) as f:
        json.load(f)
    check(True, "trace written whole (valid JSON)")
    full_disk(a, d)


def full_disk(a, d):
    with Testweb(a.testweb, ["--hosts", "5", "--pages", "200", "--links", "10"]) as tw:
        for name, extra in (("mid-crawl", []), ("last flush", ["-d", "0"])):
            stats = os.path.join(d, f"full-{len(extra)}.json")
            p = subprocess.run([a.uvcrawl, "--engine", a.engine, "--rate", "0", "--per-host", "8",
                                "--scope", "any", "--resolve", tw.resolve_arg(), "-o", "/dev/full",
                                "--stats", stats] + extra + [tw.url()],
                               capture_output=True, text=True, timeout=120)
            err = p.stderr.strip()
            check(p.returncode == 1, f"/dev/full, {name}: exit 1 ({p.returncode}: {err[-300:]})")
            line = "cannot write records to /dev/full: No space left on device"
            check(err.count(line) == 1, f"/dev/full, {name}: one line names the output ({err[-300:]})")
            s = read_stats(stats)
            want = (lambda n: 1 <= n < SITE_PAGES) if not extra else (lambda n: n == 1)
            check(s is not None and want(s["pages"]),
                  f"/dev/full, {name}: stats written whole ({s and s['pages']} pages)")
        # The other outputs on a full disk: exit 1 too, records still whole.
        for opt in ("--stats", "--trace"):
            out = os.path.join(d, f"full{opt}.jsonl")
            p = subprocess.run([a.uvcrawl, "--engine", a.engine, "--rate", "0", "-q",
                                "--resolve", tw.resolve_arg(), "-d", "0", "-o", out,
                                opt, "/dev/full", tw.url()],
                               capture_output=True, text=True, timeout=120)
            err = p.stderr.strip()
            check(p.returncode == 1 and "/dev/full: No space left on device" in err,
                  f"{opt} /dev/full: exit 1, the line names it ({p.returncode}: {err[-300:]})")
            check(len(read_records(out)) == 1, f"{opt} /dev/full: the record is still written")


uvtest.main(test)
