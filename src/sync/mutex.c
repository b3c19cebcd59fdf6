/*
 * mutex.c - the futex mutex of Drepper's "Futexes Are Tricky" (his
 * mutex3): one word, 0 unlocked, 1 locked, 2 locked and maybe waited on.
 *
 * Fast path: lock is one compare-and-swap 0 -> 1, unlock one decrement
 * 1 -> 0; no system call. Slow path: a locker that finds the lock taken
 * marks it 2 ("someone may sleep") with an exchange and sleeps in
 * FUTEX_WAIT while it reads 2; the unlocker that finds 2 stores 0 and
 * wakes one sleeper with FUTEX_WAKE. A woken thread exchanges 2 in again:
 * it cannot know whether others still sleep, so it keeps the lock marked
 * contended (at worst one needless wake later, never a lost one).
 */
#include <time.h>

#include "futex.h"
#include "uvcrawl/lockdep.h"
#include "uvcrawl/sync.h"

uint64_t uc_sync_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void uc_mutex_init(uc_mutex *m, const char *name) {
  atomic_init(&m->state, 0);
  m->lock_class = uc_lockdep_class(name);
  __tsan_mutex_create(m, 0);
}

void uc_mutex_destroy(uc_mutex *m) {
  __tsan_mutex_destroy(m, 0);
}

void uc_mutex_lock_at(uc_mutex *m, const char *file, int line) {
  /* Before the first attempt: an inversion is reported before it can
   * block, so the report comes instead of the deadlock. */
  uc_lockdep_acquire(m->lock_class, m, file, line, false);
  __tsan_mutex_pre_lock(m, 0);
  uint32_t c = 0;
  /* acquire (on success): what the last holder wrote before its release
   * in uc_mutex_unlock is visible to us from here. relaxed on failure: we
   * only learn the state, and take nothing. */
  if (!atomic_compare_exchange_strong_explicit(&m->state, &c, 1, memory_order_acquire,
                                               memory_order_relaxed)) {
    /* Note: exchange, not compare-and-swap 1 -> 2. If the holder unlocked
     * between our two reads, the exchange finds 0 and we own the lock
     * (marked 2: one spare wake at our unlock). acquire: as above, for
     * the case where the exchange took the lock. */
    if (c != 2)
      c = atomic_exchange_explicit(&m->state, 2, memory_order_acquire);
    while (c != 0) {
      /* Sleeps only if the word still reads 2: an unlock that stored 0
       * before the kernel looked makes this return at once. */
      sync_futex_wait(&m->state, 2, 0);
      c = atomic_exchange_explicit(&m->state, 2, memory_order_acquire); /* acquire: as above */
    }
  }
  __tsan_mutex_post_lock(m, 0, 0);
}

bool uc_mutex_trylock_at(uc_mutex *m, const char *file, int line) {
  __tsan_mutex_pre_lock(m, __tsan_mutex_try_lock);
  uint32_t c = 0;
  /* acquire on success, relaxed on failure: as in uc_mutex_lock_at. */
  bool ok = atomic_compare_exchange_strong_explicit(&m->state, &c, 1, memory_order_acquire,
                                                    memory_order_relaxed);
  __tsan_mutex_post_lock(m, ok ? __tsan_mutex_try_lock
                               : __tsan_mutex_try_lock | __tsan_mutex_try_lock_failed, 0);
  if (ok)
    uc_lockdep_acquire(m->lock_class, m, file, line, true);
  return ok;
}

void uc_mutex_unlock(uc_mutex *m) {
  __tsan_mutex_pre_unlock(m, 0);
  uc_lockdep_release(m->lock_class, m);
  /* release: everything written while holding the lock happens before
   * the next locker's acquire. 1 -> 0 means nobody marked it contended:
   * done without the kernel. */
  if (atomic_fetch_sub_explicit(&m->state, 1, memory_order_release) != 1) {
    /* It was 2: someone may sleep. Unlock fully, then wake one. release:
     * as above (the decrement left 1, which is not "unlocked"). */
    atomic_store_explicit(&m->state, 0, memory_order_release);
    sync_futex_wake(&m->state, 1);
  }
  __tsan_mutex_post_unlock(m, 0);
}
