/*
 * lockdep - a lock-order checker in the manner of Linux's lockdep.
 *
 * Locks belong to classes (a name: "crawl_lock", "visited.stripe"); every
 * lock of one class is one node. Each thread keeps the locks it holds;
 * taking class B while holding class A records the edge A -> B with both
 * call sites. The first time a new edge closes a cycle (B already leads
 * to A, possibly through other classes, or A == B), two threads could
 * deadlock by taking these locks in these orders: the checker prints both
 * acquisition chains (classes and call sites) on stderr and aborts. It
 * does so when the order is first inverted, even on one thread and even
 * if no deadlock would have happened this time.
 *
 * Built in when the build defines UC_LOCKDEP=1: meson option `lockdep`
 * (auto: on unless the build is a release one, buildtype=release or
 * b_ndebug=true; enabled; disabled). Without it these functions are empty
 * inline stubs and cost nothing.
 *
 * Thread-safe: all of it, from any thread. The graph is process-wide
 * state (as in the kernel): at most UC_LOCKDEP_MAX_CLASSES - 1 classes;
 * at most UC_LOCKDEP_MAX_HELD locks held at once by one thread are
 * tracked (deeper ones are not checked).
 */
#ifndef UVCRAWL_LOCKDEP_H
#define UVCRAWL_LOCKDEP_H

#include <stdbool.h>

#define UC_LOCKDEP_MAX_CLASSES 64
#define UC_LOCKDEP_MAX_HELD 16

#if defined(UC_LOCKDEP) && UC_LOCKDEP

/**
 * The class of that name, created on first use.
 * @param name  borrowed for the life of the process (a literal); NULL: 0.
 * @return 1..UC_LOCKDEP_MAX_CLASSES-1, or 0 (not checked: NULL, or no
 *         class left, said once on stderr).
 */
unsigned uc_lockdep_class(const char *name);

/**
 * Record that this thread is about to take `lock` of class `cls`, before
 * it may block; a new edge that closes a cycle aborts here (see the top).
 * @param trylock  a try-lock cannot deadlock: it adds no edge, but the lock
 *                 counts as held once taken (call after it succeeded).
 * Class 0 is ignored.
 */
void uc_lockdep_acquire(unsigned cls, const void *lock, const char *file, int line,
                        bool trylock);

/** Record that this thread released `lock` (any order). Class 0 is ignored. */
void uc_lockdep_release(unsigned cls, const void *lock);

/** Whether the checker is built in. */
static inline bool uc_lockdep_enabled(void) {
  return true;
}

#else

static inline unsigned uc_lockdep_class(const char *name) {
  (void)name;
  return 0;
}
static inline void uc_lockdep_acquire(unsigned cls, const void *lock, const char *file,
                                      int line, bool trylock) {
  (void)cls, (void)lock, (void)file, (void)line, (void)trylock;
}
static inline void uc_lockdep_release(unsigned cls, const void *lock) {
  (void)cls, (void)lock;
}
static inline bool uc_lockdep_enabled(void) {
  return false;
}

#endif

#endif /* UVCRAWL_LOCKDEP_H */
