/* transfer.c - one fetch on a curl easy handle, for both engines (see transfer.h). */
#include "transfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "uvcrawl/charset.h"
#include "uvcrawl/error.h"
#include "uvcrawl/extract.h"
#include "uvcrawl/policy.h"
#include "uvcrawl/robots.h"
#include "uvcrawl/sitemap.h"

#define KEEP_BUFFER_MAX (1u << 20) /* a reused body buffer is kept up to this size */

/* Above this -c, curl's receive buffer is SMALL_RECV_BUFFER bytes instead
 * of its 16 KB: at thousands in flight that buffer (one per easy handle)
 * is most of a transfer's memory, and a smaller one costs only a few more
 * reads of a large body (docs/benchmarks.md, issue 13: memory per
 * transfer at 10,000 in flight). */
#define SMALL_RECV_ABOVE 1000u
#define SMALL_RECV_BUFFER 4096L

#if LIBCURL_VERSION_NUM >= 0x080600
#define TOO_LARGE CURLE_TOO_LARGE
#else
#define TOO_LARGE CURLE_OUT_OF_MEMORY /* what curl said before 8.6 */
#endif

bool uc_transfer_pin(const uc_config *cfg, const char *host, int port, char addr[UC_ADDR_MAX]) {
  for (size_t i = 0; i < cfg->n_resolve; i++) {
    const char *pin = cfg->resolve[i];
    const char *c1 = strchr(pin, ':');
    const char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL || atoi(c1 + 1) != port)
      continue;
    size_t hlen = (size_t)(c1 - pin), len = strlen(host);
    bool match;
    if (hlen > 2 && pin[0] == '*' && pin[1] == '.')
      match = len > hlen - 1 && strncasecmp(host + len - (hlen - 1), pin + 1, hlen - 1) == 0;
    else
      match = len == hlen && strncasecmp(host, pin, hlen) == 0;
    if (match) {
      const char *a = c2 + 1;
      bool v6 = strchr(a, ':') != NULL && a[0] != '[';
      snprintf(addr, UC_ADDR_MAX, v6 ? "[%s]" : "%s", a);
      return true;
    }
  }
  return false;
}

static bool may_be_html(const char *ct) {
  return ct == NULL || *ct == '\0' || strncasecmp(ct, "text/html", 9) == 0 ||
         strncasecmp(ct, "application/xhtml+xml", 21) == 0;
}

/* --accept/--reject by Content-Type, for a 2xx response (a redirect's or
 * an error page's type says nothing of the page). */
static bool type_wanted(uc_transfer *t) {
  long status = 0;
  const char *ct = NULL;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct);
  return status < 200 || status > 299 || uc_policy_type_ok(t->cfg, ct);
}

/* The bound of this fetch's body (see write_cb). */
static uint64_t body_bound(const uc_transfer *t) {
  if (t->fetch->item.kind == UC_KIND_ROBOTS)
    return UC_ROBOTS_MAX_BYTES;
  if (UC_KIND_OF(t->fetch->item.kind) == UC_KIND_SITEMAP)
    return UC_SITEMAP_MAX_BYTES;
  return t->cfg->max_body;
}

/* Whether this response's body may be fed to the extractor as it arrives
 * (transfer.h): --parser libxml2, a page (not robots.txt or a sitemap)
 * with a 2xx status and an HTML Content-Type (not sniffed), at a depth
 * whose links are wanted; the same conditions as uc_crawl_wants_parse(). */
static bool stream_wanted(const uc_transfer *t, const char *ct) {
  long status = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  const uc_fetch *f = t->fetch;
  return t->cfg->parser == UC_PARSER_LIBXML2 && f->item.kind == UC_KIND_PAGE && status >= 200 &&
         status < 300 && ct != NULL && *ct != '\0' && may_be_html(ct) &&
         (t->cfg->depth < 0 || f->item.depth < t->cfg->depth);
}

