/*
 * bench_sync.c - the hand-built primitives of sync.h against pthreads'.
 *
 *  1. mutex, uncontended: one thread, lock + unlock, ns per pair;
 *  2. mutex, contended: T threads (2..64) each do OPS lock / ++counter /
 *     unlock on one mutex; million lock-unlock pairs per second in all;
 *  3. hand-off latency: two threads pass a turn back and forth through a
 *     uc_sem pair, a pthread mutex + condvar pair, a uc_mutex + uc_cond
 *     pair, and a pipe pair; ns per one-way hand-off, both threads free to
 *     run on any CPU, then both pinned to CPU 0 (every hand-off a switch).
 *
 * Each figure is the median of REPEAT runs; the ratio columns divide two
 * medians of the same run of this program. Usage: bench_sync [REPEAT]
 * (default 5). Not a test: run by hand (docs/benchmarks.md).
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uvcrawl/sync.h"

#define UNCONTENDED_OPS 10000000
#define CONTENDED_OPS_TOTAL 4000000
#define HANDOFFS 100000
#define MAX_REPEAT 31

static int repeat = 5;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double now_s(void) {
  return (double)uc_sync_now_ns() / 1e9;
}

/* ---- the two mutexes behind one interface --------------------------- */

typedef enum { KIND_PTHREAD, KIND_FUTEX } kind;

static pthread_mutex_t pmutex = PTHREAD_MUTEX_INITIALIZER;
static uc_mutex fmutex = UC_MUTEX_INIT; /* no class: the checker stays out */

static inline void lock(kind k) {
  if (k == KIND_FUTEX)
    uc_mutex_lock(&fmutex);
  else
    pthread_mutex_lock(&pmutex);
}

static inline void unlock(kind k) {
  if (k == KIND_FUTEX)
    uc_mutex_unlock(&fmutex);
  else
    pthread_mutex_unlock(&pmutex);
}

static double uncontended_ns(kind k) {
  double t0 = now_s();
  for (int i = 0; i < UNCONTENDED_OPS; i++) {
    lock(k);
    unlock(k);
  }
  return (now_s() - t0) * 1e9 / UNCONTENDED_OPS;
}

static struct {
  kind k;
  int ops;
  pthread_barrier_t start;
  volatile unsigned long counter;
} C;

static void *contender(void *arg) {
  (void)arg;
  pthread_barrier_wait(&C.start);
  for (int i = 0; i < C.ops; i++) {
    lock(C.k);
    C.counter++;
    unlock(C.k);
  }
  return NULL;
}

/* Million lock/unlock pairs per second with `threads` threads. */
static double contended_mops(kind k, int threads) {
  pthread_t t[64];
  C.k = k;
  C.ops = CONTENDED_OPS_TOTAL / threads;
  C.counter = 0;
  pthread_barrier_init(&C.start, NULL, (unsigned)threads + 1);
  for (int i = 0; i < threads; i++)
    pthread_create(&t[i], NULL, contender, NULL);
  pthread_barrier_wait(&C.start);
  double t0 = now_s();
  for (int i = 0; i < threads; i++)
    pthread_join(t[i], NULL);
  double s = now_s() - t0;
  pthread_barrier_destroy(&C.start);
  if (C.counter != (unsigned long)C.ops * (unsigned long)threads) {
    fprintf(stderr, "bench_sync: lost increments: mutual exclusion broken\n");
    exit(1);
  }
  return (double)C.ops * threads / s / 1e6;
}

/* ---- hand-offs ------------------------------------------------------ */

typedef enum { H_SEM, H_PCOND, H_FCOND, H_PIPE } handoff_kind;
static const char *const handoff_name[] = {"uc_sem", "pthread cond", "uc_cond", "pipe"};

static struct {
  handoff_kind h;
  int pin;
  uc_sem sem[2];
  pthread_mutex_t pm;
  pthread_cond_t pcv[2];
  uc_mutex fm;
  uc_cond fcv[2];
  int turn;
  int pipes[2][2];
} H;

