/* lfset.c - a growing lock-free fingerprint set: a chain of linear-probing
 * tables, compare-and-swap into the newest (see lfset.h). */
#include "lfset.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "uvcrawl/error.h"
#include "uvcrawl/seen.h"

/*
 * One table of the chain. Everything but `next`, `slots[i]` and `reserved`
 * is written before the table is installed and never again.
 */
typedef struct lf_table {
  alignas(64) struct lf_table *_Atomic next; /* twice as large; NULL until installed */
  _Atomic uint64_t *slots;                   /* 0 = empty; written once, by CAS */
  size_t mask;                               /* slots - 1 */
  size_t soft; /* a reservation numbered this installs the next table: 1/2 of the slots */
  size_t hard; /* reservations numbered this or more are refused: 3/4 (1/2 in the last) */
  unsigned log2;
  /* Slots promised to inserts (it only grows). Its own cache line: every
   * new fingerprint adds to it, and every probe reads the fields above. */
  alignas(64) _Atomic size_t reserved;
} lf_table;

struct thr_lfset {
  lf_table *first;                  /* the oldest table, set at creation */
  unsigned max_log2;                /* the largest table allowed */
  alignas(64) _Atomic size_t count; /* inserts that returned 1 */
};

/*
 * Why exactly one of concurrent inserts of a fingerprint returns 1.
 *
 * An insert runs in rounds (thr_lfset_insert). A round (1) walks the next
 * pointers from `from` to the end of the chain; the table whose next it
 * reads as NULL is the round's target; (2) searches the target and every
 * table from `from` up to it, newest first (most fingerprints are in the
 * newest tables; the order does not matter below, only that the searches
 * come after step 1); (3) places fp in the target (a successful CAS of fp
 * into the first empty slot its search met, or a later one), or finds the
 * target full (then it installs the next table unless someone did, and
 * starts a new round with the same `from`). After a placement in table T
 * the insert reads T->next: NULL, it returns 1; a table, it starts a new
 * round with `from` = T->next. It returns 0 as soon as it finds fp: in a
 * search, or as the value a failed CAS returns.
 *
 * Every access to a slot or a next pointer is memory_order_seq_cst, so all
 * of them fall in one total order S that agrees with each thread's program
 * order, and a load returns the last CAS to its location before it in S.
 * (The zeroed slots and NULL next of a table are written before the table
 * is published, so they happen before every CAS on them and cannot be
 * read in place of one.)
 *
 * (a) A table holds fp in one slot at most. A slot changes once, from 0 to
 *     a fingerprint. Every probe for fp in a table follows the same slots
 *     from fp's home, and moves past a slot only after it saw it hold
 *     another fingerprint (by a load or a failed CAS), which stays there.
 *     Had two slots held fp, the probe that placed it in the later one
 *     would have moved past the earlier one holding fp. (This needs only
 *     the atomicity of the CAS, no ordering.)
 * (b) At most one insert returns 1. Say X and Y both did; X last placed fp
 *     in table A and read A->next as NULL, Y last placed it in table B. By
 *     (a) A != B; say B is newer (else swap the names). Targets only get
 *     newer from one round to the next, so Y had a first round with a
 *     target newer than A. That round's `from` is A or older: Y placed
 *     nothing in A (X did) and its earlier placements were in tables older
 *     than A, and a round that found its target full keeps its `from`. So
 *     that round read A->next (not NULL) in step (1) and then searched A
 *     in step (2).
 *     In S: X's placement < X's load of A->next (program order) < the CAS
 *     that installed A->next (X's load returned NULL) < Y's load of A->next
 *     (it returned the table) < Y's loads of A's slots (program order).
 *     Y's probe of A therefore sees every slot that X saw taken still taken
 *     (slots never empty again), reaches X's slot and finds fp: Y returned
 *     0, a contradiction.
 * (c) At least one returns 1, when none fails with UC_EFULL or UC_ENOMEM.
 *     An insert that returns 0 found fp, so fp was placed. Let N be the
 *     newest table that ever holds fp and P the insert that placed it
 *     there. P then reads N->next: NULL, and P returns 1. Otherwise P's
 *     later rounds search and probe only tables newer than N, which never
 *     hold fp: P cannot return 0 and does not return 1 without placing fp
 *     in a table newer than N, which contradicts the choice of N.
 * (d) An insert that starts after one of fp returned returns 0: it sees
 *     the chain at least as long, and fp in its slot (coherence).
 *
 * Why not weaker orderings: (b) is the store-buffering shape: X stores a
 * slot and then loads A->next, while the installer stores A->next and Y
 * then loads the slot. Release/acquire never orders a thread's store
 * before its own later load of another location (the store may still sit
 * in a store buffer when the load reads), so X's load could return NULL
 * while Y's load of X's slot returns 0, and both would return 1; seq_cst
 * on all of them forbids it. On x86-64 a seq_cst load is a plain load and
 * every CAS is a locked instruction anyway, so this costs nothing there.
 * The next pointers need at least release/acquire in any case: a thread
 * that reads a new table's pointer must see its slots, mask and bounds.
 *
 * Note: an insert may leave fp in an older table as well as in the newest
 * (scenario: P places fp in A, A->next is installed meanwhile, P places it
 * again in A->next). The copy is harmless: lookups stop at the first they
 * meet, and the count goes up only when an insert returns 1.
 *
 * `reserved` and `count` are relaxed: they are counters, not publications.
 * `reserved` bounds a table's fill: each placement holds its own
 * reservation numbered below `hard` (fetch_add gives distinct numbers), so
 * a table has fewer than `hard` slots taken, at least a quarter stay
 * empty, and every probe ends.
 *
 * Progress: no insert waits for another (the one that takes reservation
 * `soft` installs the next table, but the others go on meanwhile, and at
 * `hard` they install it themselves). Each probe ends within one table,
 * and a round that finds its target full, or that placed fp and finds a
 * next table, moves to a newer target; so an insert ends within a bound
 * of steps set by the number of tables (at most 36).
 */

