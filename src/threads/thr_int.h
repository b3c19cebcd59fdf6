/*
 * thr_int.h - the threaded engine's private types, shared by engine.c (the
 * dispatcher, workers, signals, shutdown) and fetch.c (one transfer with a
 * worker's curl easy handle, and the curl share handle).
 *
 * Locks, what they protect, and their order are written down once, at the
 * top of engine.c.
 */
#ifndef UVCRAWL_THR_INT_H
#define UVCRAWL_THR_INT_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "chan.h"
#include "lock.h"
#include "uvcrawl/buf.h"
#include "uvcrawl/crawl.h"
#include "transfer.h"
#include "uvcrawl/run.h"
#include "uvcrawl/trace.h"
#include "visited.h"

typedef enum thr_phase {
  THR_RUNNING,  /* dispatching */
  THR_DRAINING, /* first signal or a fatal error: no dispatch, transfers finish */
  THR_ABORTING, /* second signal or drain timeout: transfers are cut */
} thr_phase;

/* Connections a worker's handle keeps open between fetches: its open
 * files are bounded by this (the CLI fits -c for 2 per worker). */
#define THR_WORKER_CONNS 2

/* The curl share handle and its locks (DNS cache, TLS sessions). */
typedef struct thr_share {
  bool inited; /* the locks exist */
  CURLSH *sh;
  /* One mutex per curl_lock_data kind; each protects curl's shared data of
   * that kind (curl takes and releases it through lock_cb / unlock_cb). */
  thr_lock locks[CURL_LOCK_DATA_LAST];
} thr_share;

typedef struct thr_worker thr_worker;

typedef struct thr_engine {
  const uc_config *cfg;

  /* The worker pool. Only the main thread (the dispatcher, which starts
   * and joins the workers) reads or writes these, so they need no lock. */
  unsigned max_workers; /* -c; lowered to `running` when a start fails */
  unsigned running;     /* workers started; each runs until the channel closes */
  thr_worker *pool;     /* the workers started, newest first */

  /* crawl_lock protects crawl (and so stats, the frontier, its buckets and
   * per-host counts, the record output, the fatal code), signals,
   * interrupted and progress_shown.
   * crawl_cv (with crawl_lock) wakes the dispatcher: a completion, a
   * signal, or a token's time (a timed wait on CLOCK_MONOTONIC). */
  thr_lock crawl_lock;
  thr_cond crawl_cv;
  uc_crawl *crawl;
  const uc_stats *stats; /* the crawl's live counters (read-only) */
  unsigned signals;      /* SIGINT/SIGTERM received */
  int interrupted;       /* 0, 1 (drained) or 2 (aborted), for the summary */
  bool progress_shown;   /* a --progress line is on the terminal */

  /* Written under crawl_lock, read by workers and curl callbacks without
   * it (atomic): see the orderings where it is used. */
  _Atomic int phase; /* thr_phase */

  thr_chan *work;       /* dispatcher -> workers: thr_job * (own lock) */
  uc_store *store;      /* the crawl's state (borrowed), or NULL; its writer
                           thread wakes the dispatcher (store_wake) */
  uc_sinks *sinks;      /* flushed by the store's writer before each commit */
  thr_visited *visited; /* thread-safe on its own (own locks or CAS) */
  thr_share share;
  uint64_t start_ns;

  /* --trace (NULL: none). trace_lock protects the writer, which is not
   * thread-safe; a leaf: taken holding no other lock, and held only to
   * format and write a few events. busy counts workers with a job (for
   * the trace's counter; relaxed, only maintained with --trace). */
  uc_trace *trace;
  thr_lock trace_lock;
  uint64_t store_tid; /* the store writer's id once named (under trace_lock) */
  atomic_uint busy;
} thr_engine;

/* A fetch on its way to a worker. */
typedef struct thr_job {
  uc_fetch *fetch;        /* owned until uc_crawl_complete() */
  uint64_t dispatched_ns; /* for fetch_ms */
} thr_job;

/* One worker thread and the transfer it runs. Once it is started only that
 * thread touches it, but for the main thread reading tid and next to join
 * and free it. */
struct thr_worker {
  thr_engine *eng;
  thr_worker *next; /* the worker started before it */
  pthread_t tid;
  CURL *easy;           /* reused: curl_easy_reset between fetches */
  uc_transfer transfer; /* the current fetch: options, body, limits (shared code) */
  struct {              /* --trace only: this worker's id, the fetch's times */
    uint64_t tid, fetch_start_ns, curl_end_ns, parse_start_ns;
    uc_trace_curl curl;
  } tr;
};

/* engine.c */
uint64_t thr_now_ns(void);

/* fetch.c */
int thr_share_init(thr_share *s, uc_sync_kind sync);
void thr_share_cleanup(thr_share *s);
/* Whether this libcurl can use --dns-server; a one-line reason if not. */
int thr_check_dns_server(const uc_config *cfg, char *err, size_t errlen);
/* Fetch job->fetch with w's easy handle; strings in *r are borrowed from
 * the handle and w->transfer until the next thr_fetch or thr_fetch_release.
 * Returns 0, or UC_ENOMEM / UC_ELIB when the handle could not be set up
 * (r then records the fetch as "other"; the crawl cannot go on). */
int thr_fetch(thr_worker *w, const thr_job *job, uc_fetch_result *r);
/* Forget the current fetch's body and pin (the handle is kept). */
void thr_fetch_release(thr_worker *w);

#endif /* UVCRAWL_THR_INT_H */
