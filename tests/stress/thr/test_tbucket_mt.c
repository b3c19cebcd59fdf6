/*
 * test_tbucket_mt - the threaded engine's shared token buckets, for real:
 * thr_run() (src/threads: the dispatcher, 64 worker threads, crawl_lock,
 * the channel) crawls a real testweb on loopback with --rate 10 --burst 3
 * and --per-host 64, so the per-host bucket, not the cap, decides when a
 * request may start. testweb logs the arrival of every request; on each
 * host, every window [a_i, a_j] of arrivals holds at most B + R*(a_j - a_i)
 * requests, with a tolerance of R * 0.05 s (half a request) for the
 * spread between taking a token and testweb reading the request. The first
 * burst is exactly B requests at once, and the host then gets close to R
 * requests/s: the bucket gives what it promises, no more.
 *
 * Note: the engine takes tokens in its one dispatcher thread, under
 * crawl_lock (uc_crawl_next -> the frontier's buckets), while the workers
 * complete fetches under the same lock; there is no bucket code in
 * src/threads besides that, so this drives the engine itself. It finds
 * testweb beside itself in the build tree (../../testweb/testweb), or at
 * $UVTEST_TESTWEB, and stops it by PID on every exit path.
 */
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "thr.h"
#include "uvcrawl/config.h"

#define HOSTS 2
#define SEEDS_PER_HOST 10 /* queued at once: the first burst binds */
#define RATE 10.0
#define BURST 3
/* < 1/RATE, so a window this short holds the burst alone. Workers start
 * as jobs go out, so under ThreadSanitizer on a loaded machine the burst's
 * last request can come tens of ms after its first; the next token is
 * 100 ms away, so 75 ms keeps both sides clear. */
#define SPREAD_S 0.075
#define PAGES 30
#define MAX_ROWS 4096

static pid_t testweb_pid;
static char dir[] = "/tmp/tbucket-mt-XXXXXX";

static void stop_testweb(void) {
  if (testweb_pid > 0) {
    kill(testweb_pid, SIGTERM);
    waitpid(testweb_pid, NULL, 0);
    testweb_pid = 0;
  }
}

static void testweb_path(char *out, size_t cap) {
  const char *env = getenv("UVTEST_TESTWEB");
  if (env != NULL) {
    snprintf(out, cap, "%s", env);
    return;
  }
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  CHECK(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  *slash = '\0';
  snprintf(out, cap, "%s/../../testweb/testweb", self);
}

/* Start testweb; returns its port once it listens (a bounded wait on the
 * port file it writes by rename, never a fixed sleep). */
static int start_testweb(const char *log) {
  char exe[PATH_MAX + 32], port_file[64];
  testweb_path(exe, sizeof exe);
  CHECK(access(exe, X_OK) == 0, "no testweb at %s", exe);
  snprintf(port_file, sizeof port_file, "%s/port", dir);
  char hosts[16], pages[16];
  snprintf(hosts, sizeof hosts, "%d", HOSTS);
  snprintf(pages, sizeof pages, "%d", PAGES);
  testweb_pid = fork();
  CHECK(testweb_pid >= 0, "fork: %s", strerror(errno));
  if (testweb_pid == 0) {
    freopen("/dev/null", "w", stdout);
    execl(exe, exe, "--listen", "127.0.0.1:0", "--port-file", port_file, "--log", log,
          "--hosts", hosts, "--pages", pages, "--links", "8", "--cross", "30", "--broken", "0",
          "--latency", "5", "--jitter", "30", (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 2000; i++) { /* 20 s */
    FILE *f = fopen(port_file, "r");
    int port = 0;
    if (f != NULL) {
      int ok = fscanf(f, "%d", &port) == 1;
      fclose(f);
      if (ok && port > 0)
        return port;
    }
    CHECK(waitpid(testweb_pid, NULL, WNOHANG) == 0, "testweb exited before listening");
    nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL); /* polling interval */
  }
  CHECK(0, "testweb did not write its port");
  return 0;
}

typedef struct row {
  int host;
  uint64_t arrival_us;
} row;

static int by_host_then_time(const void *a, const void *b) {
  const row *x = a, *y = b;
  if (x->host != y->host)
    return x->host - y->host;
  return x->arrival_us < y->arrival_us ? -1 : x->arrival_us > y->arrival_us;
}

static size_t read_log(const char *log, row *rows) {
  FILE *f = fopen(log, "r");
  CHECK(f != NULL, "open %s: %s", log, strerror(errno));
  char line[4096];
  size_t n = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long long arr, done;
    int host;
    CHECK(sscanf(line, "%llu\t%llu\th%d.test", &arr, &done, &host) == 3, "log line: %s", line);
    CHECK(n < MAX_ROWS, "too many requests");
    rows[n++] = (row){host, arr};
  }
  fclose(f);
  return n;
}

/* One host's arrivals (sorted): the window bound, the first burst, the rate. */
static void check_host(int host, const row *r, size_t n) {
  CHECK(n >= 20, "h%04d: only %zu requests", host, n);
  double worst = -1e9;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i; j < n; j++) {
      double t = (double)(r[j].arrival_us - r[i].arrival_us) / 1e6;
      double excess = (double)(j - i + 1) - (BURST + RATE * t);
      if (excess > worst)
        worst = excess;
    }
  CHECK(worst <= RATE * SPREAD_S, "h%04d: a window holds %.2f requests over B + R*t", host,
        worst);
  size_t first = 0;
  while (first < n && r[first].arrival_us - r[0].arrival_us <= (uint64_t)(SPREAD_S * 1e6))
    first++;
  CHECK(first == BURST, "h%04d: first burst of %zu requests, want %d", host, first, BURST);
  double span = (double)(r[n - 1].arrival_us - r[0].arrival_us) / 1e6;
  double rate = (double)(n - BURST) / span;
  CHECK(rate >= 0.85 * RATE, "h%04d: %.2f requests/s after the burst, want about %.0f", host,
        rate, RATE);
  printf("ok - h%04d: %zu requests, worst window %.2f over B + R*t, first burst %zu, "
         "%.2f requests/s\n", host, n, worst, first, rate);
}

