/*
 * lock.h - the threaded engine's mutex and condition variable, on either
 * pthreads or the hand-built futex primitives (--sync pthread|futex,
 * include/uvcrawl/sync.h). The kind is chosen per object at init; the
 * engine gives every object the crawl's cfg->sync.
 *
 * Every lock has a class name for the lock-order checker (lockdep.h),
 * with either kind: the pthread kind reports to the checker here, the
 * futex kind inside uc_mutex. A condition wait re-locks through the same
 * path, so the checker sees it too.
 *
 * Thread safety: as pthreads' (init and destroy on one thread, with no
 * other user).
 */
#ifndef UVCRAWL_THR_LOCK_H
#define UVCRAWL_THR_LOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "uvcrawl/config.h" /* uc_sync_kind */
#include "uvcrawl/lockdep.h"
#include "uvcrawl/sync.h"

typedef struct thr_lock {
  uc_sync_kind kind;
  unsigned lock_class; /* pthread kind: the checker's class (uc_mutex keeps its own) */
  union {
    pthread_mutex_t p;
    uc_mutex f;
  } u;
} thr_lock;

typedef struct thr_cond {
  uc_sync_kind kind;
  union {
    pthread_cond_t p; /* on CLOCK_MONOTONIC, like uc_cond's deadlines */
    uc_cond f;
  } u;
} thr_cond;

/**
 * Initialize an unlocked lock.
 * @param name  its lock class (a literal: borrowed for the process's life).
 */
static inline void thr_lock_init(thr_lock *l, uc_sync_kind kind, const char *name) {
  l->kind = kind;
  l->lock_class = 0;
  if (kind == UC_SYNC_FUTEX) {
    uc_mutex_init(&l->u.f, name);
  } else {
    pthread_mutex_init(&l->u.p, NULL);
    l->lock_class = uc_lockdep_class(name);
  }
}

static inline void thr_lock_destroy(thr_lock *l) {
  if (l->kind == UC_SYNC_FUTEX)
    uc_mutex_destroy(&l->u.f);
  else
    pthread_mutex_destroy(&l->u.p);
}

/** Lock; the call site goes to the checker (use thr_lock_lock). */
static inline void thr_lock_lock_at(thr_lock *l, const char *file, int line) {
  if (l->kind == UC_SYNC_FUTEX) {
    uc_mutex_lock_at(&l->u.f, file, line);
  } else {
    uc_lockdep_acquire(l->lock_class, l, file, line, false);
    pthread_mutex_lock(&l->u.p);
  }
}
#define thr_lock_lock(l) thr_lock_lock_at((l), __FILE__, __LINE__)

static inline void thr_lock_unlock(thr_lock *l) {
  if (l->kind == UC_SYNC_FUTEX) {
    uc_mutex_unlock(&l->u.f);
  } else {
    uc_lockdep_release(l->lock_class, l);
    pthread_mutex_unlock(&l->u.p);
  }
}

static inline void thr_cond_init(thr_cond *c, uc_sync_kind kind) {
  c->kind = kind;
  if (kind == UC_SYNC_FUTEX) {
    uc_cond_init(&c->u.f);
    return;
  }
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* deadlines are uc_sync_now_ns's */
  pthread_cond_init(&c->u.p, &ca);
  pthread_condattr_destroy(&ca);
}

static inline void thr_cond_destroy(thr_cond *c) {
  if (c->kind == UC_SYNC_FUTEX)
    uc_cond_destroy(&c->u.f);
  else
    pthread_cond_destroy(&c->u.p);
}

/**
 * Wait on c, which releases l, until signalled (spurious wake-ups happen:
 * call it in a while loop) or deadline_ns (uc_sync_now_ns's clock; 0:
 * none). l is held on entry and on return.
 */
static inline void thr_cond_wait_at(thr_cond *c, thr_lock *l, uint64_t deadline_ns,
                                    const char *file, int line) {
  if (c->kind == UC_SYNC_FUTEX) {
    uc_cond_timedwait(&c->u.f, &l->u.f, deadline_ns);
    return;
  }
  uc_lockdep_release(l->lock_class, l);
  if (deadline_ns == 0) {
    pthread_cond_wait(&c->u.p, &l->u.p);
  } else {
    struct timespec ts = {(time_t)(deadline_ns / 1000000000u), (long)(deadline_ns % 1000000000u)};
    pthread_cond_timedwait(&c->u.p, &l->u.p, &ts);
  }
  /* Note: recorded after the re-lock, as a try-lock: pthreads re-locks
   * inside the wait, where the checker cannot run first. */
  uc_lockdep_acquire(l->lock_class, l, file, line, true);
}
#define thr_cond_wait(c, l) thr_cond_wait_at((c), (l), 0, __FILE__, __LINE__)
#define thr_cond_timedwait(c, l, deadline_ns) \
  thr_cond_wait_at((c), (l), (deadline_ns), __FILE__, __LINE__)

static inline void thr_cond_signal(thr_cond *c) {
  if (c->kind == UC_SYNC_FUTEX)
    uc_cond_signal(&c->u.f);
  else
    pthread_cond_signal(&c->u.p);
}

static inline void thr_cond_broadcast(thr_cond *c) {
  if (c->kind == UC_SYNC_FUTEX)
    uc_cond_broadcast(&c->u.f);
  else
    pthread_cond_broadcast(&c->u.p);
}

#endif /* UVCRAWL_THR_LOCK_H */
