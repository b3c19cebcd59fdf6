/*
 * engine.c - the threaded engine: a dispatcher, a pool of worker threads,
 * a signal thread, and an orderly end (see thr.h, DESIGN.md).
 *
 * Threads:
 *  - the main thread is the dispatcher: under crawl_lock it asks
 *    uc_crawl_next() for work while fewer than max_workers (-c) fetches
 *    are out, and sends each one (as a thr_job) into the work channel;
 *  - the workers, started as work appears: one before the first job, and
 *    one more each time a job is handed out while more fetches are out
 *    than workers run (no worker is idle), up to -c. A worker receives a
 *    job, fetches it with its own curl easy handle, parses and prefilters
 *    its links (no lock held), then hands it back with uc_crawl_complete()
 *    under crawl_lock and wakes the dispatcher. It runs until the channel
 *    is closed and empty;
 *  - the signal thread: sigwait()s for SIGINT/SIGTERM (blocked in every
 *    thread) and runs the drain / abort steps; SIGUSR1 from the main
 *    thread tells it the crawl is over.
 *
 * Locks, what each protects, and where it is taken:
 *  - crawl_lock (thr_engine): the uc_crawl and all that lives in it: the
 *    frontier with its per-host token buckets and in-flight counts (so
 *    --rate and --per-host hold across all workers), robots rules, stats,
 *    the record stream, its fatal code; and eng->signals, eng->interrupted.
 *    Held around every
 *    uc_crawl_* call except uc_crawl_parse, uc_crawl_prefilter and
 *    uc_crawl_wants_parse, which only read the crawl's configuration and
 *    call the (thread-safe) visited set. crawl_cv goes with it.
 *  - the work channel's lock (chan.c): its ring and closed flag; held only
 *    inside thr_chan_* calls.
 *  - the visited set's stripe locks (visited.c): one uc_seen each; held
 *    only inside thr_visited_insert_hash (the lock-free kind has none).
 *  - curl's share locks (fetch.c): one per curl_lock_data kind; taken by
 *    curl inside curl calls, which workers make holding no lock of ours.
 *  - trace_lock (--trace only): the trace writer; taken holding no other
 *    lock (a worker before it takes crawl_lock, the dispatcher after it
 *    lets crawl_lock go), held to format and write a few lines.
 *
 * Every lock and condition variable is a thr_lock / thr_cond (lock.h):
 * pthreads' or the hand-built futex ones (--sync), each lock named for the
 * lock-order checker (lockdep.h: "crawl_lock", "trace_lock", "chan.lock",
 * "visited.stripe", "curl_share.<kind>"), which aborts with both chains
 * the first time an order below is inverted (debug and test builds).
 *
 * Lock order: crawl_lock -> stripe lock (a redirect's dedup in
 * uc_crawl_complete calls the visited set under crawl_lock), and
 * crawl_lock -> channel lock (thr_chan_close, which never blocks). The
 * channel, stripe and share locks are leaves: code holding one takes no
 * other lock. Every nesting goes from crawl_lock to a leaf, so no cycle
 * and no deadlock. The store (store.h) has locks of its own: the crawl
 * calls it under crawl_lock (crawl_lock -> the store's queue lock, a
 * leaf), and its writer thread wakes the dispatcher holding its hook lock
 * (hook lock -> crawl_lock, store_wake); the engine sets the hooks holding
 * no lock, so that order has no way back either.
 *
 * Blocking waits:
 *  - the dispatcher never calls thr_chan_send() holding crawl_lock: it
 *    unlocks first. The send cannot block anyway: every job in the
 *    channel is counted in flight until its uc_crawl_complete(), the
 *    dispatcher is the only sender, and the channel has room for one job
 *    more than the workers running, which is never fewer than the
 *    fetches in flight at a send (the Note below);
 *  - workers wait in thr_chan_recv() holding no lock; the dispatcher waits
 *    on crawl_cv, which releases crawl_lock; the signal thread waits in
 *    sigwait() holding no lock;
 *  - no thread fetches, parses, prints or sleeps holding a lock, and the
 *    dispatcher starts workers holding none.
 *
 * Note (the channel's capacity): it used to be -c, one slot per worker,
 * all started up front. Now -c is only a cap (-c 1000000 would be an
 * 8 MB ring for a crawl that runs two workers), and what a send needs is
 * room for the fetches in flight. At every send, in flight <= running + 1:
 * completions only lower the count; a take happens only while in flight
 * < max_workers; after a send that leaves more in flight than workers
 * running, the dispatcher starts one, so the step ends with in flight <=
 * running; if that start fails, max_workers drops to running, so the next
 * take again leaves in flight <= running, and no worker is started after
 * that (the "cannot start" line is said once). start_worker grows the
 * channel to running + 2 before a start, so it always holds running + 1:
 * as many jobs as workers run plus one, at most -c + 1.
 *
 * Termination: the crawl's in-flight count is the outstanding work: a
 * fetch counts from uc_crawl_next() (in the channel, in a transfer, being
 * parsed) until its uc_crawl_complete(), which also merges its links into
 * the frontier. The dispatcher ends when, under crawl_lock, nothing is in
 * flight and uc_crawl_finished() (or the crawl was stopped): the frontier
 * cannot grow any more. Every completion signals crawl_cv, so that moment
 * is never missed. Then the channel is closed and every worker joined.
 *
 * Shutdown: the first SIGINT/SIGTERM stops the crawl (uc_crawl_stop: the
 * queue is counted as unfetched), sets the DRAINING phase and closes the
 * channel. Transfers in progress finish and write their records, within
 * --drain-timeout. Jobs still in the channel were handed out but not
 * started: workers hand them back as "aborted" records without fetching,
 * so that every URL uc_crawl_next() gave out has exactly one record (at
 * least one worker runs whenever a job is in the channel: the first one
 * starts before any job, and none ends before the close). The second
 * signal or the drain timeout sets ABORTING: the transfers' progress
 * callbacks return non-zero and curl ends them with "aborted".
 *
 * A worker that cannot be started (pthread_create or curl_easy_init
 * failed, typically the threads or memory limit) lowers max_workers to
 * the workers running, with one line on stderr, and the crawl goes on; if
 * not even the first one starts, nothing is fetched and the exit is 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "thr.h"
#include "thr_int.h"
#include "uvcrawl/error.h"

#define NS_PER_MS 1000000ull

uint64_t thr_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void) {
  return thr_now_ns() / NS_PER_MS;
}

/* The wall clock, for what the store keeps across runs (robots.txt age). */
static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Phase changes are written under crawl_lock; workers and curl callbacks
 * read them without it. relaxed: the phase publishes no other data (all
 * the crawl state it concerns is read under crawl_lock), and a worker that
 * sees a change one job late does what it would have done had the job
 * arrived a moment earlier.
 */
