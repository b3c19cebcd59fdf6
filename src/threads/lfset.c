/* lfset.c - lock-free fingerprint set: linear probing and CAS (see lfset.h). */
#include "lfset.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "uvcrawl/error.h"

struct thr_lfset {
  size_t mask;             /* slots - 1 */
  size_t limit;            /* inserts allowed: 90% of the slots */
  _Atomic size_t count;    /* fingerprints inserted */
  _Atomic uint64_t *slots; /* 0 = empty; written once, by CAS */
};

/*
 * Memory orderings. The set publishes nothing but the fingerprint itself:
 * no other memory is written before an insert and read after a lookup, so
 * no insert needs to "happen before" anything else, and every operation
 * below is memory_order_relaxed. What makes it correct is atomicity and the
 * per-slot modification order, which every ordering keeps:
 *  - a slot changes once, 0 -> fp, by a CAS; a CAS on a slot that is no
 *    longer 0 fails and returns its current value, so two threads can never
 *    both win the same slot, however stale their earlier loads were;
 *  - a stale relaxed load can only show 0 for a slot that is already taken;
 *    the CAS that follows then fails and shows the real value, so a probe
 *    never skips past a slot holding its own fingerprint;
 *  - slots are never cleared, so the slots before a fingerprint's home stay
 *    taken for everyone: it can be inserted in one slot only.
 * Together: exactly one insert of a fingerprint returns 1.
 * Note: if the set ever carried a value beside the key (a pointer to a URL
 * record), the winning CAS would need memory_order_release and the loads
 * memory_order_acquire, so that a reader sees the value's contents.
 */

int thr_lfset_new(thr_lfset **out, unsigned log2) {
  if (log2 < 4 || log2 > 40)
    return UC_EINVAL;
  thr_lfset *s = calloc(1, sizeof *s);
  if (s == NULL)
    return UC_ENOMEM;
  size_t n = (size_t)1 << log2;
  /* calloc: all-zero bytes are valid empty atomics on every platform we
   * build on (lock-free 64-bit atomics have no hidden lock). */
  s->slots = calloc(n, sizeof *s->slots);
  if (s->slots == NULL) {
    free(s);
    return UC_ENOMEM;
  }
  s->mask = n - 1;
  s->limit = n * 9 / 10; /* log2 <= 40: no overflow */
  atomic_init(&s->count, 0);
  *out = s;
  return 0;
}

void thr_lfset_free(thr_lfset *s) {
  if (s == NULL)
    return;
  free(s->slots);
  free(s);
}

int thr_lfset_insert(thr_lfset *s, uint64_t fp) {
  if (fp == 0)
    fp = 1;
  /* The fingerprint is a keyed SipHash: its low bits are uniform. */
  for (size_t i = (size_t)fp & s->mask;; i = (i + 1) & s->mask) {
    /* relaxed: see the note on orderings above; a stale 0 is settled by
     * the CAS below. */
    uint64_t cur = atomic_load_explicit(&s->slots[i], memory_order_relaxed);
    if (cur == fp)
      return 0;
    if (cur != 0)
      continue;
    /* An empty slot ends the probe: the fingerprint is absent (or being
     * inserted right now, which the CAS decides). The limit is checked
     * here so that a present fingerprint is still found in a full set.
     * relaxed: the count is a bound, not a publication; it may overshoot
     * the limit by at most one insert per thread, and 10% of the slots
     * stay free for that. */
    if (atomic_load_explicit(&s->count, memory_order_relaxed) >= s->limit)
      return UC_EFULL;
    uint64_t expected = 0;
    /* relaxed on success and failure: the slot's modification order alone
     * decides the winner, and on failure `expected` holds the slot's
     * current value, which is all the probe needs. */
    if (atomic_compare_exchange_strong_explicit(&s->slots[i], &expected, fp, memory_order_relaxed,
                                                memory_order_relaxed)) {
      atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
      return 1;
    }
    if (expected == fp)
      return 0; /* another thread inserted it first */
    /* Another fingerprint took the slot: keep probing. */
  }
}

size_t thr_lfset_count(const thr_lfset *s) {
  /* relaxed: a statistic; exact once the inserting threads are joined
   * (join synchronizes). */
  return atomic_load_explicit(&((thr_lfset *)s)->count, memory_order_relaxed);
}
