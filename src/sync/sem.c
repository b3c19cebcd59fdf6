/*
 * sem.c - a counting semaphore on a futex: the count is the futex word,
 * and a separate count of waiters lets post skip the system call when no
 * thread can be asleep.
 *
 * Note (the lost wake-up this avoids): post adds to count and then reads
 * waiters; a waiter adds to waiters and then sleeps only if count still
 * reads 0 (the kernel checks that atomically with queueing it). Each side
 * writes one word and then reads the other one (Dekker's pattern), so both
 * need seq_cst: with weaker orders post could read waiters == 0 from
 * before the waiter's increment while the waiter's kernel check reads
 * count == 0 from before the post: the waiter sleeps with a token there
 * and nobody wakes it.
 */
#include "futex.h"
#include "uvcrawl/sync.h"

void uc_sem_init(uc_sem *s, uint32_t value) {
  atomic_init(&s->count, value);
  atomic_init(&s->waiters, 0);
}

void uc_sem_destroy(uc_sem *s) {
  (void)s;
}

void uc_sem_post(uc_sem *s) {
  /* TSan: what this thread did before the post happens before what the
   * taker does after its wait (the futex is invisible to TSan). */
  __tsan_release(s);
  /* seq_cst: the Dekker pair of the Note at the top, with the load of
   * waiters just below (it also releases, for the taker's acquire). */
  atomic_fetch_add_explicit(&s->count, 1, memory_order_seq_cst);
  if (atomic_load_explicit(&s->waiters, memory_order_seq_cst) > 0) /* seq_cst: the Note */
    sync_futex_wake(&s->count, 1);
}

/* Take a token if count > 0. acquire on success: pairs with the post's
 * increment, so what the poster did before posting is visible. relaxed
 * loads: a stale count only costs a retry or a futex check. */
static bool take(uc_sem *s) {
  uint32_t c = atomic_load_explicit(&s->count, memory_order_relaxed);
  while (c > 0) {
    if (atomic_compare_exchange_weak_explicit(&s->count, &c, c - 1, memory_order_acquire,
                                              memory_order_relaxed)) {
      __tsan_acquire(s);
      return true;
    }
  }
  return false;
}

bool uc_sem_trywait(uc_sem *s) {
  return take(s);
}

bool uc_sem_timedwait(uc_sem *s, uint64_t deadline_ns) {
  while (!take(s)) {
    /* seq_cst: the Dekker pair of the Note at the top. */
    atomic_fetch_add_explicit(&s->waiters, 1, memory_order_seq_cst);
    int rc = sync_futex_wait(&s->count, 0, deadline_ns);
    int err = rc != 0 ? errno : 0;
    /* relaxed: a late decrement costs a post one needless wake at most. */
    atomic_fetch_sub_explicit(&s->waiters, 1, memory_order_relaxed);
    if (err == ETIMEDOUT)
      return take(s); /* a token that came with the deadline still counts */
  }
  return true;
}

void uc_sem_wait(uc_sem *s) {
  uc_sem_timedwait(s, 0);
}