static void set_phase(thr_engine *eng, thr_phase p) {
  atomic_store_explicit(&eng->phase, (int)p, memory_order_relaxed);
}

static thr_phase get_phase(thr_engine *eng) {
  return (thr_phase)atomic_load_explicit(&eng->phase, memory_order_relaxed);
}

/* ---- workers ---------------------------------------------------------- */

/* Fetch, parse and prefilter one job; no lock is held here. */
static int work_on(thr_worker *w, thr_job *job, uc_fetch_result *r, uc_parsed *parsed,
                   uint64_t *parse_ns) {
  thr_engine *eng = w->eng;
  if (get_phase(eng) != THR_RUNNING) {
    /* Handed out before the stop but not started: do not start it now. */
    uc_fetch_result_failed(r, UC_FAIL_ABORTED, (double)(thr_now_ns() - job->dispatched_ns) / 1e6);
    return 0;
  }
  int rc = thr_fetch(w, job, r);
  if (rc != 0 || get_phase(eng) == THR_ABORTING ||
      !uc_crawl_wants_parse(eng->crawl, job->fetch, r))
    return rc;
  uint64_t t0 = thr_now_ns();
  w->tr.parse_start_ns = t0;
  /* A parse that runs out of memory lost the page's links: fatal, as in
   * the loop engine (the page is still recorded). */
  rc = uc_crawl_parse(eng->crawl, job->fetch, r, parsed);
  *parse_ns = thr_now_ns() - t0;
  return rc != 0 ? rc : uc_crawl_prefilter(eng->crawl, job->fetch, parsed);
}

