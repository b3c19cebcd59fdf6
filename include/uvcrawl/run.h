/*
 * run - what every engine does around the crawl, written once: the
 * environment it is started in, seeding, the --progress line, the
 * crawl's part of a transfer's trace span, and the end of a run (flush,
 * summary counters, the stop message and the exit code).
 *
 * An engine (the event loop, the thread pool, a cluster agent) only
 * decides how transfers run; everything here is the same for all of them.
 * Like the rest of the core it never reads the clock: engines pass times
 * in. Not thread-safe: the threads engine calls these under its crawl
 * lock, or on snapshots it took under it.
 */
#ifndef UVCRAWL_RUN_H
#define UVCRAWL_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "uvcrawl/config.h"
#include "uvcrawl/crawl.h"
#include "uvcrawl/stats.h"
#include "uvcrawl/store.h"
#include "uvcrawl/trace.h"

#define UC_PROGRESS_MS 500     /* --progress: how often the line is redrawn */
#define UC_TRACE_SAMPLE_MS 100 /* --trace: how often the counters are sampled */

/**
 * What an engine runs with besides its configuration: runtime objects
 * owned by whoever starts it (the CLI). All borrowed for the whole run.
 */
typedef struct uc_run_env {
  uc_sinks *sinks; /* the outputs (records, WARC); flushed at the end, not closed */
  uc_trace *trace; /* --trace's writer, or NULL; the caller closes it */
  uc_store *store; /* the crawl's state (memory or --state), or NULL; the caller frees it */
  /* SIGINT/SIGTERM that arrived before the engine took the signals over
   * (counted by the caller's first handler); the engine calls it once it
   * handles them itself and acts on that many. NULL: none. */
  unsigned (*early_signals)(void);
  /* --cluster: where Redis is and the crawl's name (a uc_cluster_addr of
   * src/cluster), or NULL: a crawl of its own. Loop engine only. */
  const struct uc_cluster_addr *cluster;
} uc_run_env;

/** How a run ended, as the engine saw it (for uc_run_end). */
typedef struct uc_run_outcome {
  double elapsed_s;        /* wall time of the run */
  unsigned signals;        /* SIGINT/SIGTERM received */
  int interrupted;         /* 0, 1 (drained) or 2 (aborted) */
  uint64_t dns_queries;    /* the engine's own resolver, if it has one */
  uint64_t dns_cache_hits;
  bool internal_error;     /* the engine found itself in a bad state (said so) */
} uc_run_outcome;

/**
 * Take up what the store holds (uc_crawl_restore, saying so on stderr
 * unless --quiet), then queue the configured seeds at depth 0 and commit.
 * A seed that is not a crawlable URL is skipped with one line on stderr.
 * @return 0, or UC_ENOMEM / UC_EFULL (the visited set is full) / UC_EIO
 *         (the store could not be read or written).
 */
int uc_run_seed(uc_crawl *c, const uc_config *cfg, uint64_t now_ms);

/** The figures of one --progress line. */
typedef struct uc_progress {
  uint64_t pages, inflight, hosts, errors;
  size_t queued;
  bool draining; /* a signal stopped the dispatch: the line says so */
} uc_progress;

/** Take the figures of the progress line from the crawl. */
void uc_run_progress_take(const uc_crawl *c, uc_progress *out);

/**
 * Redraw the progress line on `tty` (a terminal: it starts with a
 * carriage return and clears the line).
 * @param elapsed_s  time since the run started, for the pages/s figure.
 */
void uc_run_progress_print(FILE *tty, const uc_progress *p, double elapsed_s);

/**
 * The first signal's line on stderr: how many transfers are draining, for
 * how long at most, and that a second signal aborts them. Nothing with
 * --quiet. Call once, after uc_crawl_stop().
 * @param progress_shown  a --progress line is on the terminal: end it first.
 */
void uc_run_draining(const uc_crawl *c, const uc_config *cfg, bool progress_shown);

/**
 * Fill the crawl's part of a transfer's trace span: URL, outcome, and
 * the times the frontier kept (queued, waiting for a token). The engine
 * adds its own times (dispatch, DNS, curl, parse, end).
 * @param f, r  borrowed for the call; `tx` borrows f's URL and the static
 *              error name until f is handed back.
 */
void uc_run_trace_span(uc_trace_xfer *tx, const uc_fetch *f, const uc_fetch_result *r);

/**
 * --trace: the store's commits since the last call, as spans on the store
 * writer's row (named on first sight), and a counter of the pages waiting
 * for one (`waiting`: uc_crawl_busy minus the transfers in flight). Needs
 * no crawl: the threads engine calls it holding its trace lock alone.
 * @param writer_tid  the engine's memory of the writer's id (0 at first).
 */
void uc_run_trace_store(uc_store *store, uc_trace *t, uint64_t now_ns, uint64_t waiting,
                        uint64_t *writer_tid);

/* The exit code of a crawl that ran to its end without fetching any seed:
 * every seed failed (an error, a 4xx or 5xx), as wget2's exit 8 says. */
#define UC_EXIT_NO_SEED 3

/**
 * End a run: flush the sinks (a failed flush is fatal), record in the
 * store why the run ended and wait until all of it is durable (a failed
 * store is fatal, and said in its own words), copy the final
 * counters with the engine's outcome into `out` (and why it ended,
 * out->ended), say why the crawl stopped if it was fatal, and give the
 * exit code: 1 for a fatal condition or an internal error, 130 if
 * interrupted, UC_EXIT_NO_SEED if no seed could be fetched, else 0.
 * Call after every transfer is handed back and before uc_crawl_free.
 */
int uc_run_end(uc_crawl *c, const uc_run_env *env, const uc_run_outcome *o, uc_stats *out);

#endif /* UVCRAWL_RUN_H */
