"""--trace: a small crawl writes a Chrome trace-event file that is valid
JSON, holds every span kind and the counters, places each transfer's phases
in order inside its lifetime, puts parse spans on the thread that parsed,
stays valid JSON when the crawl is interrupted with SIGINT, and with
--state shows the store writer's commits."""
import collections
import json
import os
import signal
import subprocess
import tempfile

import uvtest
from uvtest import Testweb, check, run_crawl, wait_for_file

# Phases on a transfer's lane, in the order they happen ("token" nests in
# "queued"; "tls" only over https, which testweb does not speak).
ORDER = ["queued", "dns", "connect", "tls", "ttfb", "receive"]
REQUIRED = ["queued", "dns", "connect", "ttfb", "receive", "parse"]
EPS = 0.002  # microseconds: ts and dur are printed with 3 decimals


def load(path):
    with open(path) as f:
        try:
            doc = json.load(f)
        except ValueError as e:
            raise uvtest.Failure(f"{path} is not valid JSON: {e}")
    check(doc.get("displayTimeUnit") == "ms" and isinstance(doc.get("traceEvents"), list),
          "the trace is the JSON Object Format with traceEvents")
    return doc["traceEvents"]


def check_trace(events, engine, parse_threads, records, label):
    thread_names = {e["tid"]: e["args"]["name"] for e in events
                    if e["ph"] == "M" and e["name"] == "thread_name" and e["pid"] == 1}
    spans = [e for e in events if e["ph"] == "X"]
    kinds = collections.Counter(e["name"] for e in spans)
    missing = [k for k in REQUIRED if kinds[k] == 0]
    check(not missing, f"{label}: every span kind present ({dict(kinds)}; missing {missing})")
    check(all(e["dur"] >= 0 and e["ts"] >= 0 for e in spans),
          f"{label}: no span has a negative time or duration")

    counters = set(e["name"] for e in events if e["ph"] == "C")
    want = {"in flight", "queued"} | (
        {"event-loop lag (ms)"} if engine == "loop" else {"busy workers"})
    check(want <= counters, f"{label}: counters {sorted(want)} sampled (got {sorted(counters)})")
    check(all(e["args"]["value"] >= 0 for e in events if e["ph"] == "C"),
          f"{label}: counter values are non-negative")

    by_id = collections.defaultdict(list)
    for e in spans:
        by_id[e["args"]["id"]].append(e)
    lives = {i: [e for e in s if e["name"] == "transfer"] for i, s in by_id.items()}
    check(all(len(v) == 1 for v in lives.values()), f"{label}: one lifetime span per transfer")
    traced = set(v[0]["args"]["url"] for v in lives.values())
    untraced = [r["url"] for r in records if r["url"] not in traced]
    check(not untraced, f"{label}: every record's URL has a traced transfer ({untraced[:3]})")

    bad = []
    for i, ss in by_id.items():
        life = lives[i][0]
        lo, hi = life["ts"], life["ts"] + life["dur"]
        for e in ss:
            if e["ts"] < lo - EPS or e["ts"] + e["dur"] > hi + EPS:
                bad.append(f"{e['name']} of #{i} outside its lifetime")
        lane = sorted((e for e in ss if e["name"] in ORDER),
                      key=lambda e: (e["ts"], ORDER.index(e["name"])))
        names = [e["name"] for e in lane]
        if names != sorted(names, key=ORDER.index) or len(set(names)) != len(names):
            bad.append(f"#{i}: phases out of order: {names}")
        for a, b in zip(lane, lane[1:]):
            if b["ts"] < a["ts"] + a["dur"] - EPS:
                bad.append(f"#{i}: {b['name']} starts before {a['name']} ends")
        queued = [e for e in ss if e["name"] == "queued"]
        for t in (e for e in ss if e["name"] == "token"):
            q = queued[0]
            if t["ts"] < q["ts"] - EPS or t["ts"] + t["dur"] > q["ts"] + q["dur"] + EPS:
                bad.append(f"#{i}: token wait outside queued")
        recv = [e for e in ss if e["name"] == "receive"]
        for p in (e for e in ss if e["name"] == "parse"):
            if recv and p["ts"] < recv[0]["ts"] + recv[0]["dur"] - EPS:
                bad.append(f"#{i}: parsed before the body was received")
    check(not bad, f"{label}: each transfer's spans are in order inside its lifetime "
          f"({len(bad)} problems: {bad[:3]})")

    # Complete events must nest on a row: lifetimes never overlap on a lane.
    overlap = 0
    lanes = collections.defaultdict(list)
    for v in lives.values():
        lanes[v[0]["tid"]].append((v[0]["ts"], v[0]["ts"] + v[0]["dur"]))
    for iv in lanes.values():
        iv.sort()
        overlap += sum(1 for a, b in zip(iv, iv[1:]) if b[0] < a[1] - EPS)
    check(overlap == 0, f"{label}: no two transfers overlap on a lane ({overlap})")

    parse_threads_seen = set(thread_names.get(e["tid"], "?") for e in spans
                             if e["name"] == "parse")
    want_thread = ("worker thread" if engine == "threads"
                   else "libuv pool thread" if parse_threads > 0 else "loop thread")
    check(parse_threads_seen == {want_thread},
          f"{label}: parse spans on the {want_thread} (got {sorted(parse_threads_seen)})")
    if engine == "loop" and parse_threads > 0:
        loop_tids = {t for t, n in thread_names.items() if n == "loop thread"}
        check(all(e["tid"] not in loop_tids for e in spans if e["name"] == "parse"),
              f"{label}: no parse on the loop thread's tid")
    if engine == "threads":
        check(kinds["fetch"] > 0, f"{label}: workers' fetch spans present")


