/*
 * charset - find a page's character encoding and convert it to UTF-8, so
 * that non-ASCII hrefs on a latin-1 or Shift_JIS page resolve to the same
 * percent-encoded URLs a browser would request.
 *
 * The encoding comes from the Content-Type header's charset parameter, else
 * from <meta charset> or <meta http-equiv=Content-Type> in the first 1024
 * bytes (the HTML spec's prescan window), else UTF-8. Pure functions; any
 * thread.
 */
#ifndef UVCRAWL_CHARSET_H
#define UVCRAWL_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

#define UC_CHARSET_PRESCAN 1024

/**
 * The page's declared encoding, lower-cased, into buf ("" when none is
 * declared). @param content_type may be NULL.
 */
void uc_charset_detect(const char *content_type, const char *body, size_t len, char *buf,
                       size_t buflen);

/**
 * Whether the body is parsed as it is, with no conversion: what
 * uc_charset_to_utf8 decides (UTF-8, ASCII, or an unknown label), without
 * converting anything. @param content_type may be NULL.
 */
bool uc_charset_as_is(const char *content_type, const char *body, size_t len);

/**
 * Convert a body to UTF-8 when it declares another encoding.
 * @param out     on 0: NULL when the body is UTF-8 (or ASCII, or of an
 *                unknown encoding: then it is parsed as UTF-8), else a
 *                malloc'd UTF-8 copy (free with free()); undecodable bytes
 *                become U+FFFD.
 * @return 0 or UC_ENOMEM.
 */
int uc_charset_to_utf8(const char *content_type, const char *body, size_t len, char **out,
                       size_t *outlen);

#endif /* UVCRAWL_CHARSET_H */
