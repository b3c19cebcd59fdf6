/* bench_state.c - a synthetic crawl state, and today's in-memory frontier
 * at the same size, for the --state benchmarks (tests/bench/state_bench).
 *
 *   bench_state make DIR URLS HOSTS PORT [DONE_PCT]
 *       writes a --state DIR as uvcrawl would leave it: HOSTS hosts
 *       (http://hNNNN.test:PORT), URLS URLs spread over them round-robin,
 *       DONE_PCT percent of them done (default 0: all queued), the seed
 *       and options of `uvcrawl --scope any --robots off` with seed
 *       http://h0001.test:PORT/. Prints seconds taken and bytes on disk
 *       per URL.
 *   bench_state memory URLS HOSTS
 *       queues URLS URLs of the same shape in a uc_frontier with a
 *       uc_seen visited set, as a crawl without --state holds them, and
 *       prints the peak RSS (VmHWM) and bytes per URL.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "uvcrawl/error.h"
#include "uvcrawl/frontier.h"
#include "uvcrawl/seen.h"
#include "uvcrawl/store.h"
#include "uvcrawl/store_sqlite.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Peak resident set of this process in KiB (VmHWM), or 0. */
static long peak_rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = 0;
  while (f != NULL && fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
      break;
  if (f != NULL)
    fclose(f);
  return kib;
}

static void url_of(char *buf, size_t len, uint64_t i, unsigned hosts, unsigned port) {
  snprintf(buf, len, "http://h%04u.test:%u/synthetic/d%" PRIu64 "/p%08" PRIu64 ".html",
           (unsigned)(i % hosts) + 1, port, i % 97, i);
}

static int make(const char *dir, uint64_t urls, unsigned hosts, unsigned port, unsigned done_pct) {
  char err[512], key[64], url[128];
  uc_store *s = NULL;
  double t0 = now_s();
  if (uc_store_sqlite_open(&s, dir, UC_STORE_SQLITE_CRAWL, err, sizeof err) != 0) {
    fprintf(stderr, "bench_state: %s\n", err);
    return 1;
  }
  /* What cli_state_open stores for `--scope any --robots off URL`. */
  snprintf(url, sizeof url, "http://h0001.test:%u/\n", port);
  int rc = uc_store_put_meta(s, "seeds", url);
  if (rc == 0)
    rc = uc_store_put_meta(s, "options",
                           "--scope=any\n--depth=-1\n--robots=off\n--max-pages-per-host=0\n");
  if (rc == 0)
    rc = uc_store_put_scope(s, "h0001.test", false);
  for (unsigned h = 1; h <= hosts && rc == 0; h++) {
    snprintf(key, sizeof key, "http://h%04u.test:%u", h, port);
    uc_store_host sh = {.id = h, .key = key};
    rc = uc_store_put_host(s, &sh);
  }
  for (uint64_t i = 0; i < urls && rc == 0; i++) {
    url_of(url, sizeof url, i, hosts, port);
    uc_store_url u = {.id = i + 1, .url = url, .host_id = (i % hosts) + 1, .depth = 1};
    rc = uc_store_put_url(s, &u);
    if (rc == 0 && (i % 100) < done_pct) {
      rc = uc_store_set_state(s, i + 1, UC_URL_LEASED, 0, NULL);
      if (rc == 0)
        rc = uc_store_set_state(s, i + 1, UC_URL_DONE, 200, NULL);
    }
    /* Big groups, and a sync now and then, so the log stays small. */
    if (rc == 0 && (i + 1) % 50000 == 0)
      rc = uc_store_commit(s, NULL);
    if (rc == 0 && (i + 1) % 1000000 == 0)
      rc = uc_store_sync(s);
  }
  if (rc == 0)
    rc = uc_store_put_meta(s, "ended", "interrupted");
  if (rc == 0)
    rc = uc_store_commit(s, NULL);
  if (rc == 0)
    rc = uc_store_sync(s);
  uc_store_free(s);
  if (rc != 0) {
    fprintf(stderr, "bench_state: %s\n", uc_strerror(rc));
    return 1;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/crawl.db", dir);
  struct stat sb;
  stat(path, &sb);
  printf("made %" PRIu64 " URLs on %u hosts in %.1f s: %lld bytes, %.1f bytes a URL\n", urls,
         hosts, now_s() - t0, (long long)sb.st_size, (double)sb.st_size / (double)urls);
  return 0;
}

static int memory(uint64_t urls, unsigned hosts) {
  uc_frontier *f;
  uc_seen *seen;
  uc_frontier_opts fo = {.rate = 2, .burst = 2, .per_host = 2};
  uc_seen_opts so = {.expected = 0, .key = {1, 2}};
  if (uc_frontier_new(&f, &fo, 0) != 0 || uc_seen_new(&seen, &so) != 0)
    return 1;
  long base = peak_rss_kib();
  char key[64], url[128];
  for (uint64_t i = 0; i < urls; i++) {
    url_of(url, sizeof url, i, hosts, 8080);
    snprintf(key, sizeof key, "http://h%04u.test:8080", (unsigned)(i % hosts) + 1);
    uc_fhost *h = uc_frontier_host(f, key, true, NULL);
    if (h == NULL || uc_seen_insert(seen, url, strlen(url)) < 0 ||
        uc_frontier_push(f, h, i + 1, url, "http://h0001.test:8080/", 1, 0, 1, false, 0) != 0) {
      fputs("bench_state: out of memory\n", stderr);
      return 1;
    }
  }
  long peak = peak_rss_kib();
  printf("in-memory frontier + visited set, %" PRIu64 " URLs on %u hosts: peak RSS %.1f MiB "
         "(%.1f MiB over the empty process), %.1f bytes a URL\n",
         urls, hosts, peak / 1024.0, (peak - base) / 1024.0,
         (double)(peak - base) * 1024.0 / (double)urls);
  uc_seen_free(seen);
  uc_frontier_free(f);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 6 && strcmp(argv[1], "make") == 0)
    return make(argv[2], strtoull(argv[3], NULL, 10), (unsigned)atoi(argv[4]),
                (unsigned)atoi(argv[5]), argc > 6 ? (unsigned)atoi(argv[6]) : 0);
  if (argc == 4 && strcmp(argv[1], "memory") == 0)
    return memory(strtoull(argv[2], NULL, 10), (unsigned)atoi(argv[3]));
  fputs("usage: bench_state make DIR URLS HOSTS PORT [DONE_PCT] | memory URLS HOSTS\n", stderr);
  return 2;
}
