/* http.h - a small, strict HTTP/1.x request-head parser.
 *
 * Stateless: call it on the bytes received so far; it reports "need more",
 * a parsed head (and how many bytes it used), or an error. Pure C, no I/O. */
#ifndef TW_HTTP_H
#define TW_HTTP_H

#include <stddef.h>

#define TW_HTTP_TARGET_MAX 2048
#define TW_HTTP_HOST_MAX 256

enum {
  TW_HTTP_EBAD = -1,     /* malformed: answer 400 and close */
  TW_HTTP_ETOOBIG = -2,  /* head larger than the cap: answer 431 and close */
  TW_HTTP_EURI = -3,     /* target longer than TW_HTTP_TARGET_MAX: 414 */
};

typedef enum tw_http_method {
  TW_HTTP_GET,
  TW_HTTP_HEAD,
  TW_HTTP_OTHER /* parsed, answered 405 */
} tw_http_method;

/** A parsed request head; all strings are copies, NUL-terminated. */
typedef struct tw_http_req {
  tw_http_method method;
  int version_minor;           /* 0 or 1 (HTTP/1.x only) */
  char target[TW_HTTP_TARGET_MAX]; /* origin-form path (absolute-form is
                                      reduced to its path) */
  char host[TW_HTTP_HOST_MAX]; /* Host header (or authority of an
                                  absolute-form target); "" if none */
  int keep_alive;              /* after Connection and version defaults */
  int accept_gzip;             /* Accept-Encoding lists gzip */
  long long content_length;    /* request body to discard; 0 if none */
  int chunked;                 /* request body is chunked (unsupported) */
} tw_http_req;

/** Parse the request head at the start of buf[0..len).
 *  Returns the head's length in bytes (> 0) when complete, 0 when more bytes
 *  are needed (and len < max_head), or a negative TW_HTTP_E* code.
 *  buf is borrowed; req is filled only on success. */
int tw_http_parse(const char *buf, size_t len, size_t max_head,
                  tw_http_req *req);

#endif