/*
 * The first bytes of a candidate page are here (or its whole body): stream
 * it if it is parsed as it is (uc_charset_as_is: the same decision as the
 * parse of a held body, made on the prescan window), feed what is held and
 * hold no more. Another encoding: hold the body whole. False when out of
 * memory.
 */
static bool start_stream(uc_transfer *t) {
  const char *ct = NULL;
  t->may_stream = false;
  curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct);
  if (!uc_charset_as_is(ct, t->body.data, t->body.len))
    return true;
  uc_extract_opts o = {.parser = UC_PARSER_LIBXML2};
  if (uc_extractor_new(&t->extractor, t->fetch->item.url, &o) == UC_ENOMEM)
    return false; /* Note: a bad URL (never queued) falls back to holding */
  if (t->extractor != NULL) {
    uc_extractor_feed(t->extractor, t->body.data, t->body.len); /* errors: at finish */
    uc_buf_free(&t->body); /* the point: no body held per transfer */
    t->keep_body = false;
  }
  return true;
}

/* Keep or stream `part` bytes of a page's body. False: out of memory. */
static bool take_body(uc_transfer *t, const char *data, size_t part) {
  if (t->extractor != NULL) {
    uc_extractor_feed(t->extractor, data, part);
    return true;
  }
  if (t->keep_body && uc_buf_append(&t->body, data, part) != 0)
    return false;
  return !t->may_stream || t->body.len < UC_CHARSET_PRESCAN || start_stream(t);
}

/* CURLOPT_WRITEFUNCTION: keep the body while it may be parsed, and cut it
 * at its bound: --max-body for a page, UC_ROBOTS_MAX_BYTES for a robots.txt
 * whatever --max-body says (RFC 9309 2.5). What arrived up to the bound is
 * kept and parsed, the rest is not read (a sitemap's bound is the
 * protocol's 50 MB); the bytes counted are decoded
 * ones, so a gzip bomb is cut like an endless body. Returning less than n
 * makes curl end the transfer. */
static size_t capture_write(uc_transfer *t, const char *data, size_t n, uint64_t bound);

static size_t write_cb(char *data, size_t size, size_t n, void *userp) {
  uc_transfer *t = userp;
  bool robots = t->fetch->item.kind == UC_KIND_ROBOTS;
  bool sitemap = UC_KIND_OF(t->fetch->item.kind) == UC_KIND_SITEMAP;
  uint64_t bound = body_bound(t);
  n *= size;
  if (t->capture)
    return capture_write(t, data, n, bound);
  if (t->bytes == 0 && t->body.len == 0) {
    const char *ct = NULL;
    curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct);
    t->keep_body = robots || sitemap || may_be_html(ct);
    t->may_stream = t->keep_body && stream_wanted(t, ct);
    if (!robots && !sitemap && !type_wanted(t)) {
      t->type_rejected = true; /* --accept/--reject: stop before the body */
      return 0;
    }
  }
  size_t part = t->bytes + n > bound ? (size_t)(bound - t->bytes) : n;
  if (!take_body(t, data, part)) {
    t->out_of_memory = true;
    return 0;
  }
  t->bytes += part;
  if (part < n) {
    t->truncated = true;
    return 0;
  }
  return n;
}

/* The TLS version and resumption of the connection in use. Note: curl
 * hands out the SSL pointer only while the transfer owns its connection;
 * after the transfer the connection sits in the cache and getinfo says
 * nothing, so this runs from header_cb. A CONNECT through a proxy answers
 * before the TLS connection exists: then there is no SSL yet and the next
 * status line tries again. */
