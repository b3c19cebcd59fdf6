/*
 * lfset - a lock-free set of 64-bit fingerprints that grows (the --seen
 * lockfree visited set).
 *
 * A chain of open-addressing tables with linear probing, each twice the
 * size of the one before it; a slot is an _Atomic uint64_t and 0 marks it
 * empty (uc_seen_hash never gives 0). A slot goes from 0 to a fingerprint
 * once, by compare-and-swap, and never changes again; a table's `next`
 * pointer goes from NULL to the next table once, by compare-and-swap.
 * Nothing is ever moved, deleted or freed before thr_lfset_free, so there
 * is no ABA and no reclamation problem. An insert searches every table and
 * adds to the newest; lfset.c argues why exactly one of concurrent inserts
 * of a fingerprint returns 1.
 *
 * Growth: when the newest table has half of its slots taken, the next one
 * (twice as large) is installed and takes the new fingerprints. Growth
 * stops at a table of 2^max_log2 slots (THR_LFSET_MAX_LOG2 = 39, so fewer
 * than 2^40 slots in all: 8 TiB, far beyond any real memory); an insert
 * that needs a table past it fails with UC_EFULL.
 *
 * Memory: 8 bytes a slot, and the tables together have about twice the
 * slots of the newest, so 16 to 32 bytes a fingerprint once it has grown
 * (the newest table's load is between 0 and 1/2, the older ones' 1/2).
 * The engine starts at THR_LFSET_DEFAULT_LOG2 = 2^16 slots (512 KiB); at
 * 4 million URLs the chain is the 7 tables of 2^16 .. 2^22 slots, 63.5 MiB
 * (16.6 bytes a URL). calloc'd: a table's pages are touched as it fills.
 * A failed allocation of a new table fails the insert with UC_ENOMEM.
 *
 * Cost: an insert of a new fingerprint probes every table (a few slots in
 * each, mostly one cache line), so one more table to probe per doubling.
 *
 * Thread-safe: insert, contains, count and tables may run on any number of
 * threads at once; _new and _free not.
 */
#ifndef UVCRAWL_THR_LFSET_H
#define UVCRAWL_THR_LFSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THR_LFSET_MIN_LOG2 4
#define THR_LFSET_DEFAULT_LOG2 16
#define THR_LFSET_MAX_LOG2 39

typedef struct thr_lfset thr_lfset;

/**
 * Create an empty set whose first table has 2^log2 slots.
 * @param out       receives the set (owned by the caller, free with
 *                  thr_lfset_free).
 * @param log2      THR_LFSET_MIN_LOG2 .. THR_LFSET_MAX_LOG2.
 * @param max_log2  the largest table it may grow to: log2 ..
 *                  THR_LFSET_MAX_LOG2, or 0 for THR_LFSET_MAX_LOG2.
 * @return 0, UC_EINVAL or UC_ENOMEM.
 */
int thr_lfset_new(thr_lfset **out, unsigned log2, unsigned max_log2);

/** Free the set; NULL is a no-op. No thread may use it any more. */
void thr_lfset_free(thr_lfset *s);

/**
 * Insert a fingerprint if absent (0 is stored as 1, as uc_seen_hash does).
 * Of concurrent inserts of the same fingerprint exactly one returns 1, and
 * an insert that starts after one of them returned returns 0.
 * @return 1 if newly inserted, 0 if present, UC_EFULL (not inserted: the
 *         set would need a table larger than 2^max_log2 slots) or UC_ENOMEM
 *         (not inserted: a new table could not be allocated).
 */
int thr_lfset_insert(thr_lfset *s, uint64_t fp);

/** Whether the fingerprint is in the set (0 is looked up as 1). */
bool thr_lfset_contains(const thr_lfset *s, uint64_t fp);

/** Number of fingerprints inserted (exact once inserts have stopped). */
size_t thr_lfset_count(const thr_lfset *s);

/** Number of tables in the chain: 1 + the times the set has grown. */
unsigned thr_lfset_tables(const thr_lfset *s);

#endif /* UVCRAWL_THR_LFSET_H */