/* --trace: write a job's spans (before uc_crawl_complete frees its fetch). */
static void trace_job(thr_worker *w, const thr_job *job, const uc_fetch_result *r,
                      uint64_t parse_ns) {
  uc_trace_xfer tx;
  uc_run_trace_span(&tx, job->fetch, r);
  tx.dispatched_ns = job->dispatched_ns;
  tx.curl_end_ns = w->tr.curl_end_ns;
  tx.curl = w->tr.curl;
  tx.fetch_tid = tx.parse_tid = w->tr.tid;
  tx.fetch_start_ns = w->tr.fetch_start_ns;
  tx.parse_start_ns = parse_ns > 0 ? w->tr.parse_start_ns : 0;
  tx.parse_end_ns = w->tr.parse_start_ns + parse_ns;
  tx.end_ns = thr_now_ns();
  thr_lock_lock(&w->eng->trace_lock);
  uc_trace_transfer(w->eng->trace, &tx); /* a failed write is reported at the end */
  thr_lock_unlock(&w->eng->trace_lock);
}

static void *worker_main(void *arg) {
  thr_worker *w = arg;
  thr_engine *eng = w->eng;
  void *item;
  if (eng->trace != NULL) {
    w->tr.tid = (uint64_t)gettid();
    thr_lock_lock(&eng->trace_lock);
    uc_trace_name_thread(eng->trace, w->tr.tid, "worker thread");
    thr_lock_unlock(&eng->trace_lock);
  }
  while (thr_chan_recv(eng->work, &item) == 0) {
    thr_job *job = item;
    uc_fetch_result r;
    uc_parsed parsed;
    uint64_t parse_ns = 0;
    memset(&parsed, 0, sizeof parsed);
    if (eng->trace != NULL) {
      atomic_fetch_add_explicit(&eng->busy, 1, memory_order_relaxed);
      w->tr.fetch_start_ns = w->tr.curl_end_ns = w->tr.parse_start_ns = 0;
    }
    int rc = work_on(w, job, &r, &parsed, &parse_ns);
    if (eng->trace != NULL)
      trace_job(w, job, &r, parse_ns);
    thr_lock_lock(&eng->crawl_lock);
    uc_crawl_fail(eng->crawl, rc);
    uc_crawl_fail(eng->crawl, uc_crawl_complete(eng->crawl, job->fetch, &r, &parsed, parse_ns,
                                                now_ms()));
    thr_cond_signal(&eng->crawl_cv); /* only the dispatcher waits on it */
    thr_lock_unlock(&eng->crawl_lock);
    uc_parsed_free(&parsed);
    thr_fetch_release(w);
    free(job);
    if (eng->trace != NULL)
      atomic_fetch_sub_explicit(&eng->busy, 1, memory_order_relaxed);
  }
  return NULL;
}

/* ---- signals ---------------------------------------------------------- */

/* The first signal: stop dispatching, let the transfers finish. */
static void start_drain(thr_engine *eng) {
  thr_lock_lock(&eng->crawl_lock);
  eng->signals++;
  eng->interrupted = 1;
  set_phase(eng, THR_DRAINING);
  uc_crawl_stop(eng->crawl);
  uc_run_draining(eng->crawl, eng->cfg, eng->progress_shown);
  thr_chan_close(eng->work);
  thr_cond_signal(&eng->crawl_cv);
  thr_lock_unlock(&eng->crawl_lock);
}

/* The second signal or the drain timeout: cut the transfers. */
static void start_abort(thr_engine *eng, bool by_signal) {
  thr_lock_lock(&eng->crawl_lock);
  eng->signals += by_signal;
  eng->interrupted = 2;
  if (!uc_crawl_stopping(eng->crawl))
    uc_crawl_stop(eng->crawl);
  set_phase(eng, THR_ABORTING);
  thr_chan_close(eng->work);
  thr_cond_signal(&eng->crawl_cv);
  thr_lock_unlock(&eng->crawl_lock);
}

typedef struct signal_thread {
  thr_engine *eng;
  pthread_t tid;
  sigset_t set;     /* SIGINT, SIGTERM, SIGUSR1 */
  atomic_bool done; /* the crawl is over: SIGUSR1 ends the thread */
  unsigned early;   /* signals caught before the mask was set */
} signal_thread;