int main(void) {
  CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
  atexit(stop_testweb);
  char log[64];
  snprintf(log, sizeof log, "%s/requests.log", dir);
  int port = start_testweb(log);

  char pin[64], urls[HOSTS * SEEDS_PER_HOST][96];
  const char *seeds[HOSTS * SEEDS_PER_HOST];
  snprintf(pin, sizeof pin, "*.test:%d:127.0.0.1", port);
  const char *resolve[] = {pin};
  for (int h = 0; h < HOSTS; h++)
    for (int p = 0; p < SEEDS_PER_HOST; p++) {
      char *u = urls[h * SEEDS_PER_HOST + p];
      if (p == 0)
        snprintf(u, sizeof urls[0], "http://h%04d.test:%d/", h + 1, port);
      else
        snprintf(u, sizeof urls[0], "http://h%04d.test:%d/d%d/p%d.html", h + 1, port, p % 10, p);
      seeds[h * SEEDS_PER_HOST + p] = u;
    }
  uc_config cfg;
  uc_config_defaults(&cfg);
  cfg.engine = UC_ENGINE_THREADS;
  cfg.concurrency = 64;
  cfg.rate = RATE;
  cfg.burst = BURST;
  cfg.per_host = 64;
  cfg.robots = false;
  cfg.scope = UC_SCOPE_ANY;
  cfg.quiet = true;
  cfg.resolve = resolve;
  cfg.n_resolve = 1;
  cfg.seeds = seeds;
  cfg.n_seeds = HOSTS * SEEDS_PER_HOST;
  cfg.seen_key[0] = 0x1234;
  cfg.seen_key[1] = 0x5678;

  CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK, "curl_global_init");
  FILE *records = tmpfile();
  CHECK(records != NULL, "tmpfile: %s", strerror(errno));
  uc_sinks *sinks = NULL;
  CHECK(uc_sinks_new(&sinks) == 0 && uc_sink_jsonl_add(sinks, records, "tmpfile") == 0,
        "sinks");
  uc_run_env env = {.sinks = sinks};
  uc_stats stats;
  memset(&stats, 0, sizeof stats);
  int rc = thr_run(&cfg, &env, &stats);
  CHECK(rc == 0, "thr_run returned %d", rc);
  CHECK(stats.pages == HOSTS * PAGES, "%llu pages, want %d", (unsigned long long)stats.pages,
        HOSTS * PAGES);
  curl_global_cleanup();
  uc_sinks_free(sinks);
  fclose(records);
  stop_testweb(); /* testweb flushes its log on SIGTERM */

  static row rows[MAX_ROWS];
  size_t n = read_log(log, rows);
  CHECK(n == stats.pages, "testweb logged %zu requests for %llu pages", n,
        (unsigned long long)stats.pages);
  qsort(rows, n, sizeof rows[0], by_host_then_time);
  int hosts = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && rows[j].host == rows[i].host)
      j++;
    check_host(rows[i].host, rows + i, j - i);
    hosts++;
    i = j;
  }
  CHECK(hosts == HOSTS, "%d hosts in testweb's log, want %d", hosts, HOSTS);
  unlink(log);
  char port_file[64];
  snprintf(port_file, sizeof port_file, "%s/port", dir);
  unlink(port_file);
  rmdir(dir);
  printf("ok - thr_run, 64 workers, --rate %.0f --burst %d: every window within B + R*t\n", RATE,
         BURST);
  return 0;
}
