"""Command line: --help and --version work; bad input gets one clear line on
stderr and exit 2, before any output file is touched (numbers are plain
decimal; options the engine would ignore and outputs naming one file are
refused; a long value is echoed cut); a seed file's bad lines are reported
with their numbers and the good ones crawled (a UTF-8 BOM is skipped); a
full disk under each output is exit 1 with one line naming it and the
errno."""
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
        (["-n", " -1", "http://a.test/"], "bad number for -n"),
        (["-n", "-1", "http://a.test/"], "bad number for -n"),
        (["-c", " 5", "http://a.test/"], "bad number for -c"),
        (["-c", "+5", "http://a.test/"], "bad number for -c"),
        (["--rate", "0x10", "http://a.test/"], "bad number for --rate"),
        (["--rate", " 1", "http://a.test/"], "bad number for --rate"),
        (["--timeout", "inf", "http://a.test/"], "bad number for --timeout"),
        (["--max-body", "0x10K", "http://a.test/"], "bad size for --max-body"),
        (["--engine", "threads", "--parse-threads", "4", "http://a.test/"],
         "--parse-threads needs --engine loop"),
        (["--engine", "loop", "--seen", "lockfree", "http://a.test/"],
         "--seen needs --engine threads"),
        (["--engine", "loop", "--sync", "futex", "http://a.test/"],
         "--sync needs --engine threads"),
        (["--engine", "threads", "--sync", "spin", "http://a.test/"],
         "bad value for --sync: 'spin' (pthread or futex)"),
        (["--resolve", "h.test:80:notanip", "http://a.test/"], "an IP address"),
        (["--resolve", "h.test:+80:127.0.0.1", "http://a.test/"], "HOST:PORT:ADDR"),
        (["--stats", out, "http://a.test/"], "--output and --stats name the same file"),
        (["--trace", out, "http://a.test/"], "--output and --trace name the same file"),
        (["--stats", "-", "--trace", "-", "http://a.test/"], "both write to stdout"),
        (["http://a.test/" + "x" * 5000], "too long (over --max-url-length 2048)"),
        (["http://a.test/" + "x" * 16000], "too long (over --max-url-length 2048)"),
        (["--max-url-length", "30", "http://a.test/" + "x" * 20], "too long"),
        (["--rate", "1" * 5000, "http://a.test/"], "bad number for --rate"),
    ]
    for args, words in bad:
        p = run(a, ["-o", out] + args)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 2 and len(lines) == 1 and words in lines[0],
              f"{' '.join(args)[:80] or '(no args)'}: exit 2 with one line "
              f"({p.returncode}: {[l[:200] for l in lines]})")
        check(len(lines[0]) < 200, f"{' '.join(args)[:80]}: a long value is echoed cut")
        check(not os.path.exists(out), f"{' '.join(args)}: no output file written")
    p = run(a, ["-o", "/nonexistent-dir/out.jsonl", "http://a.test/"])
    check(p.returncode == 2 and "cannot write" in p.stderr,
          f"unwritable output fails before the crawl ({p.returncode}: {p.stderr.strip()})")
    p = run(a, ["-o", "/dev/null", "--stats", "/dev/null", "--help"])
    check(p.returncode == 0, "a device may take several outputs")
    with Testweb(a.testweb, ["--hosts", "1", "--pages", "3", "--links", "2"]) as tw:
        seeds = os.path.join(d, "seeds.txt")
        with open(seeds, "w", encoding="utf-8") as f:
            f.write(f"\ufeff{tw.url()}\n# a comment\nnot a url\n\n{tw.url(1, '/d1/p1.html')}\n"
                    "javascript:alert(1)\nhttp://a.test/" + "x" * 3_000_000 + "\n")
        rc, recs, _, err = run_crawl(a.uvcrawl, ["--resolve", tw.resolve_arg(), "-d", "0",
                                                 "--rate", "0", "-i", seeds], a.engine)
        check(rc == 0, f"seed file with bad lines: crawl runs ({rc})")
        check(f"{seeds}:3: bad URL" in err and f"{seeds}:6: bad URL" in err and
              f"{seeds}:7: bad URL" in err and "too long" in err,
              f"bad lines reported with their numbers ({err.strip()[:300]})")
        check(max(len(l) for l in err.splitlines()) < 300, "a 3 MB line is echoed cut")
        check(len(recs) == 2 and tw.url() in {r["url"] for r in recs},
              f"the two good seeds were crawled, the first after a BOM ({len(recs)})")

        # The summary counts records, HTML pages, requests and failures apart,
        # and says why the crawl ended; every seed failing is exit 3.
        stats_path = os.path.join(d, "stats.json")

        def summary(extra):
            p = subprocess.run([a.uvcrawl, "--engine", a.engine, "--resolve", tw.resolve_arg(),
                                "--resolve", "refused.test:1:127.0.0.1", "--rate", "0",
                                "-o", os.devnull, "--stats", stats_path] + extra,
                               capture_output=True, text=True, timeout=60)
            return p.returncode, p.stderr, uvtest.read_stats(stats_path)

        rc, err, st = summary([tw.url()])
        check(rc == 0 and st["ended"] == "done" and st["records"] == st["pages"] and
              st["requests"] == st["records"] + 1 and st["seeds_ok"] == 1,
              f"a whole crawl: ended done, requests = records + robots.txt ({rc}, {st})")
        check(f"{st['records']} records in" in err and f"{st['html_pages']} HTML pages, 0 failed; 1 host,"
              in err and "ended: nothing left to fetch" in err, f"its summary ({err})")
        rc, err, st = summary(["-n", "2", tw.url()])
        check(rc == 0 and st["ended"] == "max-pages" and st["records"] == 2 and
              "ended: --max-pages reached" in err, f"-n 2: the summary says -n ended it ({err})")
        rc, err, st = summary(["--robots", "off", "http://refused.test:1/", "http://refused.test:1/x"])
        check(rc == 3 and st["seeds_ok"] == 0 and st["records"] == 2 and st["html_pages"] == 0 and
              "0 HTML pages, 2 failed" in err and "errors: refused 2" in err and
              "no seed could be fetched" in err,
              f"every seed refused: exit 3, said in the summary ({rc}: {err})")

        # A password in a seed is used, and shown nowhere.
        trace = os.path.join(d, "trace.json")
        secret = tw.url().replace("http://", "http://crawler:s3cr3t@")
        rc, recs, _, err = run_crawl(a.uvcrawl, ["--resolve", tw.resolve_arg(), "-d", "1",
                                                 "--rate", "0", "--trace", trace, secret],
                                     a.engine)
        bad_url = run(a, ["http://x:s3cr3t@bad host/"])
        with open(trace) as f:
            shown = f.read() + err + "".join(map(str, recs))
        err = bad_url.stderr
        check(rc == 0 and len(recs) > 1 and recs[0]["url"].startswith("http://crawler:*password*@"),
              f"userinfo password: masked in records ({rc}: {recs[:1]})")
        check("s3cr3t" not in shown and "*password*" in err,
              "userinfo password: in no record, trace or message")

        for what, opt in (("records", "-o"), ("stats", "--stats"), ("the trace", "--trace")):
            args = [a.uvcrawl, "--engine", a.engine, "--resolve", tw.resolve_arg(), "-q",
                    "--rate", "0", opt, "/dev/full", tw.url()]
            if opt != "-o":
                args += ["-o", os.path.join(d, "full.jsonl")]
            p = subprocess.run(args, capture_output=True, text=True, timeout=60)
            want = f"cannot write {what} to /dev/full: No space left on device"
            check(p.returncode == 1 and want in p.stderr and len(p.stderr.splitlines()) == 1,
                  f"{opt} /dev/full: exit 1, one line naming it ({p.returncode}: {p.stderr})")


uvtest.main(test)
