/*
 * test_sync_mt - the hand-built primitives of sync.h under contention.
 *
 * One case per run, named by argv[1] (meson runs each as its own test):
 *  - mutex:  THREADS threads each add 1 to a plain counter ROUNDS times
 *            under one uc_mutex; an atomic occupancy count checks that no
 *            two are ever inside at once. The sum must be exact.
 *  - sem:    two threads hand a turn back and forth HANDOFFS times through
 *            two semaphores (each hand-off wakes a sleeper); then 4 posters
 *            and 4 takers move HANDOFFS tokens through one semaphore: every
 *            token taken exactly once, none left.
 *  - cond:   a producer and a consumer pass HANDOFFS numbers through a
 *            one-slot mailbox (uc_mutex + two uc_cond), in order; then a
 *            broadcast must wake all of WAITERS waiters.
 *  - timed:  timed waits on a semaphore and a condition variable that
 *            nobody signals return false, no earlier than their deadline
 *            and within a bound after it.
 * argv[2] (optional) overrides HANDOFFS (the TSan build passes fewer).
 *
 * A lost wake-up shows as threads that stop making progress: every thread
 * counts its steps in `progress`, and the main thread joins them in slices
 * of STALL_S seconds; a slice in which no step was made fails the test
 * with the thread's name (in about STALL_S seconds, instead of a hang).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "uvcrawl/sync.h"
#include "../thr/check.h"

#define THREADS 16
#define ROUNDS 100000
#define WAITERS 32
#define STALL_S 5
#define WATCHDOG_S 60 /* the broadcast case's bound on waiters arriving */

static unsigned long handoffs = 1000000;
/* Steps made by all threads; relaxed: only compared, never a guard. */
static atomic_ulong progress;

static void step(void) {
  atomic_fetch_add_explicit(&progress, 1, memory_order_relaxed);
}

/* Join t, failing if a whole STALL_S passes with no thread making a step. */
static void join_by(pthread_t t, const char *what) {
  for (;;) {
    unsigned long before = atomic_load_explicit(&progress, memory_order_relaxed);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* pthread_timedjoin_np's clock */
    ts.tv_sec += STALL_S;
    int rc = pthread_timedjoin_np(t, NULL, &ts);
    if (rc == 0)
      return;
    CHECK(atomic_load_explicit(&progress, memory_order_relaxed) != before,
          "%s and every other thread made no progress for %d s: a lost wake-up", what,
          STALL_S);
  }
}

/* ---- mutex ---------------------------------------------------------- */

static struct {
  uc_mutex m;
  unsigned long counter; /* plain: only the mutex protects it */
  atomic_int inside;     /* threads inside the critical section */
  atomic_int overlaps;
} M;

static void *mutex_thread(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    uc_mutex_lock(&M.m);
    if (atomic_fetch_add(&M.inside, 1) != 0)
      atomic_fetch_add(&M.overlaps, 1);
    M.counter++;
    atomic_fetch_sub(&M.inside, 1);
    uc_mutex_unlock(&M.m);
    step();
  }
  return NULL;
}

static void case_mutex(void) {
  uc_mutex_init(&M.m, "test.mutex");
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    CHECK(pthread_create(&t[i], NULL, mutex_thread, NULL) == 0, "create");
  for (int i = 0; i < THREADS; i++)
    join_by(t[i], "a mutex thread");
  CHECK(M.counter == (unsigned long)THREADS * ROUNDS, "counter %lu, expected %lu", M.counter,
        (unsigned long)THREADS * ROUNDS);
  CHECK(atomic_load(&M.overlaps) == 0, "%d overlaps", atomic_load(&M.overlaps));
  CHECK(uc_mutex_trylock(&M.m), "trylock on a free mutex");
  CHECK(!uc_mutex_trylock(&M.m), "trylock on a held mutex");
  uc_mutex_unlock(&M.m);
  uc_mutex_destroy(&M.m);
  printf("ok - mutex: %d threads x %d locked increments, exact, no overlap\n", THREADS, ROUNDS);
}

/* ---- semaphore ------------------------------------------------------ */

static struct {
  uc_sem ping, pong, pool;
  atomic_ulong taken;
  unsigned long seen_turn; /* written by the pong side only between its wait and post */
} S;

