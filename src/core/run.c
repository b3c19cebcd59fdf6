/* run.c - what every engine does around the crawl (see run.h). */
#include "uvcrawl/run.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "uvcrawl/error.h"
#include "uvcrawl/url.h"

#define NS_PER_MS 1000000ull

int uc_run_seed(uc_crawl *c, const uc_config *cfg, uint64_t now_ms) {
  uc_crawl_restored was;
  int restored = uc_crawl_restore(c, now_ms, &was);
  if (restored != 0)
    return restored;
  if ((was.live > 0 || was.done > 0) && !cfg->quiet)
    fprintf(stderr, "uvcrawl: resuming the crawl in %s: %" PRIu64 " URLs queued, %" PRIu64
            " done, %" PRIu64 " hosts (%" PRIu64 " with robots.txt still fresh)\n",
            cfg->state_dir != NULL ? cfg->state_dir : "its store", was.live, was.done,
            was.hosts, was.robots);
  for (size_t i = 0; i < cfg->n_seeds; i++) {
    int rc = uc_crawl_seed(c, cfg->seeds[i], now_ms);
    if (rc == UC_ENOMEM || rc == UC_EFULL)
      return rc;
    if (rc != 0) {
      uc_buf shown = UC_BUF_INIT;
      uc_url_mask(cfg->seeds[i], &shown);
      fprintf(stderr, "uvcrawl: skipping seed '%s': %s\n",
              shown.data != NULL ? shown.data : cfg->seeds[i], uc_strerror(rc));
      uc_buf_free(&shown);
    }
  }
  for (size_t i = 0; i < cfg->n_sitemap_seeds; i++) {
    int rc = uc_crawl_seed_sitemap(c, cfg->sitemap_seeds[i], now_ms);
    if (rc == UC_ENOMEM || rc == UC_EFULL)
      return rc;
    if (rc != 0)
      fprintf(stderr, "uvcrawl: skipping sitemap '%s': %s\n", cfg->sitemap_seeds[i],
              uc_strerror(rc));
  }
  return uc_crawl_commit(c);
}

void uc_run_trace_store(uc_store *store, uc_trace *t, uint64_t now_ns, uint64_t waiting,
                        uint64_t *writer_tid) {
  if (store == NULL)
    return;
  uc_store_commit_info commits[64];
  size_t n;
  while ((n = uc_store_take_commits(store, commits, 64)) > 0)
    for (size_t i = 0; i < n; i++) {
      if (commits[i].tid != *writer_tid) {
        *writer_tid = commits[i].tid;
        uc_trace_name_thread(t, commits[i].tid, "store writer thread");
      }
      uc_trace_work(t, "commit", commits[i].tid, commits[i].start_ns, commits[i].end_ns,
                    commits[i].ops);
    }
  uc_trace_counter(t, "pages waiting for the store", now_ns, (double)waiting);
}

void uc_run_progress_take(const uc_crawl *c, uc_progress *out) {
  const uc_stats *s = uc_crawl_stats(c);
  out->pages = s->pages;
  out->inflight = s->inflight;
  out->hosts = s->hosts;
  out->queued = uc_crawl_queued(c);
  out->draining = uc_crawl_stopping(c) && uc_crawl_fatal(c) == 0;
  out->errors = 0;
  for (int i = 1; i < UC_FAIL_COUNT_; i++)
    out->errors += s->failures[i];
}

void uc_run_progress_print(FILE *tty, const uc_progress *p, double elapsed_s) {
  if (p->draining) {
    fprintf(tty, "\r\033[Kdraining %" PRIu64 " transfers, Ctrl-C again to abort  (%" PRIu64
            " pages, %" PRIu64 " errors)", p->inflight, p->pages, p->errors);
    return;
  }
  fprintf(tty,
          "\r\033[K%" PRIu64 " pages  %.0f/s  %" PRIu64 " in flight  %zu queued  %" PRIu64
          " hosts  %" PRIu64 " errors",
          p->pages, elapsed_s > 0 ? (double)p->pages / elapsed_s : 0.0, p->inflight, p->queued,
          p->hosts, p->errors);
}

void uc_run_draining(const uc_crawl *c, const uc_config *cfg, bool progress_shown) {
  if (cfg->quiet)
    return;
  fprintf(stderr, "%suvcrawl: interrupted: draining %" PRIu64 " transfers (at most %g s), "
          "Ctrl-C again to abort them\n",
          progress_shown ? "\r\033[K" : "", uc_crawl_stats(c)->inflight, cfg->drain_timeout_s);
}

void uc_run_trace_span(uc_trace_xfer *tx, const uc_fetch *f, const uc_fetch_result *r) {
  const uc_frontier_item *it = &f->item;
  *tx = (uc_trace_xfer){
      .url = it->url,
      .status = r->status,
      .error = r->fail != UC_FAIL_NONE ? uc_fail_name(r->fail) : NULL,
      .queued_ns = it->queued_ms * NS_PER_MS,
      .wait_from_ns = it->wait_from_ms * NS_PER_MS,
      .wait_until_ns = it->wait_until_ms * NS_PER_MS,
  };
}

int uc_run_end(uc_crawl *c, const uc_run_env *env, const uc_run_outcome *o, uc_stats *out) {
  const char *flush_what = NULL;
  int flush_rc = uc_sinks_flush(env->sinks, &flush_what);
  int flush_errno = flush_rc != 0 ? errno : 0;
  uc_crawl_fail(c, flush_rc);
  *out = *uc_crawl_stats(c);
  out->elapsed_s = o->elapsed_s;
  out->interrupted = o->interrupted;
  out->dns_queries = o->dns_queries;
  out->dns_cache_hits = o->dns_cache_hits;
  int fatal = uc_crawl_fatal(c);
  out->ended = fatal != 0 || o->internal_error ? UC_END_FATAL
               : o->signals > 0               ? UC_END_INTERRUPTED
               : out->max_pages_reached       ? UC_END_MAX_PAGES
                                              : UC_END_DONE;
  /* The store's last group: why this run ended, then wait for the disk. */
  char why[256] = ""; /* the store's failure, or an output's */
  if (env->store != NULL) {
    int rc = uc_store_put_meta(env->store, "ended", uc_end_name(out->ended));
    if (rc == 0)
      rc = uc_store_commit(env->store, NULL);
    if (rc == 0)
      rc = uc_store_sync(env->store);
    if (uc_store_failed(env->store, why, sizeof why) != 0 || rc != 0) {
      uc_crawl_fail(c, rc != 0 ? rc : UC_EIO);
      fatal = uc_crawl_fatal(c);
      out->ended = UC_END_FATAL;
    }
  }
  int write_errno = uc_crawl_write_errno(c) != 0 ? uc_crawl_write_errno(c) : flush_errno;
  const char *what = NULL;
  if (uc_sinks_failed(env->sinks, &what) == 0 && flush_what != NULL)
    what = flush_what;
  if (why[0] == '\0' && fatal == UC_EIO && write_errno != 0)
    uc_sinks_say(why, sizeof why, what, write_errno); /* e.g. a closed pipe */
  if (why[0] != '\0')
    fprintf(stderr, "uvcrawl: crawl stopped: %s\n", why);
  else if (fatal != 0)
    fprintf(stderr, "uvcrawl: crawl stopped: %s\n", uc_strerror(fatal));
  switch (out->ended) {
  case UC_END_FATAL:
    return 1;
  case UC_END_INTERRUPTED:
    return 130;
  default:
    return out->seeds_ok == 0 ? UC_EXIT_NO_SEED : 0;
  }
}
