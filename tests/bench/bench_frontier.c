/* bench_frontier.c - cost of picking the next URL as the number of hosts grows.
 *
 * Usage: bench_frontier [URLS_PER_HOST]   (default 8)
 * For 1k, 10k and 100k hosts (rate 2/s, burst 2, per_host 2), queues a few
 * URLs on every host and drains the frontier in simulated time: pop at
 * `now`, finish the transfer at once (done), and when pop says UC_EAGAIN
 * jump `now` to the wake time it gave. Every host empties its burst and then
 * waits in the heap for tokens; one done() in 8 also defers its host by a
 * random 0-2 s (as a Retry-After would), which spreads the heap keys.
 * Reports ns per successful pop (the pick), timed around uc_frontier_pop
 * alone, and ns per whole pop+done cycle.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "uvcrawl/error.h"
#include "uvcrawl/frontier.h"

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545f4914f6cdd1dULL;
}

static int run(unsigned hosts, unsigned per_host_urls) {
  uc_frontier *f;
  uc_frontier_opts o = {.rate = 2, .burst = 2, .per_host = 2};
  int rc = uc_frontier_new(&f, &o, 0);
  if (rc != 0)
    return rc;
  char key[32], url[64];
  for (unsigned i = 0; i < hosts; i++) {
    snprintf(key, sizeof(key), "h%06u.test", i);
    uc_fhost *h = uc_frontier_host(f, key, true, NULL);
    if (h == NULL)
      return UC_ENOMEM;
    for (unsigned j = 0; j < per_host_urls; j++) {
      snprintf(url, sizeof(url), "http://%s/p%u.html", key, j);
      rc = uc_frontier_push(f, h, 0, url, NULL, 1, 0, 0, false, 0);
      if (rc != 0)
        return rc;
    }
  }

  uint64_t seed = 0x5eed ^ hosts, now = 0, pops = 0, waits = 0, pop_ns = 0, clock_ns = 0;
  uint64_t start = now_ns();
  for (;;) {
    uc_frontier_item item;
    uint64_t wake = 0;
    uint64_t t0 = now_ns();
    rc = uc_frontier_pop(f, now, &item, &wake);
    uint64_t t1 = now_ns();
    pop_ns += t1 - t0;
    if (rc == UC_EAGAIN) {
      waits++;
      now = wake;
      continue;
    }
    if (rc != 0)
      break;
    pops++;
    free(item.url);
    free(item.parent);
    uc_frontier_done(f, item.host, now);
    if (rng_next(&seed) % 8 == 0)
      uc_frontier_defer(f, item.host, now + rng_next(&seed) % 2000, now);
  }
  uint64_t total = now_ns() - start;
  /* The cost of reading the clock twice, to subtract from pop_ns. */
  uint64_t c0 = now_ns();
  for (int i = 0; i < 1000000; i++)
    (void)now_ns();
  clock_ns = (now_ns() - c0) / 1000000;
  uint64_t calls = pops + waits + 1;
  double pick = (double)(pop_ns - clock_ns * calls) / (double)pops;
  printf("%7u hosts: %9llu pops, %7llu waits, sim %6.1f s: %6.1f ns/pop, %6.1f ns/pop+done cycle\n",
         hosts, (unsigned long long)pops, (unsigned long long)waits, (double)now / 1000.0, pick,
         (double)total / (double)pops);
  int ok = rc == UC_EEMPTY && pops == (uint64_t)hosts * per_host_urls &&
           uc_frontier_queued(f) == 0 && uc_frontier_check(f) == 0;
  uc_frontier_free(f);
  return ok ? 0 : UC_EINVAL;
}

int main(int argc, char **argv) {
  unsigned per_host_urls = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 8;
  if (per_host_urls == 0) {
    fprintf(stderr, "usage: bench_frontier [URLS_PER_HOST>0]\n");
    return 2;
  }
  printf("bench_frontier: rate 2/s burst 2 per_host 2, %u URLs per host\n", per_host_urls);
  static const unsigned sizes[] = {1000, 10000, 100000};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    int rc = run(sizes[i], per_host_urls);
    if (rc != 0) {
      fprintf(stderr, "bench_frontier: %u hosts: %s\n", sizes[i], uc_strerror(rc));
      return 1;
    }
  }
  return 0;
}
