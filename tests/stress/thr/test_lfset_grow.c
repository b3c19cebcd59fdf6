/*
 * test_lfset_grow - the lock-free visited set (--seen lockfree) grows while
 * many threads insert into it, and never refuses a big crawl.
 *
 * 1. Growth under contention: each round makes a set whose first table has
 *    16 slots and has THREADS threads insert KEYS distinct fingerprints
 *    into it, so that it grows many times during the inserts (to about
 *    512 slots in the small rounds, 65,536 in the big last one). The threads
 *    form GROUPS groups; key k belongs to group k % GROUPS and every thread
 *    of that group inserts it, the even ones in ascending order from a
 *    common start (so that they collide on the same key at the same time),
 *    the odd ones in an order of their own. A sixteenth of the keys share
 *    their low 8 bits, so that they crowd one probe chain. Checked: no
 *    insert fails, each key has exactly one winner (an insert that
 *    returned 1), so the winners number the keys, the set counts exactly
 *    the keys, and every key inserted again afterwards is found.
 * 2. Capacity: 4.2 million distinct fingerprints (more than the 3.77
 *    million a fixed 2^22-slot table held) go into a set made as the
 *    engine makes it; every insert returns 1, the count is exact, and the
 *    keys are found afterwards.
 *
 * Only the thr_visited API is used (the engine's way in). Part 2 is
 * skipped (exit 77) under ThreadSanitizer: it runs on one thread.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvcrawl/error.h"
#include "visited.h"
#include "check.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#endif

#define THREADS 32
#define GROUPS 4       /* THREADS / GROUPS threads insert each key */
#define SMALL_KEYS 384 /* a small round: 16 .. about 512 slots */
#define SMALL_ROUNDS 1000
#define BIG_KEYS 50000         /* the last round: 16 .. about 65536 slots */
#define FIRST_LOG2 4           /* 16 slots */
#define CAPACITY_KEYS 4200000u /* part 2 */

static struct {
  pthread_barrier_t start, end;
  bool quit;
  thr_visited *set;
  size_t nkeys;
  uint64_t keys[BIG_KEYS];
  _Atomic int wins[BIG_KEYS];
  size_t common_start; /* where the even threads of a group begin */
  _Atomic int errors;
  _Atomic int first_error;
} R;

/* splitmix64's finalizer: a bijection of 64-bit words. */
static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t next_rand(uint64_t *s) {
  return mix(*s += 0x9e3779b97f4a7c15ull);
}

static void *inserter(void *arg) {
  int t = (int)(intptr_t)arg, group = t % GROUPS;
  uint64_t rng = (uint64_t)t * 7919 + 1;
  size_t *order = malloc((BIG_KEYS / GROUPS + 1) * sizeof *order);
  CHECK(order != NULL, "malloc");
  for (;;) {
    pthread_barrier_wait(&R.start);
    if (R.quit)
      break;
    size_t n = 0;
    for (size_t k = (size_t)group; k < R.nkeys; k += GROUPS)
      order[n++] = k;
    if (t / GROUPS % 2 == 0) { /* ascending from the common start */
      size_t s = R.common_start % n;
      for (size_t i = 0; i < n; i++) {
        size_t k = order[(s + i) % n];
        int rc = thr_visited_insert_hash(R.set, R.keys[k]);
        if (rc == 1)
          atomic_fetch_add(&R.wins[k], 1);
        else if (rc != 0 && atomic_fetch_add(&R.errors, 1) == 0)
          atomic_store(&R.first_error, rc);
      }
    } else { /* an order of its own (Fisher-Yates) */
      for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(next_rand(&rng) % (i + 1)), x = order[i];
        order[i] = order[j];
        order[j] = x;
      }
      for (size_t i = 0; i < n; i++) {
        size_t k = order[i];
        int rc = thr_visited_insert_hash(R.set, R.keys[k]);
        if (rc == 1)
          atomic_fetch_add(&R.wins[k], 1);
        else if (rc != 0 && atomic_fetch_add(&R.errors, 1) == 0)
          atomic_store(&R.first_error, rc);
      }
    }
    pthread_barrier_wait(&R.end);
  }
  free(order);
  return NULL;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Distinct fingerprints, none 0 or 1 (0 is stored as 1); every 16th
 * shares its low 8 bits with the others of its kind. */
static void make_keys(uint64_t *keys, size_t n, uint64_t seed) {
  uint64_t low = mix(seed) & 0xff;
  for (size_t k = 0; k < n; k++) {
    keys[k] = mix(seed * 1000003 + k); /* distinct: mix is a bijection */
    if (k % 16 == 0)
      keys[k] = (keys[k] & ~(uint64_t)0xff) | low;
  }
  uint64_t *sorted = malloc(n * sizeof *sorted);
  CHECK(sorted != NULL, "malloc");
  memcpy(sorted, keys, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, cmp_u64);
  CHECK(sorted[0] > 1, "a key is 0 or 1 (seed %llu)", (unsigned long long)seed);
  for (size_t i = 1; i < n; i++)
    CHECK(sorted[i] != sorted[i - 1], "duplicate key (seed %llu)", (unsigned long long)seed);
  free(sorted);
}