static void pin0(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* Wait for my turn, then give it to the other. */
static void player_step(int me) {
  int other = 1 - me;
  char byte = 0;
  switch (H.h) {
  case H_SEM:
    uc_sem_wait(&H.sem[me]);
    uc_sem_post(&H.sem[other]);
    break;
  case H_PCOND:
    pthread_mutex_lock(&H.pm);
    while (H.turn != me)
      pthread_cond_wait(&H.pcv[me], &H.pm);
    H.turn = other;
    pthread_cond_signal(&H.pcv[other]);
    pthread_mutex_unlock(&H.pm);
    break;
  case H_FCOND:
    uc_mutex_lock(&H.fm);
    while (H.turn != me)
      uc_cond_wait(&H.fcv[me], &H.fm);
    H.turn = other;
    uc_cond_signal(&H.fcv[other]);
    uc_mutex_unlock(&H.fm);
    break;
  case H_PIPE:
    if (read(H.pipes[me][0], &byte, 1) != 1 || write(H.pipes[other][1], &byte, 1) != 1)
      exit(1);
    break;
  }
}

static void *player(void *arg) {
  int me = (int)(long)arg;
  if (H.pin)
    pin0();
  for (int i = 0; i < HANDOFFS; i++)
    player_step(me);
  return NULL;
}

/* ns per one-way hand-off. */
static double handoff_ns(handoff_kind h, int pin) {
  memset(&H, 0, sizeof H);
  H.h = h;
  H.pin = pin;
  uc_sem_init(&H.sem[0], 1); /* player 0 moves first */
  uc_sem_init(&H.sem[1], 0);
  pthread_mutex_init(&H.pm, NULL);
  pthread_cond_init(&H.pcv[0], NULL);
  pthread_cond_init(&H.pcv[1], NULL);
  uc_mutex_init(&H.fm, NULL);
  uc_cond_init(&H.fcv[0]);
  uc_cond_init(&H.fcv[1]);
  if (pipe(H.pipes[0]) != 0 || pipe(H.pipes[1]) != 0)
    exit(1);
  if (write(H.pipes[0][1], "", 1) != 1) /* player 0's first turn */
    exit(1);
  pthread_t t[2];
  double t0 = now_s();
  for (long i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, player, (void *)i);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  double s = now_s() - t0;
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++)
      close(H.pipes[i][j]);
  pthread_mutex_destroy(&H.pm);
  pthread_cond_destroy(&H.pcv[0]);
  pthread_cond_destroy(&H.pcv[1]);
  return s * 1e9 / (2.0 * HANDOFFS);
}

int main(int argc, char **argv) {
  if (argc > 1)
    repeat = atoi(argv[1]);
  if (repeat < 1 || repeat > MAX_REPEAT)
    repeat = 5;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  printf("bench_sync: medians of %d runs, %ld CPUs online\n\n", repeat, cpus);

  double v[2][MAX_REPEAT];
  printf("mutex, uncontended (1 thread), ns per lock+unlock\n");
  printf("| pthread | futex | futex / pthread |\n|---|---|---|\n");
  for (int r = 0; r < repeat; r++)
    for (int k = 0; k < 2; k++)
      v[k][r] = uncontended_ns((kind)k);
  double p = median(v[0], repeat), f = median(v[1], repeat);
  printf("| %.1f | %.1f | %.2f |\n\n", p, f, f / p);

  printf("mutex, contended: million lock+unlock pairs per second, all threads\n");
  printf("| threads | pthread | futex | futex / pthread |\n|---|---|---|---|\n");
  static const int threads[] = {2, 4, 8, 16, 32, 64};
  for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++) {
    for (int r = 0; r < repeat; r++)
      for (int k = 0; k < 2; k++)
        v[k][r] = contended_mops((kind)k, threads[i]);
    p = median(v[0], repeat), f = median(v[1], repeat);
    printf("| %d | %.1f | %.1f | %.2f |\n", threads[i], p, f, f / p);
  }

  printf("\nhand-off latency between two threads, ns one way\n");
  printf("| mechanism | free | pinned to one CPU |\n|---|---|---|\n");
  double pipe_ns[2] = {0, 0}, sem_ns[2] = {0, 0};
  for (int h = 0; h < 4; h++) {
    double res[2];
    for (int pin = 0; pin < 2; pin++) {
      for (int r = 0; r < repeat; r++)
        v[0][r] = handoff_ns((handoff_kind)h, pin);
      res[pin] = median(v[0], repeat);
    }
    if (h == H_PIPE)
      pipe_ns[0] = res[0], pipe_ns[1] = res[1];
    if (h == H_SEM)
      sem_ns[0] = res[0], sem_ns[1] = res[1];
    printf("| %s | %.0f | %.0f |\n", handoff_name[h], res[0], res[1]);
  }
  printf("| uc_sem / pipe | %.2f | %.2f |\n", sem_ns[0] / pipe_ns[0], sem_ns[1] / pipe_ns[1]);
  return 0;
}
