"""Graceful shutdown, timed on testweb's clock (issue 16). Each crawl fetches
16 seeds at once (-d 0, robots off), with per-URL latencies spread over
hundreds of milliseconds; the signal goes out as soon as testweb's log shows
the first response, so the other 15 are in flight, by construction.

Drain (SIGINT and SIGTERM): with --drain-timeout 5 s, longer than any
latency, the crawl exits 130 when the last transfer ends (not at the
timeout), writes a complete record, never "aborted", for every request in
testweb's log, and the summary says "interrupted (drained)".

Drain timeout (SIGINT and SIGTERM): with latencies up to 4 s and
--drain-timeout 0.4 s, the crawl exits 130 no sooner than 0.4 s and within
0.4 s + a bound; what was still in flight is recorded "aborted" and the
summary says "interrupted (aborted)".
"""
import re
import signal

import uvtest
from uvtest import (Testweb, check, now_us, read_records, read_stats, start_crawl, stop,
                    url_key, wait_exit, wait_for_requests)

SEEDS = 16
EXIT_BOUND_S = 1.5  # exit after the last transfer / the timeout, at most this late
EARLY_S = 0.05      # libuv timers run on a cached clock: may fire this much early


def crawl_and_signal(a, site, drain_s, sig):
    """One crawl of SEEDS seeds, signalled on testweb's first response.
    Returns what the checks need."""
    with Testweb(a.testweb, ["--hosts", str(SEEDS), "--pages", "4"] + site) as tw:
        seeds = [tw.url(h) for h in range(1, SEEDS + 1)]
        proc, out, stats, err = start_crawl(a.uvcrawl, [
            "--resolve", tw.resolve_arg(), "--robots", "off", "--rate", "0", "-d", "0",
            "-c", "64", "--retries", "0", "--drain-timeout", str(drain_s)] + seeds, a.engine)
        try:
            wait_for_requests(tw, 1, proc)  # the event: a response was written
            t_sig = now_us()
            proc.send_signal(sig)
            rc = wait_exit(proc, drain_s + 10, f"{sig.name}")
            took = (now_us() - t_sig) / 1e6
        finally:
            stop(proc, signal.SIGKILL)
        log = tw.stop_and_read_log()
    with open(err) as f:
        stderr = f.read()
    return {"rc": rc, "took": took, "t_sig": t_sig, "log": log, "recs": read_records(out),
            "stats": read_stats(stats), "err": stderr}


def common_checks(name, r):
    recs, log = r["recs"], r["log"]
    check(r["rc"] == 130, f"{name}: exit 130 ({r['rc']}: {r['err'].strip()[-300:]})")
    check(len(log) == SEEDS, f"{name}: testweb saw every seed requested once ({len(log)})")
    in_flight = [row for row in log if row["arrival_us"] < r["t_sig"] < row["done_us"]]
    check(len(in_flight) >= SEEDS // 2,
          f"{name}: {len(in_flight)} of {SEEDS} requests in flight at the signal (binding)")
    by_key = {url_key(x["url"]): x for x in recs}
    missing = [(row["host"], row["path"]) for row in log if (row["host"], row["path"]) not in by_key]
    check(not missing, f"{name}: a record for every request in testweb's log (missing {missing[:3]})")
    check(len(recs) == SEEDS and r["stats"] is not None and r["stats"]["pages"] == SEEDS
          and r["stats"]["interrupted"], f"{name}: {len(recs)} records, stats say interrupted")
    return in_flight, by_key


def test():
    a = uvtest.parse_args()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Latencies 150..750 ms: all finish well inside the 5 s drain.
        name = f"drain, {sig.name}"
        r = crawl_and_signal(a, ["--latency", "150", "--jitter", "600"], 5.0, sig)
        common_checks(name, r)
        aborted = [x["url"] for x in r["recs"] if x["error"] == "aborted"]
        check(not aborted, f"{name}: no transfer aborted ({len(aborted)}: {aborted[:3]})")
        bad = [x for x in r["recs"] if x["status"] != 200 or x["error"]]
        check(not bad, f"{name}: every in-flight transfer finished with 200 ({bad[:2]})")
        last_s = (max(row["done_us"] for row in r["log"]) - r["t_sig"]) / 1e6
        check(r["took"] <= last_s + EXIT_BOUND_S,
              f"{name}: exit {r['took']:.2f} s after the signal, when the last transfer "
              f"ended ({last_s:.2f} s), not at the 5 s timeout")
        check(re.search(r"interrupted \(drained\)", r["err"]) is not None,
              f"{name}: summary says drained ({r['err'].strip()[-200:]})")

        # Latencies 100..4100 ms, --drain-timeout 0.4 s: the timeout cuts.
        name = f"drain timeout, {sig.name}"
        drain = 0.4
        r = crawl_and_signal(a, ["--latency", "100", "--jitter", "4000"], drain, sig)
        in_flight, by_key = common_checks(name, r)
        check(drain - EARLY_S <= r["took"] <= drain + EXIT_BOUND_S,
              f"{name}: exit {r['took']:.2f} s after the signal: the {drain} s drain "
              f"timeout, plus at most {EXIT_BOUND_S} s")
        # What the timeout cut: aborted, and testweb saw it end no sooner
        # than the timeout; everything else finished normally.
        cut_at = r["t_sig"] + int((drain - EARLY_S) * 1e6)
        done = {(row["host"], row["path"]): row["done_us"] for row in r["log"]}
        aborted = [k for k, x in by_key.items() if x["error"] == "aborted"]
        check(aborted, f"{name}: {len(aborted)} transfers outlived the timeout, recorded \"aborted\"")
        early = [k for k in aborted if done[k] < cut_at]
        check(not early, f"{name}: none was cut before the timeout ({early[:3]})")
        bad = [x for x in by_key.values() if x["error"] != "aborted" and x["status"] != 200]
        check(not bad, f"{name}: the others finished with 200 ({bad[:2]})")
        check(re.search(r"interrupted \(aborted\)", r["err"]) is not None,
              f"{name}: summary says aborted ({r['err'].strip()[-200:]})")


uvtest.main(test)