/* SIGINT or SIGTERM: the first drains, the next aborts. */
static void interrupted(thr_engine *eng, uint64_t *deadline_ns, bool *aborted) {
  thr_lock_lock(&eng->crawl_lock);
  bool first = eng->signals == 0 && get_phase(eng) == THR_RUNNING;
  thr_lock_unlock(&eng->crawl_lock);
  if (first) {
    start_drain(eng);
    *deadline_ns = thr_now_ns() + (uint64_t)(eng->cfg->drain_timeout_s * 1e9);
  } else {
    start_abort(eng, true);
    *aborted = true;
  }
}

static void *signal_main(void *arg) {
  signal_thread *st = arg;
  thr_engine *eng = st->eng;
  uint64_t deadline_ns = 0; /* after the first signal: end of the drain */
  bool aborted = false;
  /* Signals that came before the engine could take them (see main.c). */
  for (unsigned i = 0; i < st->early; i++)
    interrupted(eng, &deadline_ns, &aborted);
  for (;;) {
    int sig;
    if (deadline_ns == 0 || aborted) {
      if (sigwait(&st->set, &sig) != 0)
        continue;
    } else {
      uint64_t now = thr_now_ns();
      uint64_t left = deadline_ns > now ? deadline_ns - now : 0;
      struct timespec ts = {(time_t)(left / 1000000000ull), (long)(left % 1000000000ull)};
      sig = sigtimedwait(&st->set, NULL, &ts);
      if (sig < 0 && errno == EINTR)
        continue;
      if (sig < 0) { /* EAGAIN: the drain took too long */
        start_abort(eng, false);
        aborted = true;
        continue;
      }
    }
    if (sig == SIGUSR1) {
      /* acquire: pairs with the release store in stop_signal_thread, so
       * the main thread's "over" is seen (a stray SIGUSR1 is ignored). */
      if (atomic_load_explicit(&st->done, memory_order_acquire))
        return NULL;
      continue;
    }
    interrupted(eng, &deadline_ns, &aborted);
  }
}

static void stop_signal_thread(signal_thread *st) {
  atomic_store_explicit(&st->done, true, memory_order_release);
  pthread_kill(st->tid, SIGUSR1);
  pthread_join(st->tid, NULL);
}

/* ---- the worker pool -------------------------------------------------- */

/* Start one more worker: room in the channel for the job it will take
 * (running + 2, see the Note at the top), its curl handle, its thread.
 * Main thread, no lock held. Returns 0 or an errno value. */
static int start_worker(thr_engine *eng) {
  if (thr_chan_reserve(eng->work, (size_t)eng->running + 2) != 0)
    return ENOMEM;
  thr_worker *w = calloc(1, sizeof *w);
  if (w == NULL)
    return ENOMEM;
  w->eng = eng;
  if ((w->easy = curl_easy_init()) == NULL) {
    free(w);
    return ENOMEM;
  }
  int err = pthread_create(&w->tid, NULL, worker_main, w);
  if (err != 0) {
    curl_easy_cleanup(w->easy);
    free(w);
    return err;
  }
  w->next = eng->pool;
  eng->pool = w;
  eng->running++;
  return 0;
}

/* A job went out and no worker was idle: start one, or go on with the
 * workers there are (at least one runs: the first starts before any job). */
static void more_workers(thr_engine *eng) {
  int err = start_worker(eng);
  if (err == 0)
    return;
  fprintf(stderr, "uvcrawl: cannot start another worker thread (%s): going on with %u (-c %u)\n",
          strerror(err), eng->running, eng->max_workers);
  eng->max_workers = eng->running;
}

/* Close the channel (the workers end once it is empty) and join them all. */
static void join_workers(thr_engine *eng) {
  thr_chan_close(eng->work);
  while (eng->pool != NULL) {
    thr_worker *w = eng->pool;
    eng->pool = w->next;
    pthread_join(w->tid, NULL);
    uc_transfer_reset(&w->transfer, false);
    curl_easy_cleanup(w->easy);
    free(w);
  }
}

/* ---- the dispatcher --------------------------------------------------- */