enum { PLACE_FOUND, PLACE_DONE, PLACE_FULL };

static lf_table *table_new(unsigned log2, bool last) {
  lf_table *t = aligned_alloc(alignof(lf_table), sizeof *t);
  if (t == NULL)
    return NULL;
  size_t n = (size_t)1 << log2;
  /* calloc: all-zero bytes are valid empty atomics on every platform we
   * build on (lock-free 64-bit atomics have no hidden lock), and the pages
   * of a large table stay untouched until fingerprints land on them. */
  t->slots = calloc(n, sizeof *t->slots);
  if (t->slots == NULL) {
    free(t);
    return NULL;
  }
  atomic_init(&t->next, NULL);
  t->mask = n - 1;
  t->soft = n / 2;
  /* The last table gets no next to wait for: its soft bound is its hard one. */
  t->hard = last ? t->soft : n / 4 * 3;
  t->log2 = log2;
  atomic_init(&t->reserved, 0);
  return t;
}

static void table_free(lf_table *t) {
  free(t->slots);
  free(t);
}

/* Whether t holds fp: probe from its home to fp or an empty slot; the
 * empty slot's index goes to *empty. */
static bool table_has(lf_table *t, uint64_t fp, size_t *empty) {
  /* The fingerprint is a keyed SipHash: its low bits are uniform. */
  for (size_t i = (size_t)fp & t->mask;; i = (i + 1) & t->mask) {
    uint64_t cur = atomic_load(&t->slots[i]); /* seq_cst: see (b) above */
    if (cur == fp)
      return true;
    if (cur == 0) {
      *empty = i;
      return false;
    }
  }
}

/* Step (3) of a round: place fp in t from slot i on, the first empty slot
 * table_has met (the slots before it hold other fingerprints for good),
 * or find fp there after all, or find t full. */
static int table_place(lf_table *t, uint64_t fp, size_t i) {
  bool reserved = false;
  for (;; i = (i + 1) & t->mask) {
    uint64_t cur = atomic_load(&t->slots[i]); /* seq_cst: see (b) above */
    if (cur == fp)
      return PLACE_FOUND;
    if (cur != 0)
      continue;
    /* fp is absent from t (or being placed right now, which the CAS
     * decides). Reserve room before taking the slot; the reservation
     * numbered `soft` installs the next table, and those above it go on
     * here only until `hard` or until the next table is in (they do not
     * wait for it). */
    if (!reserved) {
      size_t n = atomic_fetch_add_explicit(&t->reserved, 1, memory_order_relaxed);
      if (n == t->soft || n >= t->hard || (n > t->soft && atomic_load(&t->next) != NULL))
        return PLACE_FULL;
      reserved = true;
    }
    uint64_t expected = 0;
    /* seq_cst on success and failure: see (b) above; on failure `expected`
     * holds the slot's value, which is all the probe needs. */
    if (atomic_compare_exchange_strong(&t->slots[i], &expected, fp))
      return PLACE_DONE;
    if (expected == fp)
      return PLACE_FOUND; /* another insert placed it first */
    /* Another fingerprint took the slot: keep probing (and the reservation). */
  }
}

