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

#endif /* UVCRAWL_THR_H */