static void *ping_thread(void *arg) {
  (void)arg;
  for (unsigned long i = 0; i < handoffs; i++) {
    uc_sem_post(&S.ping);
    uc_sem_wait(&S.pong);
    step();
  }
  return NULL;
}

static void *pong_thread(void *arg) {
  (void)arg;
  for (unsigned long i = 0; i < handoffs; i++) {
    uc_sem_wait(&S.ping);
    S.seen_turn++; /* a race here if a wait returned without its post */
    uc_sem_post(&S.pong);
  }
  return NULL;
}

#define POOL_SIDES 4
static void *poster_thread(void *arg) {
  (void)arg;
  for (unsigned long i = 0; i < handoffs / POOL_SIDES; i++) {
    uc_sem_post(&S.pool);
    step();
  }
  return NULL;
}

static void *taker_thread(void *arg) {
  (void)arg;
  for (unsigned long i = 0; i < handoffs / POOL_SIDES; i++) {
    uc_sem_wait(&S.pool);
    atomic_fetch_add_explicit(&S.taken, 1, memory_order_relaxed);
    step();
  }
  return NULL;
}

static void case_sem(void) {
  uc_sem_init(&S.ping, 0);
  uc_sem_init(&S.pong, 0);
  uc_sem_init(&S.pool, 0);
  pthread_t a, b;
  CHECK(pthread_create(&a, NULL, ping_thread, NULL) == 0, "create");
  CHECK(pthread_create(&b, NULL, pong_thread, NULL) == 0, "create");
  join_by(a, "the ping thread");
  join_by(b, "the pong thread");
  CHECK(S.seen_turn == handoffs, "%lu turns of %lu", S.seen_turn, handoffs);
  CHECK(!uc_sem_trywait(&S.ping) && !uc_sem_trywait(&S.pong), "no token left over");

  pthread_t t[2 * POOL_SIDES];
  for (int i = 0; i < POOL_SIDES; i++) {
    CHECK(pthread_create(&t[i], NULL, taker_thread, NULL) == 0, "create");
    CHECK(pthread_create(&t[POOL_SIDES + i], NULL, poster_thread, NULL) == 0, "create");
  }
  for (int i = 0; i < 2 * POOL_SIDES; i++)
    join_by(t[i], i < POOL_SIDES ? "a taker" : "a poster");
  unsigned long moved = handoffs / POOL_SIDES * POOL_SIDES;
  CHECK(atomic_load(&S.taken) == moved, "%lu taken of %lu", atomic_load(&S.taken), moved);
  CHECK(!uc_sem_trywait(&S.pool), "a token left over");
  uc_sem_init(&S.pool, 2); /* counting: two tokens, then none */
  CHECK(uc_sem_trywait(&S.pool) && uc_sem_trywait(&S.pool) && !uc_sem_trywait(&S.pool),
        "initial value 2");
  printf("ok - sem: %lu ping-pong hand-offs, %lu tokens through 4 posters and 4 takers\n",
         handoffs, moved);
}

/* ---- condition variable --------------------------------------------- */

static struct {
  uc_mutex m;
  uc_cond not_empty, not_full, go;
  unsigned long slot; /* 0: empty */
  unsigned long out_of_order;
  int generation, woken;
} C;

static void *producer_thread(void *arg) {
  (void)arg;
  for (unsigned long i = 1; i <= handoffs; i++) {
    uc_mutex_lock(&C.m);
    while (C.slot != 0)
      uc_cond_wait(&C.not_full, &C.m);
    C.slot = i;
    uc_cond_signal(&C.not_empty);
    uc_mutex_unlock(&C.m);
    step();
  }
  return NULL;
}

static void *consumer_thread(void *arg) {
  (void)arg;
  for (unsigned long i = 1; i <= handoffs; i++) {
    uc_mutex_lock(&C.m);
    while (C.slot == 0)
      uc_cond_wait(&C.not_empty, &C.m);
    if (C.slot != i)
      C.out_of_order++;
    C.slot = 0;
    uc_cond_signal(&C.not_full);
    uc_mutex_unlock(&C.m);
    step();
  }
  return NULL;
}

static void *broadcast_waiter(void *arg) {
  (void)arg;
  uc_mutex_lock(&C.m);
  C.woken--; /* counts in: -WAITERS once all wait */
  uc_cond_broadcast(&C.not_empty); /* tells the main thread one more is in */
  while (C.generation == 0)
    uc_cond_wait(&C.go, &C.m);
  C.woken += 2;
  uc_mutex_unlock(&C.m);
  step();
  return NULL;
}

