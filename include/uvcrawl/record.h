/*
 * record - the crawl's output: one JSON object per line (JSON Lines), one
 * line per fetched or failed URL, and the JSON string escaper that the stats
 * writer shares.
 *
 * All functions append to a caller-owned uc_buf and keep no state, so they
 * are safe to call from several threads on different buffers.
 */
#ifndef UVCRAWL_RECORD_H
#define UVCRAWL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uvcrawl/buf.h"

/* The response headers --record-headers keeps: X(index name, header name,
 * record key). */
#define UC_RECORD_HEADERS(X)                          \
  X(LOCATION, "Location", "location")                 \
  X(CONTENT_LENGTH, "Content-Length", "content-length") \
  X(LAST_MODIFIED, "Last-Modified", "last-modified")  \
  X(ETAG, "ETag", "etag")

enum {
#define UC_RECORD_HEADER_ENUM_(name, header, key) UC_RECORD_HEADER_##name,
  UC_RECORD_HEADERS(UC_RECORD_HEADER_ENUM_)
#undef UC_RECORD_HEADER_ENUM_
  UC_RECORD_HEADER_COUNT
};

/** The header name of index i (for curl_easy_header), NULL past the end. */
const char *uc_record_header_name(int i);

/*
 * One crawl record. Every string is borrowed for the duration of
 * uc_record_format and may hold any bytes (invalid UTF-8 is replaced).
 */
typedef struct uc_record {
  const char *url;       /* the URL as queued (normalized) */
  const char *final_url; /* after redirects; NULL -> JSON null */
  int status;            /* HTTP status; 0 -> null (no response) */
  int depth;
  const char *parent;       /* page the link was found on; NULL for seeds -> null */
  const char *content_type; /* NULL -> null */
  uint64_t bytes;           /* body bytes received (decoded) */
  double fetch_ms;          /* wall time from the transfer's start to its end */
  long links;               /* unique links found on the page; -1 -> null (not parsed) */
  long new_links;           /* of those, newly queued; -1 -> null */
  const char *error;        /* short error kind ("timeout", "dns", "robots", ...) or NULL -> null */
  const char *engine;       /* "loop" or "threads" */
  unsigned attempts;        /* 1 for a first try */
  const char *cause;        /* why robots.txt was unreachable ("tls", "http-503"); NULL -> no key */
  bool truncated;           /* the body was cut at --max-body; false -> no key */
  /* --record-headers: UC_RECORD_HEADER_COUNT values, NULL where absent;
   * the array NULL -> no key. */
  const char *const *headers;
  const char *http_version;  /* "1.1", "2", ...; NULL -> no key */
  const char *tls_version;   /* "TLSv1.3", ...; NULL -> no key */
  const char *tls_handshake; /* "full" or "resumed" for a new TLS connection; NULL -> no key */
} uc_record;

/**
 * Append one record as a JSON object followed by '\n'.
 *
 * The URLs (url, final_url, parent) are written with their password
 * masked (uc_json_append_url).
 *
 * Keys, in this order: url, final_url, status, depth, parent, content_type,
 * bytes, fetch_ms, links, new_links, error, engine, attempts, and then, only
 * when it is set, http_version, tls_version, tls_handshake, cause,
 * "truncated":true, and headers (an object of the headers present,
 * by lower-case name: {"content-length":"512","etag":"\"x\""}). fetch_ms has
 * one decimal ("12.3"; independent of the C locale); a non-finite value is
 * null. A NULL url or engine is written as null too. The line never holds a
 * raw control character, so one record is exactly one line.
 *
 * @param out  the buffer to append to (borrowed).
 * @param r    the record (borrowed during the call).
 * @return 0 or UC_ENOMEM; on failure out->len is back to its value before
 *         the call (nothing half-written).
 */
int uc_record_format(uc_buf *out, const uc_record *r);

/**
 * Append `s` as a JSON string literal, quotes included.
 *
 * Escapes '"', '\\', the control characters (\b \f \n \r \t, the others as
 * \u00XX), DEL as \u007f, and U+2028/U+2029 as \u2028/\u2029 (for JavaScript
 * consumers). Valid UTF-8 passes through unchanged; each byte of an invalid
 * sequence (stray continuation byte, overlong form, surrogate, code point
 * above U+10FFFF, truncated sequence, 0xF5..0xFF) becomes \ufffd.
 *
 * @param out  the buffer to append to (borrowed).
 * @param s    the bytes (borrowed during the call; may hold NULs); may be
 *             NULL when len is 0.
 * @param len  number of bytes in s.
 * @return 0 or UC_ENOMEM; on failure out->len is back to its value before
 *         the call.
 */
int uc_json_append_string(uc_buf *out, const char *s, size_t len);

/**
 * As uc_json_append_string with strlen(s); a NULL `s` appends null.
 * @return 0 or UC_ENOMEM (out->len restored on failure).
 */
int uc_json_append_string0(uc_buf *out, const char *s);

/**
 * As uc_json_append_string0 for a URL, with the password of its userinfo
 * (if any) replaced by UC_URL_PASSWORD_MASK: records and traces never
 * show one. @return 0 or UC_ENOMEM (out->len restored on failure).
 */
int uc_json_append_url(uc_buf *out, const char *url);

#endif /* UVCRAWL_RECORD_H */
