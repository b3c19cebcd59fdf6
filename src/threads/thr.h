/*
 * thr - the threaded engine: a pthreads worker pool, channels, a locked
 * visited set and shared token buckets. See DESIGN.md.
 */
#ifndef UVCRAWL_THR_H
#define UVCRAWL_THR_H

#include <stdio.h>

#include "uvcrawl/config.h"
#include "uvcrawl/stats.h"

/**
 * Run a crawl on a pool of cfg->concurrency worker threads.
 * @param cfg      borrowed for the call.
 * @param records  JSON Lines output (borrowed, flushed, not closed).
 * @param stats    filled with the final counters.
 * @return the exit code: 0 done, 1 fatal condition, 130 interrupted.
 */
int thr_run(const uc_config *cfg, FILE *records, uc_stats *stats);

/* Which visited set the workers share (the --seen option). */
enum { THR_SEEN_MUTEX = 0, THR_SEEN_LOCKFREE = 1 };

/**
 * thr_run with a choice of visited set.
 * @param seen_kind  THR_SEEN_MUTEX (striped mutexes, the default) or
 *                   THR_SEEN_LOCKFREE (compare-and-swap, fixed capacity
 *                   of 2^22 slots: a crawl past 3.77 million URLs stops
 *                   with exit 1).
 * @return as thr_run; 2 for an unknown seen_kind or a bad configuration.
 */
int thr_run_with(const uc_config *cfg, FILE *records, uc_stats *stats, int seen_kind);

#endif /* UVCRAWL_THR_H */
