/*
 * sync - hand-built synchronization on Linux futex(2) and C11 atomics: a
 * mutex, a counting semaphore and a condition variable. They exist to be
 * read (docs/async-vs-threads.md, "What a mutex is made of") and to run the
 * threaded engine with --sync futex; pthreads' are the reference.
 *
 * Each object is a plain struct with no heap part: init it in place, or
 * use the static initializer; destroy only when no thread uses it. None
 * may be copied or moved once in use (the kernel keys waiters by address).
 * All are private to the process (FUTEX_*_PRIVATE): not for shared memory.
 *
 * ThreadSanitizer: built with -fsanitize=thread, the mutex reports itself
 * through __tsan_mutex_* and the semaphore through __tsan_release /
 * __tsan_acquire, so TSan checks code that uses them as it checks code on
 * pthreads (races, lock-order inversions).
 *
 * Lock-order checker: a mutex initialized with a name belongs to that lock
 * class and, where the checker is built in (see lockdep.h), every lock
 * is recorded there before it may block.
 *
 * Deadlines are absolute CLOCK_MONOTONIC times in nanoseconds
 * (uc_sync_now_ns).
 */
#ifndef UVCRAWL_SYNC_H
#define UVCRAWL_SYNC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/** CLOCK_MONOTONIC now, in nanoseconds; the clock of every deadline here. */
uint64_t uc_sync_now_ns(void);

/* ---- mutex --------------------------------------------------------------- */

/**
 * A mutex in one 32-bit word, the three-state design of Drepper's
 * "Futexes Are Tricky": 0 unlocked, 1 locked with no waiter, 2 locked and
 * maybe waited on. Lock and unlock each cost one atomic instruction when
 * nobody contends; the kernel is entered only to sleep (state 2) or to
 * wake a sleeper (unlock saw 2). Not recursive, not fair: a thread that
 * arrives while the lock is free may take it before a woken one.
 */
typedef struct uc_mutex {
  _Atomic uint32_t state; /* 0, 1 or 2, above */
  uint32_t lock_class;    /* the checker's class (lockdep.h), 0: none */
} uc_mutex;

/** An unlocked mutex outside any lock class. */
#define UC_MUTEX_INIT {0, 0}

/**
 * Initialize an unlocked mutex.
 * @param name  its lock class for the checker (e.g. "crawl_lock"): all
 *              mutexes of one name are one class. A string that lives as
 *              long as the process (a literal); NULL: not checked.
 */
void uc_mutex_init(uc_mutex *m, const char *name);

/** Destroy an unlocked mutex (nothing to free: it only tells TSan). */
void uc_mutex_destroy(uc_mutex *m);

/**
 * Lock, sleeping in the kernel while another thread holds it.
 * file and line are the call site the checker prints; call it through
 * uc_mutex_lock(), which fills them in. Locking a mutex the thread holds
 * deadlocks (the checker reports it first, as a class taken twice).
 */
void uc_mutex_lock_at(uc_mutex *m, const char *file, int line);
#define uc_mutex_lock(m) uc_mutex_lock_at((m), __FILE__, __LINE__)

/** Lock if free, never waiting. @return true if this thread now holds it. */
bool uc_mutex_trylock_at(uc_mutex *m, const char *file, int line);
#define uc_mutex_trylock(m) uc_mutex_trylock_at((m), __FILE__, __LINE__)

/** Unlock a mutex this thread holds, waking one sleeper if there is one. */
void uc_mutex_unlock(uc_mutex *m);

/* ---- counting semaphore -------------------------------------------------- */

/**
 * A counting semaphore: post adds one, wait takes one, sleeping while the
 * count is 0. The count and the sleepers are two words: post enters the
 * kernel only when a thread may sleep. Any thread may post.
 */
typedef struct uc_sem {
  _Atomic uint32_t count;   /* tokens available */
  _Atomic uint32_t waiters; /* threads in (or entering) the wait below */
} uc_sem;

/** Initialize with `value` tokens. */
void uc_sem_init(uc_sem *s, uint32_t value);

/** Destroy a semaphore no thread waits on (nothing to free). */
void uc_sem_destroy(uc_sem *s);

/** Add a token, waking one sleeper if any. */
void uc_sem_post(uc_sem *s);

/** Take a token, sleeping while there is none. */
void uc_sem_wait(uc_sem *s);

/** Take a token if there is one. @return true if one was taken. */
bool uc_sem_trywait(uc_sem *s);

/**
 * Take a token, sleeping at most until deadline_ns (uc_sync_now_ns's clock).
 * @return true if a token was taken, false once the deadline has passed.
 */
bool uc_sem_timedwait(uc_sem *s, uint64_t deadline_ns);

/* ---- condition variable -------------------------------------------------- */

/**
 * A condition variable on a futex sequence counter: a waiter reads the
 * counter holding the mutex, unlocks, and sleeps only if the counter has
 * not moved; signal and broadcast move it before they wake. A signal that
 * comes after the waiter unlocked therefore always ends its sleep: no lost
 * wake-ups.
 *
 * Spurious wake-ups happen, as with pthreads, so wait in a while loop on
 * the predicate: a signal may wake a thread that started waiting after
 * the change it announces (it then finds the predicate still false), one
 * signal may wake a waiter another thread then beats to the mutex, and
 * the counter wraps after 2^32 signals (a waiter that read it exactly
 * 2^32 signals before its sleep would sleep on: harmless in practice,
 * since the kernel compares the word when the sleep starts).
 */
typedef struct uc_cond {
  _Atomic uint32_t seq;     /* moved by every signal and broadcast */
  _Atomic uint32_t waiters; /* threads between their read of seq and their wake */
} uc_cond;

/** Initialize a condition variable nobody waits on. */
void uc_cond_init(uc_cond *c);

/** Destroy a condition variable nobody waits on (nothing to free). */
void uc_cond_destroy(uc_cond *c);

/**
 * Unlock m, sleep until signalled (or spuriously), lock m again.
 * m must be held by the caller; it is held again on return.
 */
void uc_cond_wait(uc_cond *c, uc_mutex *m);

/**
 * uc_cond_wait with a deadline (uc_sync_now_ns's clock).
 * @return false if the deadline passed (m is held again either way).
 */
bool uc_cond_timedwait(uc_cond *c, uc_mutex *m, uint64_t deadline_ns);

/** Wake one waiter, if any. The caller need not hold the mutex. */
void uc_cond_signal(uc_cond *c);

/** Wake every waiter. The caller need not hold the mutex. */
void uc_cond_broadcast(uc_cond *c);

#endif /* UVCRAWL_SYNC_H */