/* Install the table after t unless one is there: 0, UC_EFULL or UC_ENOMEM. */
static int table_grow(const thr_lfset *s, lf_table *t) {
  if (atomic_load(&t->next) != NULL)
    return 0;
  if (t->log2 >= s->max_log2)
    return UC_EFULL;
  lf_table *n = table_new(t->log2 + 1, t->log2 + 1 == s->max_log2);
  if (n == NULL)
    return UC_ENOMEM;
  lf_table *expected = NULL;
  /* seq_cst: see (b) above (it also publishes n's fields). */
  if (!atomic_compare_exchange_strong(&t->next, &expected, n))
    table_free(n); /* another insert installed one first; nobody saw ours */
  return 0;
}

int thr_lfset_new(thr_lfset **out, unsigned log2, unsigned max_log2) {
  if (max_log2 == 0)
    max_log2 = THR_LFSET_MAX_LOG2;
  if (log2 < THR_LFSET_MIN_LOG2 || max_log2 > THR_LFSET_MAX_LOG2 || log2 > max_log2)
    return UC_EINVAL;
  thr_lfset *s = aligned_alloc(alignof(thr_lfset), sizeof *s);
  if (s == NULL)
    return UC_ENOMEM;
  if ((s->first = table_new(log2, log2 == max_log2)) == NULL) {
    free(s);
    return UC_ENOMEM;
  }
  s->max_log2 = max_log2;
  atomic_init(&s->count, 0);
  *out = s;
  return 0;
}

void thr_lfset_free(thr_lfset *s) {
  if (s == NULL)
    return;
  for (lf_table *t = s->first, *next; t != NULL; t = next) {
    next = atomic_load_explicit(&t->next, memory_order_relaxed); /* no thread uses it */
    table_free(t);
  }
  free(s);
}

int thr_lfset_insert(thr_lfset *s, uint64_t fp) {
  fp = uc_seen_fp(fp);
  /* The oldest table not searched since fp was last placed (or ever). */
  lf_table *from = s->first;
  for (;;) {
    /* (1) First the end of the chain, then the search: the order (b)
     * needs. The walk keeps the tables it meets for step (2). */
    lf_table *chain[THR_LFSET_MAX_LOG2 - THR_LFSET_MIN_LOG2 + 1], *target = from, *next;
    size_t older = 0;
    while ((next = atomic_load(&target->next)) != NULL) {
      chain[older++] = target;
      target = next;
    }
    /* (2) */
    size_t empty, unused;
    if (table_has(target, fp, &empty))
      return 0;
    while (older > 0)
      if (table_has(chain[--older], fp, &unused))
        return 0;
    /* (3) */
    int rc = table_place(target, fp, empty);
    if (rc == PLACE_FOUND)
      return 0;
    if (rc == PLACE_FULL) {
      if ((rc = table_grow(s, target)) != 0)
        return rc;
      continue; /* same `from`: the tables searched are searched again, see (b) */
    }
    if ((next = atomic_load(&target->next)) == NULL) {
      atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
      return 1;
    }
    from = next; /* a newer table came in meanwhile: fp must go there too */
  }
}

bool thr_lfset_contains(const thr_lfset *s, uint64_t fp) {
  fp = uc_seen_fp(fp);
  size_t unused;
  for (lf_table *t = s->first; t != NULL; t = atomic_load(&t->next))
    if (table_has(t, fp, &unused))
      return true;
  return false;
}

size_t thr_lfset_count(const thr_lfset *s) {
  /* relaxed: a statistic; exact once the inserting threads are joined
   * (join synchronizes). */
  return atomic_load_explicit(&((thr_lfset *)s)->count, memory_order_relaxed);
}

unsigned thr_lfset_tables(const thr_lfset *s) {
  unsigned n = 0;
  for (lf_table *t = s->first; t != NULL; t = atomic_load(&t->next))
    n++;
  return n;
}