static void read_tls(uc_transfer *t) {
  struct curl_tlssessioninfo *info = NULL;
  if (t->tls_version[0] != '\0' ||
      curl_easy_getinfo(t->easy, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || info == NULL ||
      info->backend != CURLSSLBACKEND_OPENSSL || info->internals == NULL)
    return;
  SSL *ssl = info->internals;
  snprintf(t->tls_version, sizeof t->tls_version, "%s", SSL_get_version(ssl));
  t->tls_resumed = SSL_session_reused(ssl) == 1;
}

/* Keep decoded bytes of the body, under the same bound as without
 * --warc: false when the bound cut them. */
static bool keep_decoded(uc_transfer *t, const char *data, size_t n, uint64_t bound) {
  size_t part = t->bytes + n > bound ? (size_t)(bound - t->bytes) : n;
  if (t->keep_body && uc_buf_append(&t->body, data, part) != 0) {
    t->out_of_memory = true;
    return false;
  }
  t->bytes += part;
  if (part < n)
    t->truncated = true;
  return part == n;
}

/* The body starts: is it wanted, is it kept for the parser, and how is it
 * encoded? False: --accept/--reject refused it, as without --warc. */
static bool capture_start(uc_transfer *t) {
  const char *ct = NULL;
  curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct);
  bool robots = t->fetch->item.kind == UC_KIND_ROBOTS;
  bool sitemap = UC_KIND_OF(t->fetch->item.kind) == UC_KIND_SITEMAP;
  t->keep_body = robots || sitemap || may_be_html(ct);
  t->body_started = true;
  if (!robots && !sitemap && !type_wanted(t)) {
    t->type_rejected = true;
    return false;
  }
  t->chunked = uc_chunked_in_headers(t->response.data, t->response.len);
  t->dechunk = (uc_chunked)UC_CHUNKED_INIT;
  struct curl_header *h = NULL;
  if (curl_easy_header(t->easy, "Content-Encoding", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
    return true;
  const char *v = h->value;
  v += strspn(v, " \t");
  if (strncasecmp(v, "gzip", 4) == 0 || strncasecmp(v, "x-gzip", 6) == 0 ||
      strncasecmp(v, "deflate", 7) == 0) {
    memset(&t->zs, 0, sizeof t->zs);
    /* 32 + 15: zlib tells gzip from zlib-wrapped deflate by the header. */
    if (inflateInit2(&t->zs, 32 + 15) == Z_OK)
      t->zs_on = true;
    else
      t->out_of_memory = true;
  }
  return true;
}

/* The entity-body's bytes (chunk framing taken off): decode a gzip or
 * deflate body for the parser and the decoded byte count. False when the
 * bound cut them or they do not decode: the transfer ends. */
static bool decode_entity(uc_transfer *t, const char *data, size_t n) {
  uint64_t bound = body_bound(t);
  if (!t->zs_on)
    return keep_decoded(t, data, n, bound);
  if (t->zs_done)
    return true;
  char out[16384];
  t->zs.next_in = (Bytef *)(uintptr_t)data;
  t->zs.avail_in = (uInt)n;
  /* Note: a full output buffer may leave output pending in zlib with no
   * input left: go on until a pass leaves room, or the end of this part's
   * decoded bytes would come only with the next part. */
  do {
    t->zs.next_out = (Bytef *)out;
    t->zs.avail_out = sizeof out;
    int zrc = inflate(&t->zs, Z_NO_FLUSH);
    if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) {
      t->bad_encoding = true; /* curl says CURLE_BAD_CONTENT_ENCODING */
      return false;
    }
    t->zs_done = zrc == Z_STREAM_END;
    if (!keep_decoded(t, out, sizeof out - t->zs.avail_out, bound))
      return false; /* the decoded bound: a gzip bomb stops here */
    if (zrc == Z_BUF_ERROR)
      break; /* no progress possible: more input needed */
  } while (!t->zs_done && (t->zs.avail_in > 0 || t->zs.avail_out == 0));
  return true;
}

static bool entity_cb(void *userp, const char *data, size_t n) {
  return decode_entity(userp, data, n);
}

/* write_cb with --warc: keep the raw bytes up to the bound, and decode
 * them for the parser (and the decoded byte count). */
static size_t capture_write(uc_transfer *t, const char *data, size_t n, uint64_t bound) {
  if (!t->body_started && !capture_start(t))
    return 0;
  if (t->out_of_memory)
    return 0;
  size_t part = t->raw.len + n > bound ? (size_t)(bound - t->raw.len) : n;
  if (uc_buf_append(&t->raw, data, part) != 0) {
    t->out_of_memory = true;
    return 0;
  }
  /* Note: broken chunk framing stops the decoding only; curl, which reads
   * the framing too, says how the transfer ends. */
  bool go_on = t->chunked ? uc_chunked_feed(&t->dechunk, data, part, entity_cb, t)
                          : decode_entity(t, data, part);
  if (!go_on)
    return 0;
  if (part < n) {
    t->truncated = true;
    return 0;
  }
  return n;
}

/* CURLOPT_HEADERFUNCTION: cap the headers of one response; a server that
 * sends endless headers is cut off like an endless body. With --warc, keep
 * the last response's status line and headers as received. */
static size_t header_cb(char *data, size_t size, size_t n, void *userp) {
  uc_transfer *t = userp;
  n *= size;
  bool first = n > 5 && memcmp(data, "HTTP/", 5) == 0;
  if (first) {
    t->header_bytes = 0; /* a new response (after a 1xx or a redirect) */
    read_tls(t);
  }
  t->header_bytes += n;
  if (t->header_bytes > UC_MAX_HEADER_BYTES) {
    t->headers_too_big = true;
    return 0;
  }
  if (t->capture) {
    if (first) {
      char *ip = NULL;
      uc_buf_reset(&t->response);
      t->ip[0] = '\0';
      if (curl_easy_getinfo(t->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != NULL)
        snprintf(t->ip, sizeof t->ip, "%s", ip);
    }
    if (uc_buf_append(&t->response, data, n) != 0) {
      t->out_of_memory = true;
      return 0;
    }
  }
  return n;
}

/* The status code of a status line ("HTTP/1.1 301 Moved"), 0 if none. */
static int status_of(const uc_buf *head) {
  const char *sp = head->data != NULL ? memchr(head->data, ' ', head->len) : NULL;
  return sp != NULL ? atoi(sp + 1) : 0;
}

/* Whether a response's headers announce a body (a hop's was not kept). */
static bool announces_body(const uc_buf *head) {
  for (const char *p = head->data; p != NULL && (p = strchr(p, '\n')) != NULL;) {
    p++;
    if (strncasecmp(p, "Transfer-Encoding:", 18) == 0)
      return true;
    if (strncasecmp(p, "Content-Length:", 15) == 0)
      return strtoull(p + 15, NULL, 10) > 0;
  }
  return false;
}

/* A redirect curl followed: keep the exchange that ended (no body). */
static void keep_hop(uc_transfer *t) {
  if (t->response.len == 0 || t->n_hops == UC_TRANSFER_HOPS)
    return;
  struct uc_transfer_hop *h = &t->hops[t->n_hops];
  uc_buf_reset(&h->request);
  uc_buf_reset(&h->response);
  uc_buf_reset(&h->uri);
  if (uc_buf_append(&h->request, t->request.data, t->request.len) != 0 ||
      uc_buf_append(&h->response, t->response.data, t->response.len) != 0 ||
      uc_buf_puts(&h->uri, t->uri.data != NULL ? t->uri.data : "") != 0) {
    t->out_of_memory = true;
    return;
  }
  memcpy(h->ip, t->ip, sizeof h->ip);
  h->wall_ms = t->wall_ms;
  t->n_hops++;
}

/* CURLOPT_DEBUGFUNCTION with --warc: the request headers as sent. A new
 * request (a redirect robots.txt follows) starts after a complete one. */
static int debug_cb(CURL *e, curl_infotype type, char *data, size_t n, void *userp) {
  (void)e;
  uc_transfer *t = userp;
  if (type != CURLINFO_HEADER_OUT)
    return 0;
  if (t->request.len >= 4 && memcmp(t->request.data + t->request.len - 4, "\r\n\r\n", 4) == 0) {
    keep_hop(t); /* curl follows a redirect: the exchange before is complete */
    uc_buf_reset(&t->request);
    uc_buf_reset(&t->response);
  }
  if (t->request.len == 0) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    t->wall_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    char *url = NULL;
    uc_buf_reset(&t->uri);
    if (curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url != NULL &&
        uc_buf_puts(&t->uri, url) != 0)
      t->out_of_memory = true;
  }
  if (uc_buf_append(&t->request, data, n) != 0)
    t->out_of_memory = true;
  return 0;
}

int uc_transfer_error(CURLcode code) {
  return code == CURLE_OK ? 0 : code == CURLE_OUT_OF_MEMORY ? UC_ENOMEM : UC_ELIB;
}

/* The options of one fetch; the first one curl refuses ends the list. */
static CURLcode set_options(uc_transfer *t, CURL *e, const uc_config *cfg, const uc_fetch *f) {
  bool robots = f->item.kind == UC_KIND_ROBOTS;
  CURLcode rc = curl_easy_setopt(e, CURLOPT_URL, f->item.url);
#define SET(opt, value) \
  if (rc == CURLE_OK)   \
  rc = curl_easy_setopt(e, opt, value)
  if (t->pin != NULL)
    SET(CURLOPT_RESOLVE, t->pin); /* curl does no lookup */
  SET(CURLOPT_WRITEFUNCTION, write_cb);
  SET(CURLOPT_WRITEDATA, t);
  SET(CURLOPT_HEADERFUNCTION, header_cb);
  SET(CURLOPT_HEADERDATA, t);
  SET(CURLOPT_USERAGENT, cfg->user_agent);
  SET(CURLOPT_NOSIGNAL, 1L);
  if (cfg->concurrency > SMALL_RECV_ABOVE)
    SET(CURLOPT_BUFFERSIZE, SMALL_RECV_BUFFER);
  if (t->capture) {
    /* The body is archived as sent: curl passes it on undecoded, and we
     * ask only for what zlib decodes for the parser. */
    SET(CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
    SET(CURLOPT_HTTP_CONTENT_DECODING, 0L);
    SET(CURLOPT_HTTP_TRANSFER_DECODING, 0L); /* chunk framing too */
    SET(CURLOPT_DEBUGFUNCTION, debug_cb);
    SET(CURLOPT_DEBUGDATA, t);
    SET(CURLOPT_VERBOSE, 1L); /* or the debug function is never called */
  } else {
    SET(CURLOPT_ACCEPT_ENCODING, ""); /* all curl decodes: gzip, br, zstd */
  }
  SET(CURLOPT_TIMEOUT_MS, (long)(cfg->timeout_s * 1000));
  SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(cfg->connect_timeout_s * 1000));
  SET(CURLOPT_LOW_SPEED_LIMIT, (long)UC_LOW_SPEED_BYTES);
  SET(CURLOPT_LOW_SPEED_TIME, (long)UC_LOW_SPEED_SECONDS);
  /* Note: no CURLOPT_MAXFILESIZE: it would refuse a Content-Length above
   * --max-body before any byte, where write_cb cuts every body alike. */
  SET(CURLOPT_PROTOCOLS_STR, "http,https"); /* libcurl >= 7.85 */
  SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  /* Pages: a redirect is a link, deduped and gated like one. robots.txt:
   * RFC 9309 asks crawlers to follow at least five redirects. */
  SET(CURLOPT_FOLLOWLOCATION, robots ? 1L : 0L);
  SET(CURLOPT_MAXREDIRS, 5L);
  /* TLS and HTTP version. The default lets ALPN choose (HTTP/2 or 1.1). */
  if (cfg->ca_cert != NULL)
    SET(CURLOPT_CAINFO, cfg->ca_cert);
  if (cfg->insecure) {
    SET(CURLOPT_SSL_VERIFYPEER, 0L);
    SET(CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (cfg->http_version != UC_HTTP_AUTO)
    SET(CURLOPT_HTTP_VERSION, cfg->http_version == UC_HTTP_1_1 ? (long)CURL_HTTP_VERSION_1_1
                                                               : (long)CURL_HTTP_VERSION_2_0);
  if (t->request_headers != NULL)
    SET(CURLOPT_HTTPHEADER, t->request_headers);
  if (cfg->proxy != NULL)
    SET(CURLOPT_PROXY, cfg->proxy);
#undef SET
  return rc;
}

int uc_transfer_setup(uc_transfer *t, CURL *e, const uc_config *cfg, const uc_fetch *f,
                      const char *addr) {
  t->easy = e;
  t->cfg = cfg;
  t->fetch = f;
  t->capture = cfg->warc_prefix != NULL;
  char pinned[UC_ADDR_MAX];
  if (addr == NULL && uc_transfer_pin(cfg, f->host, f->port, pinned))
    addr = pinned;
  /* An address equal to the host is a literal: curl needs no pin for it. */
  if (addr != NULL && strcmp(addr, f->host) != 0) {
    char entry[sizeof f->host + UC_ADDR_MAX + 16];
    snprintf(entry, sizeof entry, "%s:%d:%s", f->host, f->port, addr);
    if ((t->pin = curl_slist_append(NULL, entry)) == NULL)
      return UC_ENOMEM;
  }
  for (size_t i = 0; i < cfg->n_headers; i++) {
    struct curl_slist *grown = curl_slist_append(t->request_headers, cfg->headers[i]);
    if (grown == NULL)
      return UC_ENOMEM;
    t->request_headers = grown;
  }
  curl_easy_reset(e); /* keeps the handle's connections and caches */
  return uc_transfer_error(set_options(t, e, cfg, f));
}

/* --record-headers: copy the final response's few headers, since curl's
 * struct curl_header is valid only until its next call. Out of memory
 * drops them (the record is still written). */
static void keep_headers(uc_transfer *t, uc_fetch_result *r) {
  size_t at[UC_RECORD_HEADER_COUNT];
  bool found[UC_RECORD_HEADER_COUNT];
  int rc = 0;
  uc_buf_reset(&t->headers);
  for (int i = 0; i < UC_RECORD_HEADER_COUNT; i++) {
    struct curl_header *h = NULL;
    found[i] = rc == 0 && curl_easy_header(t->easy, uc_record_header_name(i), 0, CURLH_HEADER,
                                           -1, &h) == CURLHE_OK;
    if (found[i]) {
      at[i] = t->headers.len;
      rc = uc_buf_append(&t->headers, h->value, strlen(h->value) + 1);
    }
  }
  for (int i = 0; rc == 0 && i < UC_RECORD_HEADER_COUNT; i++)
    r->headers[i] = found[i] ? t->headers.data + at[i] : NULL;
}

/* --warc: the exchange of a complete response, for the sinks. */
static void keep_exchange(uc_transfer *t, uc_fetch_result *r) {
  const uc_exchange *prev = NULL;
  for (size_t i = 0; i < t->n_hops; i++) {
    struct uc_transfer_hop *h = &t->hops[i];
    h->exchange = (uc_exchange){
        .target_uri = h->uri.data, .ip = h->ip, .wall_ms = h->wall_ms,
        .request = h->request.data, .request_len = h->request.len,
        .response = h->response.data, .response_len = h->response.len,
        .payload = "", .payload_len = 0, .truncated = announces_body(&h->response),
        .status = status_of(&h->response), .prev = prev};
    prev = &h->exchange;
  }
  t->exchange = (uc_exchange){
      .prev = prev,
      .target_uri = r->final_url != NULL ? r->final_url : t->fetch->item.url,
      .ip = t->ip,
      .wall_ms = t->wall_ms,
      .request = t->request.data,
      .request_len = t->request.len,
      .response = t->response.data,
      .response_len = t->response.len,
      .payload = t->raw.data != NULL ? t->raw.data : "",
      .payload_len = t->raw.len,
      .truncated = t->truncated,
      .status = r->status,
      .content_type = r->content_type,
  };
  r->exchange = &t->exchange;
}

void uc_transfer_collect(uc_transfer *t, CURLcode curl_code, double fetch_ms,
                         uc_fetch_result *r) {
  long status = 0;
  char *ct = NULL, *eff = NULL, *loc = NULL;
  curl_off_t retry_after = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct);
  curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &eff);
  curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &loc);
  curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &retry_after);
  /* Note: curl refuses one header line over CURL_MAX_HTTP_HEADER (100 KB)
   * before header_cb sees it, and says CURLE_OUT_OF_MEMORY (CURLE_TOO_LARGE
   * from 8.6). A status line received and no body byte yet tell it from a
   * real shortage: it is the same trap as too many headers. */
  if ((curl_code == CURLE_OUT_OF_MEMORY || curl_code == TOO_LARGE) && status > 0 &&
      t->bytes == 0)
    t->headers_too_big = true;
  memset(r, 0, sizeof *r);
  r->fail = t->headers_too_big ? UC_FAIL_HEADERS
            : t->out_of_memory ? UC_FAIL_OTHER
            : t->bad_encoding  ? UC_FAIL_PROTOCOL
            : t->truncated     ? UC_FAIL_NONE /* cut at its bound: what arrived counts */
                               : uc_transfer_fail(curl_code);
  r->truncated = t->truncated;
  r->status = (int)status;
  r->content_type = ct;
  r->final_url = eff;
  r->location = loc;
  r->retry_after_s = retry_after > 0 ? (double)retry_after : -1.0;
  r->body = t->body.data;
  r->body_len = t->body.len;
  r->extractor = t->extractor;
  /* The parser context is freed here, on the engine's thread, not once
   * the parse step has run: a page waiting for a pool thread keeps only
   * the references found. */
  if (t->extractor != NULL)
    uc_extractor_end(t->extractor);
  r->bytes = t->bytes;
  r->fetch_ms = fetch_ms;
  if (r->fail == UC_FAIL_NONE && status == 0)
    r->fail = UC_FAIL_PROTOCOL;
  if (t->cfg->record_headers && status > 0)
    keep_headers(t, r);
  /* Also a 2xx with no body, which write_cb never saw. */
  if (t->type_rejected || (UC_KIND_OF(t->fetch->item.kind) == UC_KIND_PAGE &&
                           r->fail == UC_FAIL_NONE && !type_wanted(t)))
    r->fail = UC_FAIL_REJECTED_TYPE;
  if (curl_code == CURLE_PEER_FAILED_VERIFICATION) {
    long verify = 0;
    curl_easy_getinfo(t->easy, CURLINFO_SSL_VERIFYRESULT, &verify);
    r->fail = uc_transfer_cert_fail(verify);
  }
  long version = 0, connects = 0;
  curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &version);
  curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects);
  r->http_version = status > 0 ? uc_transfer_http_version(version) : NULL;
  if (t->tls_version[0] != '\0') {
    r->tls_version = t->tls_version;
    if (connects > 0)
      r->tls_handshake = t->tls_resumed ? "resumed" : "full";
  }
  if (t->capture && r->fail == UC_FAIL_NONE && t->request.len > 0 && t->response.len > 0)
    keep_exchange(t, r);
}