static void round_of(int round, size_t nkeys, uint64_t *rng) {
  uint64_t key[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
  CHECK(thr_visited_new(&R.set, UC_SEEN_LOCKFREE, UC_SYNC_PTHREAD, key, FIRST_LOG2) == 0, "visited_new");
  R.nkeys = nkeys;
  make_keys(R.keys, nkeys, next_rand(rng));
  for (size_t k = 0; k < nkeys; k++)
    atomic_store(&R.wins[k], 0);
  R.common_start = (size_t)next_rand(rng);
  atomic_store(&R.errors, 0);
  atomic_store(&R.first_error, 0);
  pthread_barrier_wait(&R.start);
  pthread_barrier_wait(&R.end);
  CHECK(atomic_load(&R.errors) == 0, "round %d: %d inserts failed, the first with %s", round,
        atomic_load(&R.errors), uc_errname(atomic_load(&R.first_error)));
  size_t winners = 0;
  for (size_t k = 0; k < nkeys; k++) {
    int w = atomic_load(&R.wins[k]);
    CHECK(w == 1, "round %d key %zu: %d winners", round, k, w);
    winners += (size_t)w;
  }
  CHECK(winners == nkeys, "round %d: %zu winners for %zu keys", round, winners, nkeys);
  CHECK(thr_visited_count(R.set) == nkeys, "round %d: count %zu, want %zu", round,
        thr_visited_count(R.set), nkeys);
  for (size_t k = 0; k < nkeys; k++)
    CHECK(thr_visited_insert_hash(R.set, R.keys[k]) == 0, "round %d key %zu: not found after",
          round, k);
  thr_visited_free(R.set);
  R.set = NULL;
}

static void growth(void) {
  pthread_t tids[THREADS];
  pthread_barrier_init(&R.start, NULL, THREADS + 1);
  pthread_barrier_init(&R.end, NULL, THREADS + 1);
  for (int i = 0; i < THREADS; i++)
    CHECK(pthread_create(&tids[i], NULL, inserter, (void *)(intptr_t)i) == 0, "create");
  uint64_t rng = 42;
  for (int round = 0; round < SMALL_ROUNDS; round++)
    round_of(round, SMALL_KEYS, &rng);
  round_of(SMALL_ROUNDS, BIG_KEYS, &rng);
  R.quit = true;
  pthread_barrier_wait(&R.start);
  for (int i = 0; i < THREADS; i++)
    pthread_join(tids[i], NULL);
  pthread_barrier_destroy(&R.start);
  pthread_barrier_destroy(&R.end);
  printf("ok - growth: %d rounds of %d keys and one of %d, from 16 slots, %d threads (%d a key):"
         " one winner a key, exact counts\n",
         SMALL_ROUNDS, SMALL_KEYS, BIG_KEYS, THREADS, THREADS / GROUPS);
}

#ifndef UNDER_TSAN
static void capacity(void) {
  uint64_t key[2] = {1, 2};
  thr_visited *v;
  CHECK(thr_visited_new(&v, UC_SEEN_LOCKFREE, UC_SYNC_PTHREAD, key, 0) == 0, "visited_new (engine default)");
  for (uint32_t k = 0; k < CAPACITY_KEYS; k++) {
    uint64_t fp = mix(0x5eed0000ull + k);
    int rc = thr_visited_insert_hash(v, fp);
    CHECK(rc == 1, "insert %u of %u: %s", k, CAPACITY_KEYS, rc < 0 ? uc_errname(rc) : "present");
  }
  CHECK(thr_visited_count(v) == CAPACITY_KEYS, "count %zu, want %u", thr_visited_count(v),
        CAPACITY_KEYS);
  for (uint32_t k = 0; k < CAPACITY_KEYS; k += 97)
    CHECK(thr_visited_insert_hash(v, mix(0x5eed0000ull + k)) == 0, "key %u not found after", k);
  thr_visited_free(v);
  printf("ok - capacity: %u fingerprints into the engine's lock-free set, no UC_EFULL\n",
         CAPACITY_KEYS);
}
#endif

/* Usage: test_lfset_grow growth|capacity */
int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "growth") == 0) {
    growth();
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "capacity") == 0) {
#ifdef UNDER_TSAN
    /* One thread: ThreadSanitizer has no race to look for, and its sync
     * object for each slot a CAS released makes this take 30 s. */
    puts("skip - capacity is single-threaded: not run under ThreadSanitizer");
    return 77;
#else
    capacity();
    return 0;
#endif
  }
  fprintf(stderr, "usage: %s growth|capacity\n", argv[0]);
  return 2;
}
