/*
 * sink_int.h - helpers the sink backends share, open to unit tests.
 * Not thread-safe unless said; they keep no state.
 */
#ifndef UVCRAWL_SINK_INT_H
#define UVCRAWL_SINK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "uvcrawl/buf.h"

/**
 * Append the SURT form of `url` that pywb keys a CDXJ index with:
 * scheme dropped, host labels reversed and comma-joined ("www" dropped),
 * a port kept unless it is the scheme's default, ")" then the path and
 * query, lower-case, with the query's arguments sorted.
 * ("http://www.Example.com:8080/a?b=1&a=2" -> "com,example:8080)/a?a=2&b=1")
 * @return 0, UC_ENOMEM, or UC_EBADURL (no "scheme://"); out->len is back
 *         to its value on failure.
 */
int uc_surt(const char *url, uc_buf *out);

/**
 * The base32 (RFC 4648, no padding) of a SHA-1 digest: 32 characters and
 * a NUL into `out`.
 */
void uc_base32_sha1(const unsigned char digest[20], char out[33]);

/**
 * A WARC-Date (14-digit "YYYYMMDDhhmmss" when `cdx`, else ISO 8601
 * "YYYY-MM-DDThh:mm:ssZ") of `wall_ms` (ms since the epoch, UTC).
 */
void uc_warc_date(int64_t wall_ms, int cdx, char out[32]);

#endif /* UVCRAWL_SINK_INT_H */