uc_fail uc_transfer_cert_fail(long verify_result) {
  switch (verify_result) {
  /* Note: curl (7.88, OpenSSL) checks the host name before it reads the
   * chain's verify result, which it preset to !X509_V_OK (1, "unspecified"):
   * a wrong name says 1, whatever the chain. */
  case X509_V_ERR_UNSPECIFIED:
  case X509_V_OK:
  case X509_V_ERR_HOSTNAME_MISMATCH:
  case X509_V_ERR_IP_ADDRESS_MISMATCH:
    return UC_FAIL_CERT_WRONG_NAME;
  case X509_V_ERR_CERT_HAS_EXPIRED:
  case X509_V_ERR_CERT_NOT_YET_VALID:
    return UC_FAIL_CERT_EXPIRED;
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
  case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
  case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
  case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    return UC_FAIL_CERT_UNKNOWN_CA;
  default:
    return UC_FAIL_TLS;
  }
}

const char *uc_transfer_http_version(long curl_http_version) {
  switch (curl_http_version) {
  case CURL_HTTP_VERSION_1_0:
    return "1.0";
  case CURL_HTTP_VERSION_1_1:
    return "1.1";
  case CURL_HTTP_VERSION_2_0:
    return "2";
  case CURL_HTTP_VERSION_3:
    return "3";
  default:
    return NULL;
  }
}