/* Wait on crawl_cv until woken or until deadline_ms (UINT64_MAX: no
 * deadline). crawl_lock held. */
static void wait_until(thr_engine *eng, uint64_t deadline_ms) {
  if (deadline_ms == UINT64_MAX) {
    thr_cond_wait(&eng->crawl_cv, &eng->crawl_lock);
    return;
  }
  /* + 1 ns: deadline 0 means "none" to thr_cond_timedwait. */
  thr_cond_timedwait(&eng->crawl_cv, &eng->crawl_lock, deadline_ms * NS_PER_MS + 1);
}

/* A fetch that will not reach a worker: hand it back as aborted. */
static void give_back(thr_engine *eng, uc_fetch *f) {
  uc_fetch_result r;
  uc_fetch_result_failed(&r, UC_FAIL_ABORTED, 0);
  uc_crawl_fail(eng->crawl, uc_crawl_complete(eng->crawl, f, &r, NULL, 0, now_ms()));
}

/* --trace: the counters, from a snapshot taken under crawl_lock (held on
 * entry and on return), written under trace_lock alone. */
static void trace_sample(thr_engine *eng) {
  uint64_t inflight = eng->stats->inflight;
  size_t queued = uc_crawl_queued(eng->crawl);
  uint64_t waiting = uc_crawl_busy(eng->crawl) - inflight;
  thr_lock_unlock(&eng->crawl_lock);
  uint64_t now = thr_now_ns();
  unsigned busy = atomic_load_explicit(&eng->busy, memory_order_relaxed);
  thr_lock_lock(&eng->trace_lock);
  uc_run_trace_store(eng->store, eng->trace, now, waiting, &eng->store_tid);
  uc_trace_counter(eng->trace, "in flight", now, (double)inflight);
  uc_trace_counter(eng->trace, "queued", now, (double)queued);
  uc_trace_counter(eng->trace, "busy workers", now, (double)busy);
  thr_lock_unlock(&eng->trace_lock);
  thr_lock_lock(&eng->crawl_lock);
}

/* Hand out work until the crawl is over; returns whether a progress line
 * was shown. */
static bool dispatch(thr_engine *eng) {
  bool show = eng->cfg->progress && isatty(STDERR_FILENO), shown = false;
  uint64_t next_progress = show ? now_ms() + UC_PROGRESS_MS : UINT64_MAX;
  uint64_t next_sample = eng->trace != NULL ? now_ms() : UINT64_MAX;
  thr_lock_lock(&eng->crawl_lock);
  for (;;) {
    if (uc_crawl_fatal(eng->crawl) != 0 && get_phase(eng) == THR_RUNNING)
      set_phase(eng, THR_DRAINING); /* uc_crawl_fail stopped the crawl */
    uint64_t now_ns = thr_now_ns(), now = now_ns / NS_PER_MS, wake = UINT64_MAX;
    if (get_phase(eng) == THR_RUNNING && uc_crawl_busy(eng->crawl) < eng->max_workers) {
      uc_fetch *f = NULL;
      int rc = uc_crawl_next(eng->crawl, now, &f, &wake);
      if (rc == 0) {
        thr_job *job = malloc(sizeof *job);
        if (job == NULL) {
          give_back(eng, f);
          uc_crawl_fail(eng->crawl, UC_ENOMEM);
          continue;
        }
        job->fetch = f;
        job->dispatched_ns = now_ns;
        uint64_t out = eng->stats->inflight; /* this job included */
        /* Never block in send holding crawl_lock (see the top); it has
         * room, but a worker completing meanwhile needs the lock. */
        thr_lock_unlock(&eng->crawl_lock);
        rc = thr_chan_send(eng->work, job);
        if (rc == 0 && out > eng->running)
          more_workers(eng); /* no worker was idle for it */
        thr_lock_lock(&eng->crawl_lock);
        if (rc != 0) { /* closed by a signal in between */
          give_back(eng, f);
          free(job);
        }
        continue;
      }
      if (rc != UC_EAGAIN && rc != UC_EEMPTY) {
        uc_crawl_fail(eng->crawl, rc);
        continue;
      }
      if (rc != UC_EAGAIN)
        wake = UINT64_MAX;
    }
    if (uc_crawl_over(eng->crawl, get_phase(eng) == THR_RUNNING))
      break;
    if (now >= next_sample) {
      trace_sample(eng);
      next_sample = now + UC_TRACE_SAMPLE_MS;
      continue;
    }
    if (now >= next_progress) {
      uc_progress p;
      uc_run_progress_take(eng->crawl, &p);
      thr_lock_unlock(&eng->crawl_lock);
      uc_run_progress_print(stderr, &p, (double)(thr_now_ns() - eng->start_ns) / 1e9);
      shown = true;
      next_progress = now + UC_PROGRESS_MS;
      thr_lock_lock(&eng->crawl_lock);
      eng->progress_shown = true;
      continue;
    }
    uint64_t until = wake < next_progress ? wake : next_progress;
    wait_until(eng, until < next_sample ? until : next_sample);
  }
  thr_lock_unlock(&eng->crawl_lock);
  return shown;
}