def crawl_with_trace(a, tw, extra, label):
    d = tempfile.mkdtemp(prefix="uvtrace-")
    path = os.path.join(d, "trace.json")
    rc, recs, stats, err = run_crawl(a.uvcrawl, [
        "--resolve", tw.resolve_arg(), "--scope", "any", "-c", "16", "--per-host", "2",
        "--rate", "50", "--burst", "2", "-q", "--trace", path] + extra + [tw.url()], a.engine)
    check(rc == 0, f"{label}: crawl exits 0 (got {rc}; stderr: {err.strip()[-300:]})")
    check(len(recs) > 100, f"{label}: the crawl fetched a fair number of pages ({len(recs)})")
    return load(path), recs


def interrupted(a, tw):
    d = tempfile.mkdtemp(prefix="uvtrace-")
    path, out = os.path.join(d, "trace.json"), os.path.join(d, "records.jsonl")
    cmd = [a.uvcrawl, "--engine", a.engine, "--resolve", tw.resolve_arg(), "--scope", "any",
           "-c", "4", "--rate", "0", "-q", "-o", out, "--trace", path, tw.url()]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_file(out, p)  # some transfers are done: the trace is mid-stream
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
    finally:
        uvtest.stop(p, signal.SIGKILL)
    check(p.returncode == 130, f"SIGINT: exit 130 (got {p.returncode}; {err.strip()[-200:]})")
    events = load(path)
    check(any(e["ph"] == "X" and e["name"] == "transfer" for e in events),
          f"SIGINT: the interrupted trace is valid JSON with transfers ({len(events)} events)")


def with_state(a, tw):
    """--state: the store writer's commits are spans on a thread of their
    own, and the pages waiting for a commit are a counter."""
    d = tempfile.mkdtemp(prefix="uvtrace-")
    events, recs = crawl_with_trace(a, tw, ["--state", os.path.join(d, "state")], "--state")
    names = {e["tid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "thread_name" and e["pid"] == 1}
    commits = [e for e in events if e["ph"] == "X" and e["name"] == "commit"]
    check(commits and all(names.get(e["tid"]) == "store writer thread" for e in commits),
          f"--state: {len(commits)} commit spans, all on the store writer thread")
    check(sum(e["args"]["ops"] for e in commits) >= 2 * len(recs),
          f"--state: the commits applied at least a lease and an ack a record "
          f"({sum(e['args']['ops'] for e in commits)} ops, {len(recs)} records)")
    check(any(e["ph"] == "C" and e["name"] == "pages waiting for the store" for e in events),
          "--state: the counter of pages waiting for the store is sampled")


def test():
    a = uvtest.parse_args()
    site = ["--seed", "7", "--hosts", "6", "--pages", "40", "--links", "8", "--page-bytes",
            "3000", "--latency", "1"]
    with Testweb(a.testweb, site, log=False) as tw:
        if a.engine == "loop":
            for pt in (0, 1):
                ev, recs = crawl_with_trace(a, tw, ["--parse-threads", str(pt)],
                                            f"loop --parse-threads {pt}")
                check_trace(ev, "loop", pt, recs, f"loop --parse-threads {pt}")
        else:
            ev, recs = crawl_with_trace(a, tw, ["-c", "4"], "threads")
            check_trace(ev, "threads", 0, recs, "threads")
        with_state(a, tw)
    slow = ["--seed", "7", "--hosts", "4", "--pages", "400", "--links", "8", "--latency", "30"]
    with Testweb(a.testweb, slow, log=False) as tw:
        interrupted(a, tw)


uvtest.main(test)
