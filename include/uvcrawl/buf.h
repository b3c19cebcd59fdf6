/*
 * buf - a growable byte buffer.
 *
 * Used to build records and JSON without fixed-size arrays. The buffer is
 * always NUL-terminated after a successful append (data[len] == '\0'), so
 * its contents can be handed to string functions. Not thread-safe.
 */
#ifndef UVCRAWL_BUF_H
#define UVCRAWL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct uc_buf {
  char *data; /* owned; NULL until the first append */
  size_t len; /* bytes used, not counting the terminating NUL */
  size_t cap; /* bytes allocated */
} uc_buf;

/** An empty buffer; needs no allocation. */
#define UC_BUF_INIT {NULL, 0, 0}

/**
 * Make room for at least `extra` more bytes plus the terminating NUL.
 * @return 0 or UC_ENOMEM (the buffer is unchanged on failure).
 */
int uc_buf_reserve(uc_buf *b, size_t extra);

/** Append `len` bytes (copied). @return 0 or UC_ENOMEM. */
int uc_buf_append(uc_buf *b, const void *bytes, size_t len);

/** Append a NUL-terminated string (copied). @return 0 or UC_ENOMEM. */
int uc_buf_puts(uc_buf *b, const char *s);

/** Append printf-formatted text. @return 0, UC_ENOMEM or UC_EINVAL. */
int uc_buf_printf(uc_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** As uc_buf_printf with a va_list. */
int uc_buf_vprintf(uc_buf *b, const char *fmt, va_list ap);

/** Forget the contents but keep the allocation. */
void uc_buf_reset(uc_buf *b);

/**
 * Hand the contents to the caller: returns the NUL-terminated string (owned
 * by the caller, free with free(); NULL if nothing was ever appended) and
 * leaves the buffer empty.
 */
char *uc_buf_steal(uc_buf *b);

/** Free the contents; the buffer is empty and reusable afterwards. */
void uc_buf_free(uc_buf *b);

#endif /* UVCRAWL_BUF_H */
