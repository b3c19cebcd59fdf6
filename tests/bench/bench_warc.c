/*
 * bench_warc.c - CPU cost of archiving one exchange with the WARC sink
 * (SHA-1 of block and payload, one gzip member a record, one write(2)) on
 * a ~10 KB HTML page like testweb's (the CPU-bound workload's page size),
 * to set against the parse that the loop thread does for the same page
 * (bench_extract): in all (the sink's writer thread included) and on the
 * calling thread alone (what the event loop pays: a copy into the queue).
 * Writes to a temporary directory, removed at the end.
 *
 *   bench_warc [pages] [page bytes]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "uvcrawl/sink.h"

static double cpu_now(clockid_t which) {
  struct timespec ts;
  clock_gettime(which, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  int pages = argc > 1 ? atoi(argv[1]) : 5000;
  size_t size = argc > 2 ? (size_t)atol(argv[2]) : 10000;
  char dir[] = "/tmp/bench_warc-XXXXXX";
  if (mkdtemp(dir) == NULL)
    return perror("mkdtemp"), 1;
  char prefix[64];
  snprintf(prefix, sizeof prefix, "%s/crawl", dir);
  uc_sinks *s = NULL;
  char err[256];
  uc_warc_opts o = {.prefix = prefix, .max_size = 1ull << 30, .dedup = true,
                    .software = "bench_warc"};
  if (uc_sinks_new(&s) != 0 || uc_sink_warc_add(s, &o, err, sizeof err) != 0)
    return fprintf(stderr, "bench_warc: %s\n", err), 1;
  /* Text like testweb's pages: words drawn at random, and links; each
   * page differs (no revisits). */
  static const char *const words[] = {
      "lorem ", "ipsum ", "dolor ", "sit ", "amet ", "crawler ", "event ", "loop ",
      "thread ", "archive ", "<a href=\"/d3/p13.html\">page 13</a>\n", "<p>", "</p>\n",
      "the ", "of ", "and ", "h0001.test ", "2026 ", "record ", "payload "};
  char *body = malloc(size + 64);
  uint64_t x = 42;
  for (size_t i = 0; i < size;) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const char *w = words[(x >> 33) % (sizeof words / sizeof words[0])];
    for (; *w != '\0' && i < size; w++)
      body[i++] = *w;
  }
  const char *req = "GET /d3/p13.html HTTP/1.1\r\nHost: h0001.test:8080\r\nUser-Agent: "
                    "uvcrawl/0.1.0\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n\r\n";
  char resp[256];
  snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nServer: testweb\r\nContent-Type: text/html; "
           "charset=utf-8\r\nContent-Length: %zu\r\nConnection: keep-alive\r\n\r\n", size);
  double t0 = cpu_now(CLOCK_PROCESS_CPUTIME_ID), t0_caller = cpu_now(CLOCK_THREAD_CPUTIME_ID);
  for (int i = 0; i < pages; i++) {
    int n = snprintf(body, 32, "<!-- page %09d -->", i); /* a payload of its own */
    body[n] = ' ';
    uc_exchange ex = {.target_uri = "http://h0001.test:8080/d3/p13.html", .ip = "127.0.0.1",
                      .wall_ms = 1796614048999, .request = req, .request_len = strlen(req),
                      .response = resp, .response_len = strlen(resp), .payload = body,
                      .payload_len = size, .status = 200, .content_type = "text/html"};
    uc_sink_entry e = {.exchange = &ex};
    if (uc_sinks_write(s, &e) != 0)
      return fprintf(stderr, "bench_warc: write failed\n"), 1;
  }
  double caller = cpu_now(CLOCK_THREAD_CPUTIME_ID) - t0_caller;
  if (uc_sinks_flush(s, NULL) != 0)
    return fprintf(stderr, "bench_warc: flush failed\n"), 1;
  double cpu = cpu_now(CLOCK_PROCESS_CPUTIME_ID) - t0;
  uc_sinks_free(s);
  char path[96];
  snprintf(path, sizeof path, "%s-00000.warc.gz", prefix);
  FILE *f = fopen(path, "rb");
  long bytes = 0;
  if (f != NULL && fseek(f, 0, SEEK_END) == 0)
    bytes = ftell(f);
  if (f != NULL)
    fclose(f);
  unlink(path);
  rmdir(dir);
  printf("%d exchanges of %zu-byte pages: %.1f us CPU each in all (%.0f/s on one core), "
         "%.1f us on the calling thread; %.0f bytes written each\n", pages, size,
         cpu * 1e6 / pages, pages / cpu, caller * 1e6 / pages, (double)bytes / pages);
  free(body);
  return 0;
}
