/*
 * transfer - what both engines do with a curl easy handle: configure it for
 * one fetch (limits, body sink, header cap, --resolve pins), read the
 * outcome back into a uc_fetch_result, and translate CURLcode values into
 * the crawl's failure kinds. The engines differ only in how the handle
 * runs (a multi on libuv, or curl_easy_perform on a worker) and add their
 * own options after uc_transfer_setup().
 *
 * Engine support, not core: this is where libcurl's easy interface meets
 * the crawl, so that src/core knows nothing of curl but its URL API.
 *
 * A uc_transfer belongs to one fetch at a time; not thread-safe, but each
 * worker or loop transfer has its own.
 */
#ifndef UVCRAWL_FETCH_TRANSFER_H
#define UVCRAWL_FETCH_TRANSFER_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/chunked.h"
#include "uvcrawl/config.h"
#include "uvcrawl/crawl.h"
#include "uvcrawl/trace.h"

#define UC_ADDR_MAX 64 /* addresses as CURLOPT_RESOLVE wants them: IPv6 in brackets,
                          several comma-separated ("[::1],127.0.0.1") */
#define UC_TRANSFER_HOPS 5 /* = CURLOPT_MAXREDIRS: redirects curl follows (robots.txt) */

typedef struct uc_transfer {
  CURL *easy;               /* borrowed, set by uc_transfer_setup */
  const uc_config *cfg;     /* borrowed */
  const uc_fetch *fetch;    /* borrowed: the fetch in progress */
  struct curl_slist *pin;   /* owned: this fetch's CURLOPT_RESOLVE entry */
  struct curl_slist *request_headers; /* owned: --header lines for this fetch */
  uc_buf body;              /* owned: kept up to --max-body while it may be HTML */
  uc_buf headers;           /* owned: --record-headers values, NUL-separated */
  uint64_t bytes;           /* body bytes received, decoded */
  size_t header_bytes;      /* of the current response */
  bool keep_body;
  bool truncated;           /* cut at --max-body (a robots.txt at UC_ROBOTS_MAX_BYTES) */
  bool headers_too_big;     /* cut at UC_MAX_HEADER_BYTES */
  bool out_of_memory;       /* the body could not be kept */
  bool type_rejected;       /* --accept/--reject refused the Content-Type: body not read */
  bool tls_resumed;         /* the TLS session was resumed (read while connected) */
  char tls_version[16];     /* "TLSv1.3" as OpenSSL names it; "" before TLS is seen */
  /* --warc: the exchange as it went over the wire (uc_exchange). curl does
   * not decode the body then (CURLOPT_HTTP_CONTENT_DECODING and
   * CURLOPT_HTTP_TRANSFER_DECODING 0): `raw` keeps it as received, chunk
   * framing and all; `dechunk` takes the framing off and zlib decodes gzip
   * and deflate into `body`, under the same decoded bound as before (a gzip
   * bomb is cut alike). */
  bool capture;
  uc_buf request;           /* owned: request line and headers as sent (the last request) */
  uc_buf response;          /* owned: status line and headers of the current response */
  uc_buf raw;               /* owned: the body as received, up to its bound */
  bool chunked;             /* the response is sent with chunked transfer coding */
  uc_chunked dechunk;       /* its decoder (chunked) */
  z_stream zs;              /* decodes a gzip or deflate body (zs_on) */
  bool zs_on, zs_done;
  bool bad_encoding;        /* the body does not decode */
  bool body_started;        /* write_cb has seen this response's first byte */
  /* --parser libxml2, without --warc: an HTML page's body goes to the
   * extractor as it arrives instead of being held whole (streaming). Its
   * first UC_CHARSET_PRESCAN bytes wait in body until the charset is
   * known: a page in another encoding than UTF-8 is held and converted as
   * before. */
  bool may_stream;          /* a candidate: 2xx text/html page whose links are wanted */
  uc_extractor *extractor;  /* owned: streaming started */
  int64_t wall_ms;          /* when the last request was sent */
  char ip[64];              /* of the connection the last response came on */
  uc_buf uri;               /* owned: the URL of the last request */
  uc_exchange exchange;     /* handed out by uc_transfer_collect */
  /* Redirects curl followed itself (robots.txt): the earlier hops, oldest
   * first, chained to `exchange` through uc_exchange.prev. */
  struct uc_transfer_hop {
    uc_buf request, response, uri; /* owned */
    char ip[64];
    int64_t wall_ms;
    uc_exchange exchange;
  } hops[UC_TRANSFER_HOPS];
  size_t n_hops;
} uc_transfer;

