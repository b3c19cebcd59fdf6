/*
 * visited - the threaded engine's visited set, shared by every worker.
 *
 * Two kinds, same fingerprints (uc_seen_hash with the crawl's key):
 *  - UC_SEEN_MUTEX (default): THR_VISITED_STRIPES uc_seen tables, each
 *    behind its own mutex; a fingerprint's stripe is its top bits, so two
 *    workers contend only when their URLs land in the same stripe. The
 *    tables grow as uc_seen does (no capacity limit).
 *  - UC_SEEN_LOCKFREE: one thr_lfset, inserted with compare-and-swap; it
 *    grows as a chain of tables (see lfset.h), to a bound no real crawl
 *    reaches (UC_EFULL when it would need a table of more than 2^39 slots).
 *
 * Thread-safe: thr_visited_insert* may run on any number of threads.
 */
#ifndef UVCRAWL_THR_VISITED_H
#define UVCRAWL_THR_VISITED_H

#include <stddef.h>
#include <stdint.h>

#include "uvcrawl/config.h" /* uc_seen_kind */

#define THR_VISITED_STRIPES 64

typedef struct thr_visited thr_visited;

/**
 * Create an empty set.
 * @param kind      UC_SEEN_MUTEX or UC_SEEN_LOCKFREE.
 * @param sync      the mutex kind's stripe locks: pthreads' or futex.
 * @param key       the SipHash key (copied).
 * @param lf_log2   lock-free kind: its first table has 2^lf_log2 slots
 *                  (0 = THR_LFSET_DEFAULT_LOG2); it grows from there.
 * @return 0, UC_EINVAL or UC_ENOMEM.
 */
int thr_visited_new(thr_visited **out, uc_seen_kind kind, uc_sync_kind sync, const uint64_t key[2],
                    unsigned lf_log2);

/** Free the set; NULL is a no-op. No thread may use it any more. */
void thr_visited_free(thr_visited *v);

/** The fingerprint of `len` bytes of `url` (borrowed for the call). */
uint64_t thr_visited_hash(const thr_visited *v, const char *url, size_t len);

/** Insert a fingerprint: 1 new, 0 present, UC_ENOMEM or UC_EFULL. */
int thr_visited_insert_hash(thr_visited *v, uint64_t fp);

/**
 * Insert a URL; a uc_visited_fn for uc_crawl_opts.visited.
 * @param ctx  the thr_visited.
 * @return 1 new, 0 present, UC_ENOMEM or UC_EFULL.
 */
int thr_visited_insert(void *ctx, const char *url, size_t len);

#ifdef THR_INVERT_LOCK_ORDER
/**
 * The lock-order checker's test build only (uvcrawl-inverted): call fn(ctx)
 * holding the stripe lock of every insert into the mutex kind, so that
 * the engine can take crawl_lock inside a stripe lock, the inverse of the
 * documented order. Set before any thread inserts.
 */
void thr_visited_set_hook(thr_visited *v, void (*fn)(void *ctx), void *ctx);
#endif

/** Fingerprints in the set (exact when no insert runs). */
size_t thr_visited_count(thr_visited *v);

#endif /* UVCRAWL_THR_VISITED_H */
