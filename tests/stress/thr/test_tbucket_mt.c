/*
 * test_tbucket_mt - 64 threads take tokens from one uc_tbucket under a
 * mutex, with a simulated clock: the successful takes over any interval of
 * length t number at most B + R*t (DESIGN.md, Rate), and the bucket gives
 * out what it promises (not far fewer).
 *
 * The clock is a counter that each taker advances by 0-3 ms under the same
 * mutex before it takes, so time is monotone in lock order and the test
 * never reads a real clock or sleeps. Successful takes log their simulated
 * time; every pair (i, j) of logged takes is then checked.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "uvcrawl/tbucket.h"
#include "check.h"

#define THREADS 64
#define ROUNDS 40
#define MAX_TAKES 4096


static struct {
  pthread_mutex_t lock; /* protects everything below */
  uc_tbucket bucket;
  uint64_t now_ms; /* the simulated clock */
  uint64_t end_ms; /* takers stop once the clock passes it */
  uint64_t taken[MAX_TAKES];
  size_t n_taken;
  unsigned rng;
} S;

static void *taker(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&S.lock);
    if (S.now_ms >= S.end_ms) {
      pthread_mutex_unlock(&S.lock);
      return NULL;
    }
    S.now_ms += (uint64_t)(rand_r(&S.rng) % 4);
    if (uc_tbucket_take(&S.bucket, S.now_ms)) {
      CHECK(S.n_taken < MAX_TAKES, "too many takes");
      S.taken[S.n_taken++] = S.now_ms;
    }
    pthread_mutex_unlock(&S.lock);
  }
}

int main(void) {
  pthread_mutex_init(&S.lock, NULL);
  S.rng = 7;
  size_t total = 0;
  for (int round = 0; round < ROUNDS; round++) {
    double rate = 5.0 + 25.0 * (round % 8);   /* 5 .. 180 tokens/s */
    double burst = 1.0 + (double)(round % 5); /* 1 .. 5 */
    uint64_t start = 1000u + (uint64_t)round * 7;
    uint64_t span = 10000; /* 10 simulated seconds */
    uc_tbucket_init(&S.bucket, rate, burst, start);
    S.now_ms = start;
    S.end_ms = start + span;
    S.n_taken = 0;
    pthread_t tids[THREADS];
    for (int i = 0; i < THREADS; i++)
      CHECK(pthread_create(&tids[i], NULL, taker, NULL) == 0, "create");
    for (int i = 0; i < THREADS; i++)
      pthread_join(tids[i], NULL);
    size_t n = S.n_taken;
    /* Any interval [t_i, t_j] holds j - i + 1 takes: at most B + R*t. */
    for (size_t i = 0; i < n; i++)
      for (size_t j = i; j < n; j++) {
        double t = (double)(S.taken[j] - S.taken[i]) / 1000.0;
        CHECK((double)(j - i + 1) <= burst + rate * t + 1e-9,
              "round %d: %zu takes in %.3f s > %.1f + %.1f*t", round, j - i + 1, t, burst, rate);
      }
    /* Demand always exceeds supply, so a token goes at the first take after
     * it is due: at most 3 simulated ms late (the clock's largest step). */
    double elapsed = (double)(S.now_ms - start) / 1000.0;
    double floor_n = elapsed / (1.0 / rate + 0.003);
    CHECK((double)n >= floor_n - 2.0, "round %d: only %zu takes (rate %.0f, expected >= %.0f)",
          round, n, rate, floor_n);
    total += n;
  }
  pthread_mutex_destroy(&S.lock);
  printf("ok - %d rounds, %d threads, %zu takes, all within B + R*t\n", ROUNDS, THREADS, total);
  return 0;
}
