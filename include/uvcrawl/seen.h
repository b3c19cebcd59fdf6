/*
 * seen - the visited set of normalized URLs.
 *
 * The set stores a keyed 64-bit fingerprint (SipHash-2-4) of each URL, not
 * the URL itself, in an open-addressing table with linear probing over a
 * power-of-two array of uint64_t slots (0 marks an empty slot, so no
 * fingerprint is ever 0). The table doubles when an insert would take the
 * load above 3/4, so the load stays in (3/8, 3/4] once the table has grown.
 *
 * Memory: 8 bytes a slot, so 8/load bytes a URL: between 10.7 and 21.3
 * bytes a URL in steady state (lower if the `expected` hint was right).
 * At 10 million URLs the table has 2^24 slots (load 0.60): 134,217,728 bytes,
 * 13.4 bytes a URL. Measured by tests/bench/bench_seen.c (10^7 URLs, no
 * sizing hint): 13.42 B/URL from uc_seen_memory(), 13.46 B/URL from the
 * process's RSS growth. While the table doubles, the old and new arrays
 * are both allocated for a moment (1.5x the new size).
 *
 * Collisions: two distinct URLs share a 64-bit fingerprint with probability
 * about n^2 / 2^65 for n URLs in the set:
 *     n = 10^6  ->  2.7e-8
 *     n = 10^7  ->  2.7e-6
 *     n = 10^8  ->  2.7e-4
 * When it happens, the second URL is wrongly treated as already seen and is
 * skipped: a URL is never fetched twice, but one may be missed. With a
 * random key (engines pass one) an outsider cannot craft colliding URLs.
 *
 * Not thread-safe: the threaded engine locks around it (or uses its own
 * lock-free set built on uc_seen_hash()).
 */
#ifndef UVCRAWL_SEEN_H
#define UVCRAWL_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct uc_seen uc_seen;

typedef struct uc_seen_opts {
  size_t expected; /* initial sizing hint in URLs, 0 = small */
  uint64_t key[2]; /* SipHash-2-4 key; all-zero is allowed (deterministic).
                      Engines pass a random key. */
} uc_seen_opts;

/**
 * SipHash-2-4 (Aumasson and Bernstein, 2012) of `len` bytes.
 * @param key    the 128-bit key as two little-endian halves: key[0] is k0
 *               (bytes 0..7 of the paper's key), key[1] is k1 (bytes 8..15).
 * @param bytes  borrowed for the call; may be NULL when len is 0.
 * @return       the 64-bit hash (may be 0). Pure function, thread-safe.
 */
uint64_t uc_siphash24(const uint64_t key[2], const void *bytes, size_t len);

/**
 * Create an empty set.
 * @param out  receives the set (owned by the caller, free with uc_seen_free).
 * @param o    copied; NULL means expected = 0 and an all-zero key.
 * @return     0 or UC_ENOMEM.
 */
int uc_seen_new(uc_seen **out, const uc_seen_opts *o);

/** Free the set; NULL is a no-op. */
void uc_seen_free(uc_seen *s);

/** A hash as a fingerprint: 0 marks an empty slot, so it becomes 1. The
 * one place that rule lives (uc_seen_hash, uc_seen_insert_hash and the
 * threads engine's lock-free set use it). */
static inline uint64_t uc_seen_fp(uint64_t hash) { return hash != 0 ? hash : 1; }

/**
 * The keyed 64-bit fingerprint the set uses for `bytes`: SipHash-2-4 with
 * the set's key, as uc_seen_fp() makes it (never 0). Exported so that the
 * threaded engine's lock-free set stores the same fingerprints.
 * Thread-safe (reads only the key).
 */
uint64_t uc_seen_hash(const uc_seen *s, const void *bytes, size_t len);

/**
 * Insert a URL if absent.
 * @param url  borrowed for the call (only its fingerprint is kept).
 * @return     1 if newly inserted, 0 if already present, UC_ENOMEM (the set
 *             is unchanged).
 */
int uc_seen_insert(uc_seen *s, const char *url, size_t len);

/**
 * Insert a fingerprint (from uc_seen_hash) if absent. A fingerprint of 0 is
 * stored as 1, as uc_seen_hash does.
 * @return 1 if newly inserted, 0 if already present, UC_ENOMEM.
 */
int uc_seen_insert_hash(uc_seen *s, uint64_t fp);

/** Whether the URL's fingerprint is in the set. `url` borrowed for the call. */
bool uc_seen_contains(const uc_seen *s, const char *url, size_t len);

/** Number of distinct fingerprints in the set. */
size_t uc_seen_count(const uc_seen *s);

/** Bytes allocated by the set (the slot array plus the set's struct). */
size_t uc_seen_memory(const uc_seen *s);

#endif /* UVCRAWL_SEEN_H */