/* ---- start and end ---------------------------------------------------- */

/* On the store's writer thread: groups became durable, so pages waiting
 * for them free their slots (uc_crawl_busy); wake the dispatcher. Takes
 * crawl_lock, so the wake cannot fall between the dispatcher's check and
 * its wait. Lock order: the store's hook lock -> crawl_lock; nothing holds
 * crawl_lock and takes the hook lock (uc_store_set_hooks is called
 * without crawl_lock). */
static void store_wake(void *ctx) {
  thr_engine *eng = ctx;
  thr_lock_lock(&eng->crawl_lock);
  thr_cond_signal(&eng->crawl_cv);
  thr_lock_unlock(&eng->crawl_lock);
}

/* On the store's writer thread, before each commit: the records and
 * archives of the pages in it reach their files first (every sink's flush
 * is safe against its writes, sink.h). */
static int store_pre_commit(void *ctx, char *msg, size_t msglen) {
  thr_engine *eng = ctx;
  return uc_sinks_flush_said(eng->sinks, msg, msglen);
}

#ifdef THR_INVERT_LOCK_ORDER
/* Under a stripe lock: take crawl_lock unless this thread holds it (the
 * seeding below); a flag that only the main thread writes, before any
 * worker starts. */
static bool seeding;
static void invert_hook(void *ctx) {
  thr_engine *eng = ctx;
  if (seeding)
    return;
  thr_lock_lock(&eng->crawl_lock);
  thr_lock_unlock(&eng->crawl_lock);
}
#endif

/* Set up what the crawl needs before any thread starts. */
static int engine_init(thr_engine *eng, const uc_config *cfg, const uc_run_env *env,
                       char *err, size_t errlen) {
  eng->cfg = cfg;
  eng->start_ns = thr_now_ns();
  atomic_init(&eng->phase, THR_RUNNING);
  /* crawl_cv's timed waits use thr_now_ns's clock, CLOCK_MONOTONIC. */
  thr_lock_init(&eng->crawl_lock, cfg->sync, "crawl_lock");
  thr_cond_init(&eng->crawl_cv, cfg->sync);
  thr_lock_init(&eng->trace_lock, cfg->sync, "trace_lock");
  eng->trace = env->trace;
  atomic_init(&eng->busy, 0);
  int rc = thr_check_dns_server(cfg, err, errlen);
  if (rc != 0)
    return rc;
  eng->max_workers = cfg->concurrency > 0 ? cfg->concurrency : 1; /* fitted by the CLI */
  if ((rc = thr_visited_new(&eng->visited, cfg->seen, cfg->sync, cfg->seen_key, 0)) != 0)
    return rc;
  uc_crawl_opts copts = {.cfg = cfg, .sinks = env->sinks, .engine = "threads",
                         .now_ms = now_ms(), .visited = thr_visited_insert,
                         .visited_ctx = eng->visited, .store = env->store,
                         .wall_ms = wall_ms()};
  rc = uc_crawl_new(&eng->crawl, &copts, err, errlen);
  if (rc != 0)
    return rc;
  eng->stats = uc_crawl_stats(eng->crawl);
#ifdef THR_INVERT_LOCK_ORDER
  /* The checker's test build (tests/integration/test_lockdep.py): seeds
   * are deduplicated under crawl_lock (crawl_lock -> stripe, the
   * documented order), and every insert takes crawl_lock inside its
   * stripe lock (stripe -> crawl_lock): the first worker that inserts a
   * link inverts the order, and the checker must abort right there. */
  thr_visited_set_hook(eng->visited, invert_hook, eng);
  thr_lock_lock(&eng->crawl_lock);
  seeding = true;
  rc = uc_run_seed(eng->crawl, cfg, now_ms());
  seeding = false;
  thr_lock_unlock(&eng->crawl_lock);
  if (rc != 0)
    return rc;
#else
  if ((rc = uc_run_seed(eng->crawl, cfg, now_ms())) != 0)
    return rc;
#endif
  eng->sinks = env->sinks;
  if ((eng->store = env->store) != NULL)
    uc_store_set_hooks(eng->store, store_wake, store_pre_commit, eng);
  if ((rc = thr_share_init(&eng->share, cfg->sync)) != 0)
    return rc;
  return thr_chan_new(&eng->work, 1, cfg->sync); /* start_worker grows it */
}

