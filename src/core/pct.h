/*
 * pct.h - percent-encoding helpers shared by the core modules that
 * normalize it (url, robots). Internal to src/core; not installed.
 */
#ifndef UVCRAWL_CORE_PCT_H
#define UVCRAWL_CORE_PCT_H

#include <stdbool.h>

/* RFC 3986 2.3 unreserved: ALPHA DIGIT - . _ ~ (decoded by normalization). */
static inline bool uc_pct_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

/* The value of a hex digit, or -1. */
static inline int uc_pct_hex_value(unsigned char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

#endif /* UVCRAWL_CORE_PCT_H */
