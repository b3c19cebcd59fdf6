"""The guide's exercises keep their promises (docs/async-vs-threads.md).

Each exercise that changes code shows its change as a diff right after a
line `<!-- check: exercise N -->`. This test takes every such diff from the
guide itself (so the guide cannot drift from the code unnoticed), applies it
with patch(1) to a scratch copy of the sources, builds the test the
exercise names with the C compiler (no meson: a few files each), and checks
that the test passes on the untouched copy and fails as the guide promises
on the patched one, within a bound. An exercise with a check here and no
diff in the guide, or the reverse, fails too.

Usage: test_exercises.py --cc "CC..." --source-root DIR --build-root DIR
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

# Exercise number: what to build, how to run it, what its failure says.
#   srcs: C files (relative to the source root; patched ones come from the
#   scratch copy); libs: static libraries of the build tree; run: argv
#   after the program; expect: text of the failure; max_s: bound on its time;
#   attempts: runs allowed for a race that a busy machine may miss (the
#   guide says so where it is more than 1).
CHECKS = {
    "1": {"srcs": ["tests/stress/thr/test_seen_mt.c", "src/threads/visited.c",
                   "src/threads/lfset.c"],
          "libs": ["src/core/libuvcrawl_core.a", "src/sync/libuvcrawl_sync.a"],
          "ldflags": ["-lcurl", "-lgumbo", "-lm", "-lpthread"],
          "run": [], "expect": "winners", "max_s": 60, "attempts": 5},
    "6": {"srcs": ["tests/stress/sync/test_sync_mt.c", "src/sync/mutex.c", "src/sync/sem.c",
                   "src/sync/cond.c", "src/sync/lockdep.c"],
          "libs": [], "ldflags": ["-lpthread"],
          "run": ["mutex"], "expect": "a lost wake-up", "max_s": 30},
    "7": {"srcs": ["tests/stress/sync/test_sync_mt.c", "src/sync/mutex.c", "src/sync/sem.c",
                   "src/sync/cond.c", "src/sync/lockdep.c"],
          "libs": [], "ldflags": ["-lpthread"],
          "run": ["sem", "200000"], "expect": "a lost wake-up", "max_s": 30},
    "8": {"srcs": ["tests/stress/thr/test_chan_mt.c", "src/threads/chan.c"],
          "libs": ["src/sync/libuvcrawl_sync.a"], "ldflags": ["-lpthread"],
          "run": ["futex"], "expect": "on an open channel", "max_s": 30},
}

GUIDE = "docs/async-vs-threads.md"


def diffs_in_guide(root):
    with open(os.path.join(root, GUIDE)) as f:
        text = f.read()
    found = re.findall(r"<!-- check: exercise (\d+) -->\s*```diff\n(.*?)```", text, re.S)
    return dict(found)


def build(cc, root, build_root, check, scratch, exe):
    srcs = [os.path.join(scratch, s) for s in check["srcs"]]
    incs = ["include", "src/threads", "src/sync", "tests/stress/thr"]
    cmd = cc + ["-O2", "-g", "-D_GNU_SOURCE", "-std=c11", "-o", exe] + \
        ["-I" + os.path.join(scratch, i) for i in incs] + srcs + \
        [os.path.join(build_root, lib) for lib in check["libs"]] + check["ldflags"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL build {exe}: {p.stderr[-2000:]}")


def run(exe, args, max_s):
    t0 = time.monotonic()
    try:
        p = subprocess.run([exe] + args, capture_output=True, text=True, timeout=max_s + 30)
        return p.returncode, p.stdout + p.stderr, time.monotonic() - t0
    except subprocess.TimeoutExpired:
        return None, "(hung)", time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc", required=True)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--build-root", required=True)
    a = ap.parse_args()
    cc = a.cc.split()
    diffs = diffs_in_guide(a.source_root)
    failures = 0
    if set(diffs) != set(CHECKS):
        print(f"FAIL the guide's checked exercises {sorted(diffs)} != this test's "
              f"{sorted(CHECKS)}")
        failures += 1
    with tempfile.TemporaryDirectory(prefix="uvcrawl-exercises-") as tmp:
        for n in sorted(set(diffs) & set(CHECKS)):
            check = CHECKS[n]
            scratch = os.path.join(tmp, f"ex{n}")
            for d in ["include", "src", "tests/stress"]:
                shutil.copytree(os.path.join(a.source_root, d), os.path.join(scratch, d))
            clean = os.path.join(scratch, "clean")
            build(cc, a.source_root, a.build_root, check, scratch, clean)
            p = subprocess.run(["patch", "-p1", "--quiet", "--directory", scratch],
                               input=diffs[n], capture_output=True, text=True)
            if p.returncode != 0:
                print(f"FAIL exercise {n}: its diff no longer applies: {p.stdout}{p.stderr}")
                failures += 1
                continue
            broken = os.path.join(scratch, "broken")
            build(cc, a.source_root, a.build_root, check, scratch, broken)
            rc, out, took = run(clean, check["run"], check["max_s"])
            if rc != 0:
                print(f"FAIL exercise {n}: the unchanged test fails ({rc}): {out[-500:]}")
                failures += 1
                continue
            for attempt in range(1, check.get("attempts", 1) + 1):
                rc, out, took = run(broken, check["run"], check["max_s"])
                if rc != 0:
                    break
            ok = rc not in (0, None) and check["expect"] in out and took <= check["max_s"]
            print(f"{'ok' if ok else 'FAIL'} - exercise {n}: the changed test fails in "
                  f"{took:.1f} s (bound {check['max_s']} s, run {attempt}), saying "
                  f"\"{check['expect']}\"" + ("" if ok else f": exit {rc}, {out[-500:]}"))
            failures += not ok
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