static void engine_free(thr_engine *eng) {
  /* No wake may run once crawl_lock is gone (uc_run_end's last commit
   * still wakes the dispatcher's condition variable, harmlessly). */
  if (eng->store != NULL)
    uc_store_set_hooks(eng->store, NULL, NULL, NULL);
  thr_chan_free(eng->work);
  thr_share_cleanup(&eng->share);
  uc_crawl_free(eng->crawl);
  thr_visited_free(eng->visited);
  thr_cond_destroy(&eng->crawl_cv);
  thr_lock_destroy(&eng->crawl_lock);
  thr_lock_destroy(&eng->trace_lock);
}

int thr_run(const uc_config *cfg, const uc_run_env *env, uc_stats *stats_out) {
  thr_engine eng_storage, *eng = &eng_storage;
  char err[256] = "";
  memset(eng, 0, sizeof *eng);
  memset(stats_out, 0, sizeof *stats_out);
  int rc = engine_init(eng, cfg, env, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "uvcrawl: %s\n", err[0] ? err : uc_strerror(rc));
    engine_free(eng);
    return rc == UC_EINVAL ? 2 : 1;
  }

  /* Block the signals in this thread before creating any other, so that
   * every thread inherits the mask and only the signal thread takes them. */
  signal_thread st = {.eng = eng};
  sigset_t old;
  sigemptyset(&st.set);
  sigaddset(&st.set, SIGINT);
  sigaddset(&st.set, SIGTERM);
  sigaddset(&st.set, SIGUSR1);
  atomic_init(&st.done, false);
  pthread_sigmask(SIG_BLOCK, &st.set, &old);
  st.early = env->early_signals != NULL ? env->early_signals() : 0;
  /* Without these two threads there is no crawl: one line, exit 1. */
  bool sig_started = false;
  int start_err = pthread_create(&st.tid, NULL, signal_main, &st);
  if (start_err != 0) {
    fprintf(stderr, "uvcrawl: cannot start the signal thread: %s\n", strerror(start_err));
  } else {
    sig_started = true;
    if ((start_err = start_worker(eng)) != 0)
      fprintf(stderr, "uvcrawl: cannot start a worker thread: %s\n", strerror(start_err));
  }
  bool shown = false;
  if (start_err == 0)
    shown = dispatch(eng);
  join_workers(eng);
  if (sig_started)
    stop_signal_thread(&st);
  /* A signal after the end is not part of the crawl: drop it rather than
   * let it kill the process when the old mask comes back. */
  struct timespec zero = {0, 0};
  while (sigtimedwait(&st.set, NULL, &zero) > 0)
    ;
  pthread_sigmask(SIG_SETMASK, &old, NULL);

  if (shown)
    fputs("\r\033[K", stderr);
  uc_run_outcome end = {.elapsed_s = (double)(thr_now_ns() - eng->start_ns) / 1e9,
                        .signals = eng->signals, .interrupted = eng->interrupted,
                        .internal_error = start_err != 0};
  int code = uc_run_end(eng->crawl, env, &end, stats_out);
  stats_out->threads_started = eng->running;
  engine_free(eng);
  return code;
}
