"""Command line: --help and --version work; bad input gets one clear line on
stderr and exit 2, before any output file is touched; a seed file's bad lines
are reported with their numbers and the good ones crawled."""
import os
import subprocess
import tempfile

import uvtest
from uvtest import Testweb, check, run_crawl


def run(a, args):
    return subprocess.run([a.uvcrawl] + args, capture_output=True, text=True, timeout=60)


def test():
    a = uvtest.parse_args()
    p = run(a, ["--help"])
    check(p.returncode == 0 and "--concurrency" in p.stdout, "--help prints usage, exit 0")
    p = run(a, ["--version"])
    check(p.returncode == 0 and p.stdout.startswith("uvcrawl ") and "libcurl" in p.stdout,
          f"--version names the libraries ({p.stdout.strip()})")
    d = tempfile.mkdtemp(prefix="cli-")
    out = os.path.join(d, "out.jsonl")
    bad = [
        (["--bogus", "http://a.test/"], "unknown option"),
        (["-c", "abc", "http://a.test/"], "bad number for -c"),
        (["-c", "0", "http://a.test/"], "bad number for -c"),
        (["--rate", "-1", "http://a.test/"], "bad number for --rate"),
        (["--max-body", "12Q", "http://a.test/"], "bad size for --max-body"),
        (["--scope", "planet", "http://a.test/"], "bad value for --scope"),
        (["--engine", "fibers", "http://a.test/"], "bad value for --engine"),
        (["--resolve", "nonsense", "http://a.test/"], "HOST:PORT:ADDR"),
        (["ht tp://x"], "bad URL"),
        (["mailto:x@y"], "bad URL"),
        (["-i", os.path.join(d, "missing.txt")], "cannot read"),
        ([], "no seed URL"),
        (["--depth"], "needs a value"),
        (["--deny", "(unclosed", "http://a.test/"], "bad regular expression"),
        (["--dns-server", "dns.example", "http://a.test/"], "ADDR[:PORT]"),
        (["--dns-server", "127.0.0.1:99999", "http://a.test/"], "ADDR[:PORT]"),
    ]
    for args, words in bad:
        p = run(a, ["-o", out] + args)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 2 and len(lines) == 1 and words in lines[0],
              f"{' '.join(args) or '(no args)'}: exit 2 with one line ({p.returncode}: {lines})")
        check(not os.path.exists(out), f"{' '.join(args)}: no output file written")
    p = run(a, ["-o", "/nonexistent-dir/out.jsonl", "http://a.test/"])
    check(p.returncode == 2 and "cannot write" in p.stderr,
          f"unwritable output fails before the crawl ({p.returncode}: {p.stderr.strip()})")
    with Testweb(a.testweb, ["--hosts", "1", "--pages", "3", "--links", "2"]) as tw:
        seeds = os.path.join(d, "seeds.txt")
        with open(seeds, "w") as f:
            f.write(f"# a comment\n{tw.url()}\nnot a url\n\n{tw.url(1, '/d1/p1.html')}\n"
                    "javascript:alert(1)\n")
        rc, recs, _, err = run_crawl(a.uvcrawl, ["--resolve", tw.resolve_arg(), "-d", "0",
                                                 "--rate", "0", "-i", seeds], a.engine)
    check(rc == 0, f"seed file with bad lines: crawl runs ({rc})")
    check(f"{seeds}:3: bad URL" in err and f"{seeds}:6: bad URL" in err,
          f"bad lines reported with their numbers ({err.strip()[:300]})")
    check(len(recs) == 2, f"the two good seeds were crawled ({len(recs)})")


uvtest.main(test)
