/* bench_seen.c - memory and speed of the visited set at 10 million URLs.
 *
 * Usage: bench_seen [N]   (default 10000000)
 * Inserts N distinct URL-like strings "http://h%05d.test/d%d/p%d.html" into
 * a set created without a sizing hint (so it grows as a crawl's would), then
 * looks each one up, then looks up N absent URLs. Reports bytes per URL from
 * uc_seen_memory() and from the process's RSS growth (/proc/self/statm), and
 * ns per insert and per lookup. The cost of formatting the URLs is measured
 * separately and subtracted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "uvcrawl/error.h"
#include "uvcrawl/seen.h"

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Resident set size in bytes, from /proc/self/statm (second field, pages). */
static long rss_bytes(void) {
  FILE *fp = fopen("/proc/self/statm", "r");
  if (fp == NULL)
    return -1;
  long size = 0, resident = -1;
  if (fscanf(fp, "%ld %ld", &size, &resident) != 2)
    resident = -1;
  fclose(fp);
  return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* "http://h%05d.test/d%d/p%d.html" for URL number i (cheap, no printf, so
 * the formatting does not dominate the timing). `salt` makes a disjoint set. */
static size_t make_url(char *out, uint64_t i, unsigned salt) {
  char *p = out;
  memcpy(p, "http://h", 8);
  p += 8;
  unsigned host = (unsigned)(i % 100000);
  for (int d = 4; d >= 0; d--) {
    p[d] = (char)('0' + host % 10);
    host /= 10;
  }
  p += 5;
  memcpy(p, ".test/d", 7);
  p += 7;
  char digits[24];
  int n = 0;
  uint64_t dir = (i / 100000) % 100 + salt * 1000;
  do {
    digits[n++] = (char)('0' + dir % 10);
    dir /= 10;
  } while (dir);
  while (n)
    *p++ = digits[--n];
  memcpy(p, "/p", 2);
  p += 2;
  uint64_t page = i;
  do {
    digits[n++] = (char)('0' + page % 10);
    page /= 10;
  } while (page);
  while (n)
    *p++ = digits[--n];
  memcpy(p, ".html", 6);
  p += 5;
  return (size_t)(p - out);
}

int main(int argc, char **argv) {
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
  if (n == 0) {
    fprintf(stderr, "usage: bench_seen [N>0]\n");
    return 2;
  }
  char url[128];

  /* Baseline: formatting alone. */
  volatile size_t sink = 0;
  double t0 = now_ns();
  for (uint64_t i = 0; i < n; i++)
    sink += make_url(url, i, 0) + (unsigned char)url[20];
  double fmt_ns = (now_ns() - t0) / (double)n;

  uc_seen_opts o = {.expected = 0, .key = {0x0123456789abcdefULL, 0xfedcba9876543210ULL}};
  long rss0 = rss_bytes();
  uc_seen *s;
  int rc = uc_seen_new(&s, &o);
  if (rc != 0) {
    fprintf(stderr, "uc_seen_new: %s\n", uc_strerror(rc));
    return 1;
  }

  t0 = now_ns();
  for (uint64_t i = 0; i < n; i++) {
    size_t len = make_url(url, i, 0);
    rc = uc_seen_insert(s, url, len);
    if (rc != 1) {
      fprintf(stderr, "insert %llu (%s): %d\n", (unsigned long long)i, url, rc);
      return 1;
    }
  }
  double ins_ns = (now_ns() - t0) / (double)n;
  long rss1 = rss_bytes();

  t0 = now_ns();
  uint64_t hits = 0;
  for (uint64_t i = 0; i < n; i++) {
    size_t len = make_url(url, i, 0);
    hits += uc_seen_contains(s, url, len);
  }
  double hit_ns = (now_ns() - t0) / (double)n;

  t0 = now_ns();
  uint64_t false_hits = 0;
  for (uint64_t i = 0; i < n; i++) {
    size_t len = make_url(url, i, 1);
    false_hits += uc_seen_contains(s, url, len);
  }
  double miss_ns = (now_ns() - t0) / (double)n;

  size_t mem = uc_seen_memory(s);
  printf("bench_seen: %llu distinct URLs, count %zu, hits %llu, false hits %llu\n",
         (unsigned long long)n, uc_seen_count(s), (unsigned long long)hits,
         (unsigned long long)false_hits);
  printf("  memory (uc_seen_memory): %zu bytes = %.2f bytes/URL (load %.3f)\n", mem,
         (double)mem / (double)n, (double)uc_seen_count(s) / (double)(mem / 8));
  if (rss0 >= 0 && rss1 >= 0)
    printf("  memory (RSS growth):     %ld bytes = %.2f bytes/URL\n", rss1 - rss0,
           (double)(rss1 - rss0) / (double)n);
  printf("  url formatting alone:    %.1f ns/URL (subtracted below)\n", fmt_ns);
  printf("  insert:                  %.1f ns/URL (%.1f with formatting)\n", ins_ns - fmt_ns,
         ins_ns);
  printf("  lookup, present:         %.1f ns/URL (%.1f with formatting)\n", hit_ns - fmt_ns,
         hit_ns);
  printf("  lookup, absent:          %.1f ns/URL (%.1f with formatting)\n", miss_ns - fmt_ns,
         miss_ns);
  size_t count = uc_seen_count(s);
  uc_seen_free(s);
  return hits == n && count == n ? 0 : 1;
}
