"""A closed output (issue 15): `uvcrawl ... | head -1`. The reader takes one
record and closes the pipe; uvcrawl must not die of SIGPIPE. It stops the
crawl as a fatal condition: exit 1, one line naming the closed output
(stdout, Broken pipe), and --stats and --trace written whole (valid JSON).
Before the fix it died of SIGPIPE with both files empty or cut."""
import json
import os
import subprocess
import tempfile

import uvtest
from uvtest import Testweb, check


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
    check(s["pages"] >= 1, f"stats written whole ({s['pages']} pages)")
    with open(trace) as f:
        json.load(f)
    check(True, "trace written whole (valid JSON)")


uvtest.main(test)
