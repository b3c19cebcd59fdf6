/*
 * cond.c - a condition variable on a futex sequence counter.
 *
 * wait: holding the mutex, count ourselves in `waiters` and read `seq`;
 * unlock; sleep while seq still holds what we read; lock again.
 * signal / broadcast: move seq, then wake one / all sleepers if any
 * thread waits.
 *
 * Note (why no wake-up is lost): the waiter reads seq before it unlocks.
 * A signaller whose predicate change was made under the mutex after that
 * unlock moves seq after the read, so the waiter either sees the moved
 * seq when the kernel compares (its sleep returns at once) or is already
 * queued when the wake comes. The same order makes the waiter's count in
 * `waiters` visible to that signaller, which therefore does not skip the
 * wake.
 */
#include "futex.h"
#include "uvcrawl/sync.h"

void uc_cond_init(uc_cond *c) {
  atomic_init(&c->seq, 0);
  atomic_init(&c->waiters, 0);
}

void uc_cond_destroy(uc_cond *c) {
  (void)c;
}

bool uc_cond_timedwait(uc_cond *c, uc_mutex *m, uint64_t deadline_ns) {
  /* seq_cst, here and on the signal side: a signaller that changed the
   * predicate under the mutex is ordered after us by the mutex alone (the
   * Note above), but one that signals without the mutex after a change
   * made with an atomic store is a Dekker pair (write seq, read waiters /
   * write waiters, read seq) that only seq_cst keeps from losing the wake. */
  atomic_fetch_add_explicit(&c->waiters, 1, memory_order_seq_cst);
  uint32_t seq = atomic_load_explicit(&c->seq, memory_order_seq_cst);
  uc_mutex_unlock(m);
  int rc = sync_futex_wait(&c->seq, seq, deadline_ns);
  bool timed_out = rc != 0 && errno == ETIMEDOUT;
  /* relaxed: a late decrement only costs a signaller a needless wake. */
  atomic_fetch_sub_explicit(&c->waiters, 1, memory_order_relaxed);
  /* Note: the lock taken here is of the mutex's class, with the call site
   * inside this file; the checker sees the re-lock like any other. */
  uc_mutex_lock(m);
  return !timed_out;
}

void uc_cond_wait(uc_cond *c, uc_mutex *m) {
  uc_cond_timedwait(c, m, 0);
}

/* Move seq and wake up to n sleepers if anyone waits. */
static void wake(uc_cond *c, int n) {
  /* seq_cst: the Dekker pair described in uc_cond_timedwait. */
  atomic_fetch_add_explicit(&c->seq, 1, memory_order_seq_cst);
  if (atomic_load_explicit(&c->waiters, memory_order_seq_cst) > 0)
    sync_futex_wake(&c->seq, n);
}

void uc_cond_signal(uc_cond *c) {
  wake(c, 1);
}

void uc_cond_broadcast(uc_cond *c) {
  /* Note: every waiter wakes and then contends for the mutex (a thundering
   * herd); glibc requeues them onto the mutex instead. Kept simple here. */
  wake(c, 0x7fffffff);
}
