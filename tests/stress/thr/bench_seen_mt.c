/*
 * bench_seen_mt - inserts per second into the threaded engine's visited
 * sets, striped mutexes (--seen mutex) against compare-and-swap (--seen
 * lockfree), at 2, 4, 8, 16, 32 and 64 threads. Not a test.
 *
 * Workload, like a crawl's dedup: OPS inserts in total, split evenly over
 * the threads; each draws its fingerprints from a shared space of KEYSPACE
 * keys, so most inserts after the first few million are duplicates that
 * several threads race on. Each (kind, threads) pair runs on a fresh set,
 * best of REPEATS. Usage: bench_seen_mt [ops]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "uvcrawl/error.h"
#include "visited.h"

#define KEYSPACE (2u << 20) /* 2 Mi distinct fingerprints */
#define LF_LOG2 23          /* 8 Mi slots: the key space at 25% load */
#define REPEATS 3

typedef struct job {
  thr_visited *set;
  pthread_barrier_t *go;
  uint64_t seed;
  size_t ops;
  size_t fresh; /* inserts that returned 1 */
} job;

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* The k-th fingerprint of the key space (never 0). */
static uint64_t key_fp(uint64_t k) {
  uint64_t s = k;
  return splitmix(&s) | 1;
}

static void *run(void *arg) {
  job *j = arg;
  uint64_t rng = j->seed;
  pthread_barrier_wait(j->go);
  for (size_t i = 0; i < j->ops; i++) {
    int rc = thr_visited_insert_hash(j->set, key_fp(splitmix(&rng) % KEYSPACE));
    if (rc < 0) {
      fprintf(stderr, "insert: %s\n", uc_strerror(rc));
      exit(1);
    }
    j->fresh += (size_t)rc;
  }
  return NULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One timed run; returns ops/s and checks that every key went in once. */
static double measure(int kind, unsigned threads, size_t ops) {
  uint64_t key[2] = {0x1234, 0x5678};
  thr_visited *set;
  if (thr_visited_new(&set, kind, UC_SYNC_PTHREAD, key, LF_LOG2) != 0) {
    fputs("cannot create the set\n", stderr);
    exit(1);
  }
  pthread_barrier_t go;
  pthread_barrier_init(&go, NULL, threads + 1);
  pthread_t tids[64];
  job jobs[64];
  for (unsigned t = 0; t < threads; t++) {
    jobs[t] = (job){.set = set, .go = &go, .seed = 1000 + t, .ops = ops / threads};
    pthread_create(&tids[t], NULL, run, &jobs[t]);
  }
  pthread_barrier_wait(&go);
  double t0 = now_s();
  size_t fresh = 0;
  for (unsigned t = 0; t < threads; t++) {
    pthread_join(tids[t], NULL);
    fresh += jobs[t].fresh;
  }
  double secs = now_s() - t0;
  if (fresh != thr_visited_count(set)) {
    fprintf(stderr, "bug: %zu winners for %zu keys\n", fresh, thr_visited_count(set));
    exit(1);
  }
  pthread_barrier_destroy(&go);
  thr_visited_free(set);
  return (double)(ops / threads * threads) / secs;
}

int main(int argc, char **argv) {
  size_t ops = argc > 1 ? strtoull(argv[1], NULL, 10) : 8u << 20;
  static const unsigned counts[] = {2, 4, 8, 16, 32, 64};
  printf("%zu inserts over a key space of %u fingerprints, best of %d; %ld CPUs online\n", ops,
         KEYSPACE, REPEATS, sysconf(_SC_NPROCESSORS_ONLN));
  printf("%8s %16s %16s %8s\n", "threads", "mutex Mops/s", "lockfree Mops/s", "ratio");
  for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
    double best[2] = {0, 0};
    for (int r = 0; r < REPEATS; r++)
      for (int kind = UC_SEEN_MUTEX; kind <= UC_SEEN_LOCKFREE; kind++) {
        double v = measure(kind, counts[i], ops);
        if (v > best[kind])
          best[kind] = v;
      }
    printf("%8u %16.2f %16.2f %8.2f\n", counts[i], best[0] / 1e6, best[1] / 1e6, best[1] / best[0]);
  }
  return 0;
}
