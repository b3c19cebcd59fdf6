/*
 * lfset - a lock-free set of 64-bit fingerprints (the --seen lockfree
 * visited set).
 *
 * Open addressing with linear probing over a fixed power-of-two array of
 * _Atomic uint64_t slots; 0 marks an empty slot (uc_seen_hash never gives
 * 0). A slot goes from 0 to a fingerprint once, with compare-and-swap, and
 * never changes again: there is no delete and no resize, which is what
 * makes a plain CAS enough (no ABA, no moving entries).
 *
 * Capacity is fixed at creation (THR_LFSET_DEFAULT_LOG2 = 2^22 slots,
 * 32 MiB, zero pages until touched). Inserts fail with UC_EFULL once 90%
 * of the slots are used, before probe chains grow long: at 3.77 million
 * URLs with the default. The engine treats UC_EFULL as fatal (the crawl
 * stops, exit 1); a larger log2 raises it.
 *
 * Thread-safe: insert and contains may run on any number of threads.
 */
#ifndef UVCRAWL_THR_LFSET_H
#define UVCRAWL_THR_LFSET_H

#include <stddef.h>
#include <stdint.h>

#define THR_LFSET_DEFAULT_LOG2 22

typedef struct thr_lfset thr_lfset;

/**
 * Create an empty set of 2^log2 slots.
 * @param out   receives the set (owned by the caller, free with thr_lfset_free).
 * @param log2  4..40.
 * @return 0, UC_EINVAL or UC_ENOMEM.
 */
int thr_lfset_new(thr_lfset **out, unsigned log2);

/** Free the set; NULL is a no-op. No thread may use it any more. */
void thr_lfset_free(thr_lfset *s);

/**
 * Insert a fingerprint if absent (0 is stored as 1, as uc_seen_hash does).
 * Of concurrent inserts of the same fingerprint exactly one returns 1.
 * @return 1 if newly inserted, 0 if present, UC_EFULL (not inserted: the
 *         set is 90% full).
 */
int thr_lfset_insert(thr_lfset *s, uint64_t fp);

/** Number of fingerprints inserted (exact once inserts have stopped). */
size_t thr_lfset_count(const thr_lfset *s);

#endif /* UVCRAWL_THR_LFSET_H */
