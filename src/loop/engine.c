/*
 * engine.c - the event-loop engine's loop: start-up, the dispatch gate,
 * signals, progress, and an orderly close of every handle.
 *
 * The gate: a URL becomes a transfer only when uc_crawl_next() finds its
 * host with a token and under --per-host, and while fewer than -c
 * transfers are in flight. When every waiting host is out of tokens, one
 * uv_timer_t is armed for the earliest moment one gets a token. Dispatch
 * runs from a uv_idle_t "kick" at most once per loop turn, so a burst of
 * completions costs one pass, and nothing is started from inside a curl
 * or c-ares callback.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "loop_int.h"
#include "uvcrawl/error.h"

static void dispatch_cb(uv_idle_t *idle);
static void begin_close(loop_engine *eng);

uint64_t loop_now_ms(loop_engine *eng) { return uv_now(&eng->loop); }

/* The wall clock, for what the store keeps across runs (robots.txt age). */
static int64_t loop_wall_ms(void) {
  uv_timeval64_t tv;
  if (uv_gettimeofday(&tv) != 0)
    return 0;
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void loop_kick(loop_engine *eng) {
  if (eng->phase != PHASE_CLOSING)
    uv_idle_start(&eng->kick, dispatch_cb);
}

static void gate_cb(uv_timer_t *t) { loop_kick(t->data); }

/* The store's writer thread made groups durable: the pages that waited
 * for them free their slots (uc_crawl_busy), so run the gate again. */
static void store_async_cb(uv_async_t *a) { loop_kick(a->data); }

/* On the store's writer thread: uv_async_send is the one libuv call that
 * is safe from another thread. */
static void store_wake(void *ctx) {
  loop_engine *eng = ctx;
  uv_async_send(&eng->store_async);
}

/* On the store's writer thread, before each commit: the records and
 * archives of the pages in it reach their files first (every sink's flush
 * is safe against its writes, sink.h). */
static int store_pre_commit(void *ctx, char *msg, size_t msglen) {
  loop_engine *eng = ctx;
  return uc_sinks_flush_said(eng->env->sinks, msg, msglen);
}

/* Start transfers while the gate allows; end the crawl when all is done. */
static void dispatch_cb(uv_idle_t *idle) {
  loop_engine *eng = idle->data;
  uv_idle_stop(idle);
  if (uc_crawl_fatal(eng->crawl) != 0 && eng->phase == PHASE_RUNNING)
    eng->phase = PHASE_DRAINING; /* uc_crawl_fail stopped the crawl */
  while (eng->phase == PHASE_RUNNING && uc_crawl_busy(eng->crawl) < eng->concurrency) {
    uv_update_time(&eng->loop);
    uint64_t now = loop_now_ms(eng), wake = 0;
    uc_fetch *f = NULL;
    int rc = uc_crawl_next(eng->crawl, now, &f, &wake);
    if (rc == 0) {
      loop_xfer_start(eng, f);
    } else if (rc == UC_EAGAIN) {
      uv_timer_start(&eng->gate_timer, gate_cb, wake > now ? wake - now : 0, 0);
      break;
    } else if (rc == UC_EEMPTY) {
      break;
    } else {
      uc_crawl_fail(eng->crawl, rc);
      eng->phase = PHASE_DRAINING;
      break;
    }
  }
  if (eng->phase == PHASE_CLOSING)
    return;
  bool over = uc_crawl_over(eng->crawl, eng->phase == PHASE_RUNNING);
  if (eng->cluster != NULL) /* idle here is not the end: the cluster decides */
    over = uc_cluster_step(eng->cluster, over, eng->phase != PHASE_RUNNING);
  if (over)
    begin_close(eng);
}

/* Abort what is in flight: the second signal, or the drain took too long. */
static void abort_transfers(loop_engine *eng) {
  if (eng->phase == PHASE_CLOSING || eng->phase == PHASE_ABORTING)
    return;
  eng->phase = PHASE_ABORTING;
  eng->interrupted = 2;
  loop_xfer_abort_all(eng);
  loop_kick(eng);
}

static void drain_timeout_cb(uv_timer_t *t) { abort_transfers(t->data); }

/* Stop dispatching and let the transfers in flight finish: the first
 * signal, or a cluster's --stop. */
static void start_drain(loop_engine *eng) {
  if (eng->phase != PHASE_RUNNING)
    return;
  eng->phase = PHASE_DRAINING;
  eng->interrupted = 1;
  uc_crawl_stop(eng->crawl);
  uc_run_draining(eng->crawl, eng->cfg, eng->progress_shown);
  uv_timer_stop(&eng->gate_timer);
  uv_timer_start(&eng->drain_timer, drain_timeout_cb, (uint64_t)(eng->cfg->drain_timeout_s * 1000),
                 0);
  loop_kick(eng);
}

static void cluster_kick(void *ctx) { loop_kick(ctx); }
/* --stop: as a first SIGINT (a signal after it aborts). */
static void cluster_drain(void *ctx) {
  loop_engine *eng = ctx;
  if (eng->phase == PHASE_RUNNING && eng->signals == 0) {
    eng->signals = 1;
    start_drain(eng);
  }
}

static void signal_cb(uv_signal_t *s, int signum) {
  loop_engine *eng = s->data;
  if (++eng->signals == 1 && eng->phase == PHASE_RUNNING) {
    start_drain(eng);
  } else {
    abort_transfers(eng);
  }
}

static void progress_cb(uv_timer_t *t) {
  loop_engine *eng = t->data;
  uc_progress p;
  uc_run_progress_take(eng->crawl, &p);
  uc_run_progress_print(stderr, &p, (double)(uv_hrtime() - eng->start_ns) / 1e9);
  if (eng->cluster != NULL) {
    char share[160];
    uc_cluster_progress(eng->cluster, share, sizeof share);
    fprintf(stderr, "  [%s]", share);
  }
  eng->progress_shown = true;
}

/* --trace: sample the counters, and the loop's lag: how late this timer
 * fires, which is how long other callbacks kept the loop busy. */
static void trace_sample_cb(uv_timer_t *t) {
  loop_engine *eng = t->data;
  uint64_t now = uv_hrtime();
  double lag_ms = now > eng->trace_due_ns ? (double)(now - eng->trace_due_ns) / 1e6 : 0.0;
  uc_trace_counter(eng->trace, "in flight", now, (double)eng->stats->inflight);
  uc_trace_counter(eng->trace, "queued", now, (double)uc_crawl_queued(eng->crawl));
  uc_trace_counter(eng->trace, "parsing in the pool", now, (double)eng->parsing);
  uc_trace_counter(eng->trace, "event-loop lag (ms)", now, lag_ms);
  uc_run_trace_store(eng->env->store, eng->trace, now,
                     uc_crawl_busy(eng->crawl) - eng->stats->inflight, &eng->store_tid);
  /* libuv fires it when the loop's clock reaches now + timeout. */
  eng->trace_due_ns = (uv_now(&eng->loop) + UC_TRACE_SAMPLE_MS) * 1000000;
  uv_timer_start(t, trace_sample_cb, UC_TRACE_SAMPLE_MS, 0);
}

/* Every transfer is done: close the handles; uv_run returns after the
 * last close callback. */
static void begin_close(loop_engine *eng) {
  eng->phase = PHASE_CLOSING;
  uv_close((uv_handle_t *)&eng->kick, NULL);
  uv_close((uv_handle_t *)&eng->gate_timer, NULL);
  uv_close((uv_handle_t *)&eng->progress_timer, NULL);
  uv_close((uv_handle_t *)&eng->drain_timer, NULL);
  uv_close((uv_handle_t *)&eng->sigint, NULL);
  uv_close((uv_handle_t *)&eng->sigterm, NULL);
  if (eng->env->store != NULL) {
    /* Returns once no wake runs: none can touch the handle after this. */
    uc_store_set_hooks(eng->env->store, NULL, NULL, NULL);
    uv_close((uv_handle_t *)&eng->store_async, NULL);
  }
  if (eng->trace != NULL)
    uv_close((uv_handle_t *)&eng->trace_timer, NULL);
  if (eng->cluster != NULL)
    uc_cluster_close(eng->cluster);
  loop_curl_close(eng);
  loop_dns_counts(eng->dns, &eng->dns_queries, &eng->dns_cache_hits);
  loop_dns_close(eng->dns);
  eng->dns = NULL;
}

/* curl's connection cache: 4x -c (curl's own default), but idle
 * connections hold files, so within what the open-files limit leaves. */
static unsigned connection_cache_size(const uc_config *cfg) {
  uint64_t size = (uint64_t)cfg->concurrency * 4;
  if (cfg->max_files > 0 && size + UC_FD_RESERVE > cfg->max_files)
    size = cfg->max_files > 2 * UC_FD_RESERVE ? cfg->max_files - UC_FD_RESERVE : 1;
  return size < cfg->concurrency ? cfg->concurrency : (unsigned)size;
}

static void init_handles(loop_engine *eng) {
  uv_idle_init(&eng->loop, &eng->kick);
  uv_timer_init(&eng->loop, &eng->gate_timer);
  uv_timer_init(&eng->loop, &eng->progress_timer);
  uv_timer_init(&eng->loop, &eng->drain_timer);
  uv_signal_init(&eng->loop, &eng->sigint);
  uv_signal_init(&eng->loop, &eng->sigterm);
  eng->kick.data = eng->gate_timer.data = eng->progress_timer.data = eng;
  eng->drain_timer.data = eng->sigint.data = eng->sigterm.data = eng;
  uv_signal_start(&eng->sigint, signal_cb, SIGINT);
  uv_signal_start(&eng->sigterm, signal_cb, SIGTERM);
  if (eng->env->store != NULL) {
    uv_async_init(&eng->loop, &eng->store_async, store_async_cb);
    eng->store_async.data = eng;
    uc_store_set_hooks(eng->env->store, store_wake, store_pre_commit, eng);
  }
  /* Signals that came before libuv took them (see main.c): act now. */
  unsigned early = eng->env->early_signals != NULL ? eng->env->early_signals() : 0;
  for (unsigned i = 0; i < early; i++)
    signal_cb(&eng->sigint, SIGINT);
  /* Signal handles must not keep the loop alive on their own. */
  uv_unref((uv_handle_t *)&eng->sigint);
  uv_unref((uv_handle_t *)&eng->sigterm);
  if (eng->trace != NULL) {
    eng->loop_tid = (uint64_t)gettid();
    uc_trace_name_thread(eng->trace, eng->loop_tid, "loop thread");
    uv_timer_init(&eng->loop, &eng->trace_timer);
    eng->trace_timer.data = eng;
    eng->trace_due_ns = (uv_now(&eng->loop) + UC_TRACE_SAMPLE_MS) * 1000000;
    uv_timer_start(&eng->trace_timer, trace_sample_cb, UC_TRACE_SAMPLE_MS, 0);
    uv_unref((uv_handle_t *)&eng->trace_timer);
  }
  if (eng->cfg->progress && isatty(STDERR_FILENO)) {
    uv_timer_start(&eng->progress_timer, progress_cb, UC_PROGRESS_MS, UC_PROGRESS_MS);
    uv_unref((uv_handle_t *)&eng->progress_timer);
  }
}

int loop_run(const uc_config *cfg, const uc_run_env *env, uc_stats *stats_out) {
  loop_engine eng_storage, *eng = &eng_storage;
  char err[256] = "";
  memset(eng, 0, sizeof *eng);
  eng->cfg = cfg;
  eng->env = env;
  eng->trace = env->trace;
  eng->concurrency = cfg->concurrency; /* fitted to the open-files limit by the CLI */
  eng->max_connects = connection_cache_size(cfg);
  if (uv_loop_init(&eng->loop) != 0) {
    fputs("uvcrawl: cannot start the event loop\n", stderr);
    return 1;
  }
  eng->start_ns = uv_hrtime();
  uc_crawl_opts copts = {.cfg = cfg, .sinks = env->sinks, .engine = "loop",
                         .now_ms = loop_now_ms(eng), .store = env->store,
                         .wall_ms = loop_wall_ms()};
  int rc = 0;
  if (env->cluster != NULL) { /* --cluster: other agents own some hosts */
    uc_cluster_opts clo = {.addr = env->cluster, .agent = cfg->agent, .agents = cfg->agents,
                           .loop = &eng->loop, .kick = cluster_kick, .drain = cluster_drain,
                           .ctx = eng, .verbose = cfg->verbose};
    if ((rc = uc_cluster_new(&eng->cluster, &clo)) == 0)
      copts.peers = uc_cluster_peers(eng->cluster);
  }
  if (rc == 0)
    rc = uc_crawl_new(&eng->crawl, &copts, err, sizeof err);
  if (rc == 0) {
    eng->stats = uc_crawl_stats(eng->crawl);
    rc = uc_run_seed(eng->crawl, cfg, loop_now_ms(eng));
  }
  if (rc == 0)
    rc = loop_dns_new(&eng->dns, &eng->loop, cfg, err, sizeof err);
  if (rc == 0 && (rc = loop_curl_init(eng)) != 0) {
    snprintf(err, sizeof err, "cannot start libcurl's multi interface: %s", uc_strerror(rc));
    loop_dns_close(eng->dns);
  }
  if (rc != 0) {
    fprintf(stderr, "uvcrawl: %s\n", err[0] ? err : uc_strerror(rc));
    if (eng->cluster != NULL)
      uc_cluster_close(eng->cluster);
    uv_run(&eng->loop, UV_RUN_DEFAULT);
    uv_loop_close(&eng->loop);
    uc_crawl_free(eng->crawl);
    uc_cluster_free(eng->cluster);
    return rc == UC_EINVAL ? 2 : 1;
  }
  init_handles(eng);
  if (eng->cluster != NULL)
    uc_cluster_start(eng->cluster, eng->crawl, env->store);
  loop_kick(eng);
  uv_run(&eng->loop, UV_RUN_DEFAULT);
  if (eng->progress_shown)
    fputs("\r\033[K", stderr);
  int closed = uv_loop_close(&eng->loop);
  if (closed != 0)
    fprintf(stderr, "uvcrawl: internal error: handles left open (%s)\n", uv_strerror(closed));
  uc_run_outcome end = {.elapsed_s = (double)(uv_hrtime() - eng->start_ns) / 1e9,
                        .signals = eng->signals, .interrupted = eng->interrupted,
                        .dns_queries = eng->dns_queries, .dns_cache_hits = eng->dns_cache_hits,
                        .internal_error = closed != 0};
  int code = uc_run_end(eng->crawl, env, &end, stats_out);
  if (eng->cluster != NULL) {
    uc_cluster_stats cs;
    uc_cluster_get_stats(eng->cluster, &cs);
    stats_out->cluster.agent = cs.agent;
    stats_out->cluster.agents = cs.agents;
    stats_out->cluster.links_out = cs.links_out;
    stats_out->cluster.links_in = cs.links_in;
    stats_out->cluster.entries_out = cs.batches_out;
    stats_out->cluster.entries_in = cs.entries_in;
    stats_out->cluster.commands = cs.commands;
    stats_out->cluster.reconnects = cs.reconnects;
    stats_out->cluster.spilled = cs.links_spilled;
    stats_out->cluster.handover_ns = cs.handover_ns;
    if (code == UC_EXIT_NO_SEED) /* the seeds' owners may be other agents */
      code = 0;
  }
  uc_crawl_free(eng->crawl);
  uc_cluster_free(eng->cluster);
  return code;
}

const char *loop_versions(void) {
  static char text[96];
  snprintf(text, sizeof text, "libuv %s, %s", uv_version_string(), loop_dns_version());
  return text;
}