/**
 * The address a --resolve pin gives host:port ("HOST:PORT:ADDR", HOST may
 * be "*.suffix"), IPv6 in brackets, into addr. @return true if one matched.
 */
bool uc_transfer_pin(const uc_config *cfg, const char *host, int port, char addr[UC_ADDR_MAX]);

/**
 * Reset `easy` and configure it for `f`: URL, user agent, timeouts, TLS
 * (--ca-cert, --insecure), HTTP version, --header lines, --proxy,
 * low-speed cut-off, --max-body (a body is cut there, a robots.txt at
 * UC_ROBOTS_MAX_BYTES instead, and what arrived is kept), header cap, encodings, protocols, and
 * redirects (followed only for robots.txt: a page's redirect is a link).
 * @param addr  the address to connect to, handed to curl with
 *              CURLOPT_RESOLVE so that curl does no lookup; NULL to use a
 *              --resolve pin if one matches, else let curl resolve. An
 *              address equal to the host (a literal) adds no pin.
 * @return 0, UC_ENOMEM, or UC_ELIB (this libcurl refused an option: every
 *         fetch would fail the same way, so engines stop the crawl).
 *         `t` must have been zeroed or reset before.
 */
int uc_transfer_setup(uc_transfer *t, CURL *easy, const uc_config *cfg, const uc_fetch *f,
                      const char *addr);

/**
 * Read curl's outcome into `r` (status, content type, effective URL,
 * redirect target, Retry-After, body, failure kind with certificate errors
 * told apart, HTTP and TLS versions, whether a TLS handshake was full or
 * resumed, and with --warc the exchange when a complete response came).
 * Strings in `r` are
 * borrowed from the easy handle and t->body: valid until the handle is
 * reset or cleaned up and until uc_transfer_reset().
 * @param curl_code  the transfer's CURLcode.
 * @param fetch_ms   the wall time the engine measured.
 */
void uc_transfer_collect(uc_transfer *t, CURLcode curl_code, double fetch_ms, uc_fetch_result *r);

/** The failure kind of a libcurl result code (UC_FAIL_NONE for CURLE_OK). */
uc_fail uc_transfer_fail(CURLcode code);

/**
 * The failure kind of a certificate that failed verification
 * (CURLE_PEER_FAILED_VERIFICATION), from OpenSSL's verify result
 * (CURLINFO_SSL_VERIFYRESULT): UC_FAIL_CERT_EXPIRED,
 * UC_FAIL_CERT_UNKNOWN_CA, UC_FAIL_CERT_WRONG_NAME (curl's host name check
 * failed: it leaves the result at 1, "unspecified"; or 0, or OpenSSL's own
 * mismatch codes), else UC_FAIL_TLS.
 */
uc_fail uc_transfer_cert_fail(long verify_result);

/** "1.0", "1.1", "2" or "3" for a CURLINFO_HTTP_VERSION value; NULL for 0 or unknown. */
const char *uc_transfer_http_version(long curl_http_version);

/**
 * A UC_E* code for a curl_easy_setopt / curl_multi_setopt result: 0,
 * UC_ENOMEM, or UC_ELIB for anything else (an option this libcurl lacks).
 */
int uc_transfer_error(CURLcode code);

/**
 * Read curl's phase times (CURLINFO_*_TIME_T, microseconds) of the fetch
 * just done, for --trace. Call before uc_transfer_reset().
 */
void uc_transfer_times(const uc_transfer *t, uc_trace_curl *out);

/**
 * Forget the fetch: free the pin and the body (or keep a small body buffer
 * for the next fetch when keep_buffer is true).
 */
void uc_transfer_reset(uc_transfer *t, bool keep_buffer);

#endif /* UVCRAWL_FETCH_TRANSFER_H */
