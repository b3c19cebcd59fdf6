/*
 * thr - the threaded engine: a pthreads worker pool, channels, a locked
 * visited set and shared token buckets. See DESIGN.md.
 */
#ifndef UVCRAWL_THR_H
#define UVCRAWL_THR_H

#include <stdio.h>

#include "uvcrawl/config.h"
#include "uvcrawl/run.h"
#include "uvcrawl/stats.h"

/**
 * Run a crawl on a pool of up to cfg->concurrency worker threads, started
 * as work appears (stats->threads_started says how many were).
 * @param cfg      borrowed for the call.
 * @param env      outputs and the trace writer (borrowed for the call).
 * @param stats    filled with the final counters.
 * The visited set is cfg->seen: UC_SEEN_MUTEX (striped mutexes) or
 * UC_SEEN_LOCKFREE (compare-and-swap into a chain of tables that grows).
 * Its locks and condition variables are cfg->sync: UC_SYNC_PTHREAD or
 * UC_SYNC_FUTEX (the hand-built ones of uvcrawl/sync.h; see lock.h).
 * @return the exit code: 0 done, 1 fatal condition, 2 bad configuration,
 *         130 interrupted.
 */
int thr_run(const uc_config *cfg, const uc_run_env *env, uc_stats *stats);

#endif /* UVCRAWL_THR_H */
