/*
 * futex.h - the two futex(2) operations the primitives need, and the
 * ThreadSanitizer annotations (empty unless built with -fsanitize=thread).
 * Private to src/sync.
 */
#ifndef UVCRAWL_SYNC_FUTEX_H
#define UVCRAWL_SYNC_FUTEX_H

#include <errno.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * Sleep while *word == expected, until a wake on word or deadline_ns
 * (absolute CLOCK_MONOTONIC; 0: none). The kernel compares and queues
 * atomically, so a wake that follows a change of *word is never missed.
 * Returns 0 (woken, maybe spuriously), or -1 with errno EAGAIN (*word had
 * changed), EINTR, or ETIMEDOUT. FUTEX_WAIT_BITSET takes an absolute
 * deadline on CLOCK_MONOTONIC (plain FUTEX_WAIT a relative one).
 */
static inline int sync_futex_wait(_Atomic uint32_t *word, uint32_t expected,
                                  uint64_t deadline_ns) {
  struct timespec ts, *tp = NULL;
  if (deadline_ns != 0) {
    ts.tv_sec = (time_t)(deadline_ns / 1000000000u);
    ts.tv_nsec = (long)(deadline_ns % 1000000000u);
    tp = &ts;
  }
  return (int)syscall(SYS_futex, word, FUTEX_WAIT_BITSET_PRIVATE, expected, tp, NULL,
                      FUTEX_BITSET_MATCH_ANY);
}

/* Wake up to n threads sleeping on word. */
static inline void sync_futex_wake(_Atomic uint32_t *word, int n) {
  syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

#if defined(__SANITIZE_THREAD__)
#define SYNC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SYNC_TSAN 1
#endif
#endif

#ifdef SYNC_TSAN
#include <sanitizer/tsan_interface.h>
#else
#define __tsan_mutex_create(a, f) ((void)0)
#define __tsan_mutex_destroy(a, f) ((void)0)
#define __tsan_mutex_pre_lock(a, f) ((void)0)
#define __tsan_mutex_post_lock(a, f, r) ((void)0)
#define __tsan_mutex_pre_unlock(a, f) ((void)0)
#define __tsan_mutex_post_unlock(a, f) ((void)0)
#define __tsan_mutex_try_lock 0
#define __tsan_mutex_try_lock_failed 0
#define __tsan_acquire(a) ((void)0)
#define __tsan_release(a) ((void)0)
#endif

#endif /* UVCRAWL_SYNC_FUTEX_H */
