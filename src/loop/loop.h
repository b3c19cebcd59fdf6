/*
 * loop - the event-loop engine: one libuv loop drives libcurl's
 * multi-socket API, c-ares and the per-host gate. See DESIGN.md.
 */
#ifndef UVCRAWL_LOOP_H
#define UVCRAWL_LOOP_H

#include <stdio.h>

#include "uvcrawl/config.h"
#include "uvcrawl/run.h"
#include "uvcrawl/stats.h"

/**
 * Run a crawl on one event loop until it ends or is interrupted.
 * @param cfg      borrowed for the call.
 * @param env      outputs and the trace writer (borrowed for the call).
 * @param stats    filled with the final counters.
 * @return the exit code: 0 done, 1 fatal condition, 130 interrupted.
 */
int loop_run(const uc_config *cfg, const uc_run_env *env, uc_stats *stats);

/** "libuv X, c-ares Y" for --version (static string). */
const char *loop_versions(void);

#endif /* UVCRAWL_LOOP_H */