void uc_transfer_times(const uc_transfer *t, uc_trace_curl *out) {
  static const CURLINFO info[6] = {
      CURLINFO_NAMELOOKUP_TIME_T,  CURLINFO_CONNECT_TIME_T,       CURLINFO_APPCONNECT_TIME_T,
      CURLINFO_PRETRANSFER_TIME_T, CURLINFO_STARTTRANSFER_TIME_T, CURLINFO_TOTAL_TIME_T};
  int64_t *field[6] = {&out->namelookup,  &out->connect,       &out->appconnect,
                       &out->pretransfer, &out->starttransfer, &out->total};
  for (int i = 0; i < 6; i++) {
    curl_off_t us = 0;
    if (curl_easy_getinfo(t->easy, info[i], &us) != CURLE_OK || us < 0)
      us = 0;
    *field[i] = (int64_t)us;
  }
}

void uc_transfer_reset(uc_transfer *t, bool keep_buffer) {
  curl_slist_free_all(t->pin);
  t->pin = NULL;
  curl_slist_free_all(t->request_headers);
  t->request_headers = NULL;
  t->tls_version[0] = '\0';
  t->tls_resumed = false;
  if (keep_buffer && t->body.cap <= KEEP_BUFFER_MAX)
    uc_buf_reset(&t->body);
  else
    uc_buf_free(&t->body);
  uc_buf_free(&t->headers);
  if (keep_buffer && t->raw.cap <= KEEP_BUFFER_MAX)
    uc_buf_reset(&t->raw);
  else
    uc_buf_free(&t->raw);
  uc_buf_reset(&t->request);
  uc_buf_reset(&t->response);
  uc_buf_reset(&t->uri);
  if (!keep_buffer) {
    uc_buf_free(&t->request);
    uc_buf_free(&t->response);
    uc_buf_free(&t->uri);
  }
  for (size_t i = 0; i < UC_TRANSFER_HOPS; i++) { /* robots.txt redirects: rare */
    uc_buf_free(&t->hops[i].request);
    uc_buf_free(&t->hops[i].response);
    uc_buf_free(&t->hops[i].uri);
  }
  t->n_hops = 0;
  if (t->zs_on)
    inflateEnd(&t->zs);
  t->zs_on = t->zs_done = t->bad_encoding = t->body_started = t->chunked = false;
  t->bytes = 0;
  t->header_bytes = 0;
  t->keep_body = t->truncated = t->headers_too_big = t->out_of_memory = false;
  t->type_rejected = false;
  t->may_stream = false;
  uc_extractor_free(t->extractor);
  t->extractor = NULL;
  t->fetch = NULL;
}

uc_fail uc_transfer_fail(CURLcode code) {
  switch (code) {
  case CURLE_OK:
    return UC_FAIL_NONE;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    return UC_FAIL_DNS;
  case CURLE_COULDNT_CONNECT:
    return UC_FAIL_REFUSED;
  case CURLE_OPERATION_TIMEDOUT:
    return UC_FAIL_TIMEOUT;
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
    return UC_FAIL_RESET;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION: /* told apart by uc_transfer_collect */
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
    return UC_FAIL_TLS;
  case CURLE_TOO_MANY_REDIRECTS:
    return UC_FAIL_REDIRECTS;
  case CURLE_ABORTED_BY_CALLBACK:
    return UC_FAIL_ABORTED;
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_HTTP2:
  case CURLE_BAD_CONTENT_ENCODING:
    return UC_FAIL_PROTOCOL;
  default:
    return UC_FAIL_OTHER;
  }
}
