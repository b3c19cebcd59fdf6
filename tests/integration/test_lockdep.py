"""The lock-order checker catches the engine's inverted lock order on the
first run. uvcrawl-inverted (THR_INVERT_LOCK_ORDER, see engine.c) seeds
under crawl_lock (crawl_lock -> visited.stripe, the documented order) and
takes crawl_lock inside every stripe lock (the inverse). Whatever the
timing, the first worker that inserts a link closes the cycle: the checker
prints both chains (lock classes and call sites) and aborts, long before
the crawl could end, and without the deadlock ever happening. Both --sync
kinds: the checker sees pthreads' locks and the futex ones alike."""
import signal
import time

import uvtest
from uvtest import Testweb, check, run_crawl


def test():
    a = uvtest.parse_args()
    site = ["--seed", "17", "--hosts", "4", "--pages", "40", "--links", "6"]
    with Testweb(a.testweb, site) as tw:
        for sync in ["pthread", "futex"]:
            t0 = time.monotonic()
            rc, _, _, err = run_crawl(a.uvcrawl, [
                "--sync", sync, "--resolve", tw.resolve_arg(), "--scope", "any", "-c", "8",
                "--per-host", "4", "--rate", "0", "-q", tw.url()], a.engine, timeout=60)
            took = time.monotonic() - t0
            check(rc == -signal.SIGABRT,
                  f"{sync}: aborted by the checker (exit {rc}: {err.strip()[-300:]})")
            check("lock order inversion" in err, f"{sync}: the report names the inversion")
            # Both chains: this thread's (stripe held, taking crawl_lock) and
            # the one seen before (crawl_lock, then a stripe), with sites.
            held = err.split("thread ", 1)[-1]
            check("visited.stripe at " in held and "crawl_lock at " in held,
                  f"{sync}: both classes with their call sites ({err.strip()[-600:]})")
            before = err.split("was seen before", 1)[-1]
            check("crawl_lock at " in before and "then visited.stripe at " in before,
                  f"{sync}: the earlier order, crawl_lock then a stripe ({before[:400]})")
            check("engine.c:" in err and "visited.c:" in err, f"{sync}: call sites in the sources")
            check(took < 30, f"{sync}: reported in {took:.1f} s, not after a hang")


uvtest.main(test)
