/*
 * test_seen_mt - 64 threads insert the same keys into one visited set,
 * 1,000 rounds per kind: exactly one insert of each key returns 1.
 *
 * Each round draws KEYS fingerprints; half share their low bits, so in the
 * lock-free set they fight over one probe chain, and in the mutex set they
 * spread over the stripes by their top bits. The lock-free set starts at
 * 16 slots, so it grows two or three times in every round while the
 * threads insert. Every thread inserts every key, each in its own order. Threads
 * live across rounds (barriers). argv[1] "futex" runs the stripes on the
 * hand-built locks (--sync futex).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lfset.h"
#include "uvcrawl/error.h"
#include "visited.h"
#include "check.h"

#define THREADS 64
#define KEYS 64
#define ROUNDS 1000
#define LF_LOG2 4 /* 16 slots: KEYS need 16 + 32 + 64 + 128, with long shared chains */


static struct {
  pthread_barrier_t start, end;
  bool quit;
  int kind;          /* UC_SEEN_MUTEX or UC_SEEN_LOCKFREE */
  uc_sync_kind sync; /* the mutex kind's stripe locks: argv[1] pthread (default) or futex */
  thr_visited *mset;
  thr_lfset *lf;
  uint64_t keys[KEYS];
  _Atomic int wins[KEYS];
  _Atomic int errors;
} R;

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void *inserter(void *arg) {
  uint64_t rng = (uint64_t)(intptr_t)arg * 7919 + 1;
  int order[KEYS];
  for (;;) {
    pthread_barrier_wait(&R.start);
    if (R.quit)
      return NULL;
    for (int i = 0; i < KEYS; i++)
      order[i] = i;
    for (int i = KEYS - 1; i > 0; i--) { /* Fisher-Yates: own order */
      int j = (int)(splitmix(&rng) % (uint64_t)(i + 1)), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    for (int i = 0; i < KEYS; i++) {
      int k = order[i];
      int rc = R.kind == UC_SEEN_LOCKFREE ? thr_lfset_insert(R.lf, R.keys[k])
                                           : thr_visited_insert_hash(R.mset, R.keys[k]);
      if (rc == 1)
        atomic_fetch_add(&R.wins[k], 1);
      else if (rc != 0)
        atomic_fetch_add(&R.errors, 1);
    }
    pthread_barrier_wait(&R.end);
  }
}

static void run_kind(int kind, const char *name) {
  uint64_t rng = 42 + (uint64_t)kind;
  uint64_t key[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
  for (int round = 0; round < ROUNDS; round++) {
    R.kind = kind;
    if (kind == UC_SEEN_LOCKFREE)
      CHECK(thr_lfset_new(&R.lf, LF_LOG2, 0) == 0, "lfset_new");
    else
      CHECK(thr_visited_new(&R.mset, UC_SEEN_MUTEX, R.sync, key, 0) == 0, "visited_new");
    uint64_t low = splitmix(&rng);
    for (int k = 0; k < KEYS; k++) {
      uint64_t fp;
      bool dup;
      do { /* distinct keys, none 0 or 1 (0 is stored as 1) */
        fp = splitmix(&rng);
        if (k % 2 == 0)
          fp = (fp & ~(uint64_t)0xff) | (low & 0xff); /* one home slot */
        dup = fp <= 1;
        for (int j = 0; j < k && !dup; j++)
          dup = R.keys[j] == fp;
      } while (dup);
      R.keys[k] = fp;
      atomic_store(&R.wins[k], 0);
    }
    atomic_store(&R.errors, 0);
    pthread_barrier_wait(&R.start);
    pthread_barrier_wait(&R.end);
    CHECK(atomic_load(&R.errors) == 0, "%s round %d: insert errors", name, round);
    for (int k = 0; k < KEYS; k++)
      CHECK(atomic_load(&R.wins[k]) == 1, "%s round %d key %d: %d winners", name, round, k,
            atomic_load(&R.wins[k]));
    if (kind == UC_SEEN_LOCKFREE) {
      CHECK(thr_lfset_count(R.lf) == KEYS, "%s round %d: count %zu", name, round,
            thr_lfset_count(R.lf));
      /* 16 and 32 slots take 36 keys at most (3/4 of each): it grew. */
      CHECK(thr_lfset_tables(R.lf) >= 3, "%s round %d: only %u tables", name, round,
            thr_lfset_tables(R.lf));
      for (int k = 0; k < KEYS; k++)
        CHECK(thr_lfset_contains(R.lf, R.keys[k]), "%s round %d: key %d lost", name, round, k);
      thr_lfset_free(R.lf);
      R.lf = NULL;
    } else {
      CHECK(thr_visited_count(R.mset) == KEYS, "%s round %d: count %zu", name, round,
            thr_visited_count(R.mset));
      thr_visited_free(R.mset);
      R.mset = NULL;
    }
  }
  printf("ok - %s set: %d rounds, %d threads x %d shared keys, exactly one winner each\n", name,
         ROUNDS, THREADS, KEYS);
}

/* The lock-free set grows to its bound and then refuses new keys but still
 * finds old ones; the URL path of the mutex set agrees with its fingerprint
 * path. */
static void edges(void) {
  thr_lfset *s;
  CHECK(thr_lfset_new(&s, 3, 0) == UC_EINVAL, "log2 too small");
  CHECK(thr_lfset_new(&s, 40, 0) == UC_EINVAL, "log2 too large");
  CHECK(thr_lfset_new(&s, 5, 4) == UC_EINVAL, "bound below the first table");
  CHECK(thr_lfset_new(&s, 4, 5) == 0, "new 16 slots, bound 32");
  int inserted = 0, rc;
  for (uint64_t fp = 2; (rc = thr_lfset_insert(s, fp * 0x9e3779b97f4a7c15ull)) == 1; fp++)
    inserted++;
  /* Half of 16 slots, then half of 32; the 32-slot table is the last. */
  CHECK(rc == UC_EFULL && inserted == 24, "full at 8 + 16 keys (%d, rc %d)", inserted, rc);
  CHECK(thr_lfset_tables(s) == 2, "two tables (%u)", thr_lfset_tables(s));
  CHECK(thr_lfset_insert(s, 1000 * 0x9e3779b97f4a7c15ull) == UC_EFULL, "still full");
  CHECK(thr_lfset_count(s) == 24, "count 24 (%zu)", thr_lfset_count(s));
  for (uint64_t fp = 2; fp < 2 + 24; fp++) {
    CHECK(thr_lfset_insert(s, fp * 0x9e3779b97f4a7c15ull) == 0, "present key %d found when full",
          (int)fp);
    CHECK(thr_lfset_contains(s, fp * 0x9e3779b97f4a7c15ull), "contains key %d", (int)fp);
  }
  CHECK(!thr_lfset_contains(s, 1000 * 0x9e3779b97f4a7c15ull), "refused key absent");
  CHECK(thr_lfset_insert(s, 0) == UC_EFULL && !thr_lfset_contains(s, 1), "0 is 1, absent");
  thr_lfset_free(s);
  CHECK(thr_lfset_new(&s, 4, 0) == 0, "new 16 slots, default bound");
  CHECK(thr_lfset_insert(s, 0) == 1 && thr_lfset_insert(s, 1) == 0, "0 is stored as 1");
  CHECK(thr_lfset_contains(s, 0) && thr_lfset_contains(s, 1), "0 and 1 found");
  thr_lfset_free(s);

  uint64_t key[2] = {1, 2};
  thr_visited *v;
  CHECK(thr_visited_new(&v, 7, UC_SYNC_PTHREAD, key, 0) == UC_EINVAL, "unknown kind");
  for (int kind = UC_SEEN_MUTEX; kind <= UC_SEEN_LOCKFREE; kind++) {
    CHECK(thr_visited_new(&v, kind, R.sync, key, 10) == 0, "new");
    const char *u = "http://h0001.test/a";
    CHECK(thr_visited_insert(v, u, strlen(u)) == 1, "new URL");
    CHECK(thr_visited_insert(v, u, strlen(u)) == 0, "same URL");
    CHECK(thr_visited_insert_hash(v, thr_visited_hash(v, u, strlen(u))) == 0, "same fp");
    thr_visited_free(v);
  }
  printf("ok - edges: lock-free set full at its bound, URL and fingerprint paths agree\n");
}

int main(int argc, char **argv) {
  pthread_t tids[THREADS];
  R.sync = argc > 1 && strcmp(argv[1], "futex") == 0 ? UC_SYNC_FUTEX : UC_SYNC_PTHREAD;
  pthread_barrier_init(&R.start, NULL, THREADS + 1);
  pthread_barrier_init(&R.end, NULL, THREADS + 1);
  for (int i = 0; i < THREADS; i++)
    CHECK(pthread_create(&tids[i], NULL, inserter, (void *)(intptr_t)i) == 0, "create");
  run_kind(UC_SEEN_MUTEX, "mutex");
  run_kind(UC_SEEN_LOCKFREE, "lock-free");
  R.quit = true;
  pthread_barrier_wait(&R.start);
  for (int i = 0; i < THREADS; i++)
    pthread_join(tids[i], NULL);
  pthread_barrier_destroy(&R.start);
  pthread_barrier_destroy(&R.end);
  edges();
  return 0;
}
