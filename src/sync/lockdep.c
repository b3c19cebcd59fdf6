/*
 * lockdep.c - the lock-order checker (see lockdep.h).
 *
 * The graph: one bit mask of successors per class, succ[a] bit b meaning
 * "b was taken while a was held". Reading it is lock-free: the common
 * case, an order seen before, costs a load per lock held. A new edge takes
 * graph_lock, looks for a path back (a breadth-first search over the
 * masks), records the two call sites, and publishes the bit.
 *
 * Each thread's held locks are a small stack in thread-local storage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uvcrawl/lockdep.h"
#include "uvcrawl/sync.h"

/* A release build (meson option lockdep off) has the header's empty
 * stubs, and nothing here. */
#if defined(UC_LOCKDEP) && UC_LOCKDEP

#define MAX_CLASSES UC_LOCKDEP_MAX_CLASSES

_Static_assert(MAX_CLASSES <= 64, "successors are a 64-bit mask");

/* Where an edge a -> b was first seen: a was taken at from, b at to. */
typedef struct edge_site {
  const char *from_file, *to_file;
  int from_line, to_line;
} edge_site;

/* graph_lock protects names, n_classes and sites, and serializes the
 * writers of succ. It has class 0, so the checker does not check itself. */
static uc_mutex graph_lock = UC_MUTEX_INIT;
static const char *names[MAX_CLASSES]; /* [0] unused: class 0 is "none" */
static unsigned n_classes = 1;
static bool full_said;
static edge_site sites[MAX_CLASSES][MAX_CLASSES];
/* relaxed loads outside graph_lock: a stale mask only sends a thread to
 * the slow path, which reads it again under the lock. */
static _Atomic uint64_t succ[MAX_CLASSES];

typedef struct held_lock {
  unsigned cls;
  const void *lock;
  const char *file;
  int line;
} held_lock;

static _Thread_local held_lock held[UC_LOCKDEP_MAX_HELD];
static _Thread_local unsigned n_held;

unsigned uc_lockdep_class(const char *name) {
  if (name == NULL)
    return 0;
  unsigned cls = 0;
  uc_mutex_lock(&graph_lock);
  for (unsigned i = 1; i < n_classes && cls == 0; i++)
    if (strcmp(names[i], name) == 0)
      cls = i;
  if (cls == 0 && n_classes < MAX_CLASSES) {
    cls = n_classes++;
    names[cls] = name;
  } else if (cls == 0 && !full_said) {
    full_said = true;
    fprintf(stderr, "lockdep: more than %d lock classes: \"%s\" and later ones not checked\n",
            MAX_CLASSES - 1, name);
  }
  uc_mutex_unlock(&graph_lock);
  return cls;
}

/* A path from `from` to `to` in the graph (graph_lock held): fills
 * path[0] = from ... path[n-1] = to and returns n, or 0 if none. */
static unsigned find_path(unsigned from, unsigned to, unsigned path[MAX_CLASSES]) {
  unsigned parent[MAX_CLASSES], queue[MAX_CLASSES], head = 0, tail = 0;
  uint64_t seen = UINT64_C(1) << from;
  queue[tail++] = from;
  parent[from] = from;
  while (head < tail) {
    unsigned a = queue[head++];
    if (a == to) {
      unsigned n = 0, rev[MAX_CLASSES];
      for (unsigned x = to; x != from; x = parent[x])
        rev[n++] = x;
      rev[n++] = from;
      for (unsigned i = 0; i < n; i++)
        path[i] = rev[n - 1 - i];
      return n;
    }
    uint64_t next = atomic_load_explicit(&succ[a], memory_order_relaxed) & ~seen;
    for (unsigned b = 0; next != 0; b++, next >>= 1)
      if (next & 1) {
        seen |= UINT64_C(1) << b;
        parent[b] = a;
        queue[tail++] = b;
      }
  }
  return 0;
}

/* The inversion report: both chains, then abort (graph_lock held). */
static _Noreturn void report(const held_lock *h, unsigned cls, const char *file, int line,
                             const unsigned *path, unsigned n) {
  fprintf(stderr, "\nlockdep: lock order inversion: possible deadlock\n");
  fprintf(stderr, "thread %d holds:\n", (int)gettid());
  for (unsigned i = 0; i < n_held; i++)
    fprintf(stderr, "  %s at %s:%d\n", names[held[i].cls], held[i].file, held[i].line);
  fprintf(stderr, "and is taking:\n  %s at %s:%d\n", names[cls], file, line);
  if (h->cls == cls) {
    fprintf(stderr, "a lock of class %s is already held: taking a second one (or the same\n"
                    "one again) deadlocks if another thread takes them in the other order\n",
            names[cls]);
  } else {
    fprintf(stderr, "but this order was seen before (%s first, %s after):\n", names[cls],
            names[h->cls]);
    for (unsigned i = 0; i + 1 < n; i++) {
      const edge_site *s = &sites[path[i]][path[i + 1]];
      fprintf(stderr, "  %s at %s:%d\n  then %s at %s:%d\n", names[path[i]], s->from_file,
              s->from_line, names[path[i + 1]], s->to_file, s->to_line);
    }
  }
  fprintf(stderr, "lockdep: aborting before the deadlock can happen\n");
  fflush(stderr);
  abort();
}

/* First sight of held class h->cls -> cls: check for a cycle, record it. */
static void add_edge(const held_lock *h, unsigned cls, const char *file, int line) {
  unsigned path[MAX_CLASSES];
  uc_mutex_lock(&graph_lock);
  uint64_t bit = UINT64_C(1) << cls;
  if ((atomic_load_explicit(&succ[h->cls], memory_order_relaxed) & bit) == 0) {
    unsigned n = h->cls == cls ? 1 : find_path(cls, h->cls, path);
    if (n > 0)
      report(h, cls, file, line, path, n);
    sites[h->cls][cls] = (edge_site){h->file, file, h->line, line};
    /* relaxed: the bit only saves later lockers the slow path; the sites
     * behind it are read under graph_lock. */
    atomic_fetch_or_explicit(&succ[h->cls], bit, memory_order_relaxed);
  }
  uc_mutex_unlock(&graph_lock);
}

void uc_lockdep_acquire(unsigned cls, const void *lock, const char *file, int line,
                        bool trylock) {
  if (cls == 0)
    return;
  for (unsigned i = 0; i < n_held && !trylock; i++) {
    uint64_t mask = atomic_load_explicit(&succ[held[i].cls], memory_order_relaxed);
    if ((mask & (UINT64_C(1) << cls)) == 0 || held[i].cls == cls)
      add_edge(&held[i], cls, file, line);
  }
  if (n_held < UC_LOCKDEP_MAX_HELD)
    held[n_held++] = (held_lock){cls, lock, file, line};
}

void uc_lockdep_release(unsigned cls, const void *lock) {
  if (cls == 0)
    return;
  /* Usually the last one taken; search from the top. */
  for (unsigned i = n_held; i-- > 0;)
    if (held[i].lock == lock) {
      memmove(&held[i], &held[i + 1], (n_held - i - 1) * sizeof held[0]);
      n_held--;
      return;
    }
}

#endif /* UC_LOCKDEP */
