/* util.h - growable byte buffer and deterministic hashing for testweb. */
#ifndef TW_UTIL_H
#define TW_UTIL_H

#include <stddef.h>
#include <stdint.h>

/** A growable byte buffer. Zero-initialise; free with tw_buf_free(). */
typedef struct tw_buf {
  char *data;  /* owned; NUL-terminated when len > 0 */
  size_t len;
  size_t cap;
} tw_buf;

/** Append n bytes of p (copied). Aborts on out-of-memory: testweb is a test
 *  tool and a half-built page is worse than a crash. */
void tw_buf_append(tw_buf *b, const void *p, size_t n);
/** Append a NUL-terminated string (copied). */
void tw_buf_puts(tw_buf *b, const char *s);
/** Append printf-formatted text. */
void tw_buf_printf(tw_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Release the storage and reset to empty. */
void tw_buf_free(tw_buf *b);
/** Take ownership of the storage (caller frees with free()); b becomes empty. */
char *tw_buf_steal(tw_buf *b, size_t *len);

/** splitmix64 finaliser: a good 64-bit mixer. */
uint64_t tw_mix64(uint64_t x);
/** Hash of a seed and three integers: the site's only source of randomness. */
uint64_t tw_hash4(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);
/** Hash of a seed, an integer and a string (e.g. host number and path). */
uint64_t tw_hash_str(uint64_t seed, uint64_t a, const char *s);

/** Monotonic clock in microseconds (CLOCK_MONOTONIC). */
uint64_t tw_now_us(void);

#endif