static void case_cond(void) {
  uc_mutex_init(&C.m, "test.cond_mutex");
  uc_cond_init(&C.not_empty);
  uc_cond_init(&C.not_full);
  uc_cond_init(&C.go);
  pthread_t p, c;
  CHECK(pthread_create(&c, NULL, consumer_thread, NULL) == 0, "create");
  CHECK(pthread_create(&p, NULL, producer_thread, NULL) == 0, "create");
  join_by(p, "the producer");
  join_by(c, "the consumer");
  CHECK(C.out_of_order == 0 && C.slot == 0, "%lu out of order", C.out_of_order);

  pthread_t w[WAITERS];
  uint64_t start = uc_sync_now_ns();
  for (int i = 0; i < WAITERS; i++)
    CHECK(pthread_create(&w[i], NULL, broadcast_waiter, NULL) == 0, "create");
  uc_mutex_lock(&C.m);
  while (C.woken > -WAITERS) /* every waiter counted in (and so waiting, or about to) */
    CHECK(uc_cond_timedwait(&C.not_empty, &C.m, start + WATCHDOG_S * 1000000000ull) ||
              C.woken == -WAITERS,
          "only %d of %d waiters arrived", -C.woken, WAITERS);
  C.generation = 1;
  uc_cond_broadcast(&C.go);
  uc_mutex_unlock(&C.m);
  for (int i = 0; i < WAITERS; i++)
    join_by(w[i], "a broadcast waiter");
  CHECK(C.woken == WAITERS, "woken %d, expected %d", C.woken, WAITERS);
  uc_mutex_destroy(&C.m);
  printf("ok - cond: %lu hand-offs in order, one broadcast woke %d waiters\n", handoffs,
         WAITERS);
}

/* ---- timed waits ---------------------------------------------------- */

static void case_timed(void) {
  static const uint64_t waits_ms[] = {1, 20, 100};
  const uint64_t late_ms = 2000; /* generous: the machine is shared */
  uc_sem s;
  uc_sem_init(&s, 0);
  uc_mutex m;
  uc_mutex_init(&m, "test.timed");
  uc_cond c;
  uc_cond_init(&c);
  for (size_t i = 0; i < sizeof waits_ms / sizeof waits_ms[0]; i++) {
    uint64_t t0 = uc_sync_now_ns(), deadline = t0 + waits_ms[i] * 1000000u;
    CHECK(!uc_sem_timedwait(&s, deadline), "sem: a token from nowhere");
    uint64_t t1 = uc_sync_now_ns();
    CHECK(t1 >= deadline && t1 - deadline < late_ms * 1000000u, "sem %lu ms: woke %+.3f ms off",
          (unsigned long)waits_ms[i], ((double)t1 - (double)deadline) / 1e6);
    uc_mutex_lock(&m);
    t0 = uc_sync_now_ns();
    deadline = t0 + waits_ms[i] * 1000000u;
    /* In a loop, as every condition wait: a spurious return is allowed. */
    while (uc_cond_timedwait(&c, &m, deadline))
      ;
    t1 = uc_sync_now_ns();
    uc_mutex_unlock(&m);
    CHECK(t1 >= deadline && t1 - deadline < late_ms * 1000000u,
          "cond %lu ms: woke %+.3f ms off", (unsigned long)waits_ms[i],
          ((double)t1 - (double)deadline) / 1e6);
  }
  uc_sem_post(&s);
  CHECK(uc_sem_timedwait(&s, uc_sync_now_ns()), "a token there is taken even at the deadline");
  uc_mutex_destroy(&m);
  printf("ok - timed: sem and cond waits end at their deadlines (1, 20, 100 ms)\n");
}

int main(int argc, char **argv) {
  static const struct {
    const char *name;
    void (*run)(void);
  } cases[] = {{"mutex", case_mutex}, {"sem", case_sem}, {"cond", case_cond},
               {"timed", case_timed}};
  if (argc > 2)
    handoffs = strtoul(argv[2], NULL, 10);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (argc > 1 && strcmp(argv[1], cases[i].name) == 0) {
      cases[i].run();
      return 0;
    }
  fprintf(stderr, "usage: %s mutex|sem|cond|timed [HANDOFFS]\n", argv[0]);
  return 2;
}
