/* http.c - request-head parser: find the end, split lines, pick the few
 * headers testweb cares about. Strict where sloppiness would hide client
 * bugs (no header without a colon, no obs-fold), lenient on bare LF. */
#include "http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Returns the length of the head including its blank line, or 0. A bare LF
 * ends a line too (RFC 9112 allows recipients to accept it). */
static size_t find_head_end(const char *buf, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    if (buf[i] != '\n')
      continue;
    if (i + 1 < len && buf[i + 1] == '\n')
      return i + 2;
    if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
      return i + 3;
  }
  return 0;
}

/* Case-insensitive search for a comma-separated token in a header value:
 * "keep-alive, Upgrade" contains "upgrade"; "gzip;q=1" contains "gzip". */
static int has_token(const char *v, size_t vlen, const char *tok)
{
  size_t tl = strlen(tok);
  size_t i = 0;
  while (i < vlen) {
    while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
      i++;
    size_t start = i;
    while (i < vlen && v[i] != ',' && v[i] != ';' && v[i] != ' ' &&
           v[i] != '\t')
      i++;
    if (i - start == tl && strncasecmp(v + start, tok, tl) == 0)
      return 1;
    while (i < vlen && v[i] != ',')
      i++;
  }
  return 0;
}

static int copy_str(char *dst, size_t cap, const char *s, size_t n)
{
  if (n >= cap)
    return -1;
  memcpy(dst, s, n);
  dst[n] = '\0';
  return 0;
}

/* Parses "METHOD SP target SP HTTP/1.x". */
static int parse_request_line(const char *s, size_t n, tw_http_req *req)
{
  const char *sp1 = memchr(s, ' ', n);
  if (sp1 == NULL || sp1 == s)
    return TW_HTTP_EBAD;
  size_t ml = (size_t)(sp1 - s);
  for (size_t i = 0; i < ml; i++)
    if (!isupper((unsigned char)s[i]))
      return TW_HTTP_EBAD;
  if (ml == 3 && memcmp(s, "GET", 3) == 0)
    req->method = TW_HTTP_GET;
  else if (ml == 4 && memcmp(s, "HEAD", 4) == 0)
    req->method = TW_HTTP_HEAD;
  else
    req->method = TW_HTTP_OTHER;

  const char *t = sp1 + 1;
  const char *end = s + n;
  const char *sp2 = memchr(t, ' ', (size_t)(end - t));
  if (sp2 == NULL || sp2 == t)
    return TW_HTTP_EBAD;
  if (end - (sp2 + 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
      (sp2[8] != '0' && sp2[8] != '1'))
    return TW_HTTP_EBAD;
  req->version_minor = sp2[8] - '0';

  size_t tl = (size_t)(sp2 - t);
  for (size_t i = 0; i < tl; i++)
    if ((unsigned char)t[i] <= 0x20 || t[i] == 0x7f)
      return TW_HTTP_EBAD;
  if (tl > 7 && strncasecmp(t, "http://", 7) == 0) {
    /* absolute-form: the authority overrides Host (RFC 9112 3.2.2). */
    const char *a = t + 7;
    const char *p = memchr(a, '/', tl - 7);
    size_t al = p ? (size_t)(p - a) : tl - 7;
    if (copy_str(req->host, sizeof(req->host), a, al) < 0)
      return TW_HTTP_EBAD;
    if (p == NULL)
      return copy_str(req->target, sizeof(req->target), "/", 1);
    tl -= (size_t)(p - t);
    t = p;
  } else if (t[0] != '/' && !(tl == 1 && t[0] == '*')) {
    return TW_HTTP_EBAD;
  }
  if (copy_str(req->target, sizeof(req->target), t, tl) < 0)
    return TW_HTTP_EURI;
  return 0;
}

/* Applies one "Name: value" header line to req. */
static int parse_header(const char *s, size_t n, tw_http_req *req,
                        int *conn_close, int *conn_keep, int *host_seen)
{
  if (n > 0 && (s[0] == ' ' || s[0] == '\t'))
    return TW_HTTP_EBAD; /* obs-fold */
  const char *colon = memchr(s, ':', n);
  if (colon == NULL || colon == s)
    return TW_HTTP_EBAD;
  size_t nl = (size_t)(colon - s);
  for (size_t i = 0; i < nl; i++)
    if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
      return TW_HTTP_EBAD; /* no space before the colon */
  const char *v = colon + 1;
  const char *end = s + n;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  size_t vl = (size_t)(end - v);

  if (nl == 4 && strncasecmp(s, "host", 4) == 0) {
    if (*host_seen)
      return TW_HTTP_EBAD; /* two Host headers */
    *host_seen = 1;
    if (req->host[0] == '\0' && copy_str(req->host, sizeof(req->host), v, vl))
      return TW_HTTP_EBAD;
  } else if (nl == 10 && strncasecmp(s, "connection", 10) == 0) {
    *conn_close |= has_token(v, vl, "close");
    *conn_keep |= has_token(v, vl, "keep-alive");
  } else if (nl == 15 && strncasecmp(s, "accept-encoding", 15) == 0) {
    req->accept_gzip |= has_token(v, vl, "gzip");
  } else if (nl == 14 && strncasecmp(s, "content-length", 14) == 0) {
    if (vl == 0 || vl > 15)
      return TW_HTTP_EBAD;
    long long cl = 0;
    for (size_t i = 0; i < vl; i++) {
      if (!isdigit((unsigned char)v[i]))
        return TW_HTTP_EBAD;
      cl = cl * 10 + (v[i] - '0');
    }
    req->content_length = cl;
  } else if (nl == 17 && strncasecmp(s, "transfer-encoding", 17) == 0) {
    req->chunked = 1;
  }
  return 0;
}

int tw_http_parse(const char *buf, size_t len, size_t max_head,
                  tw_http_req *req)
{
  size_t skip = 0;
  /* RFC 9112 2.2: ignore at least one empty line before the request line. */
  while (skip < len && skip < 4 && (buf[skip] == '\r' || buf[skip] == '\n'))
    skip++;
  size_t head = find_head_end(buf + skip, len - skip);
  if (head == 0)
    return len >= max_head ? TW_HTTP_ETOOBIG : 0;
  if (skip + head > max_head)
    return TW_HTTP_ETOOBIG;

  tw_http_req r;
  memset(&r, 0, sizeof(r));
  int conn_close = 0, conn_keep = 0, host_seen = 0, first = 1;
  const char *p = buf + skip;
  const char *end = buf + skip + head;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl;
    if (le > p && le[-1] == '\r')
      le--;
    size_t n = (size_t)(le - p);
    if (memchr(p, '\0', n) != NULL || memchr(p, '\r', n) != NULL)
      return TW_HTTP_EBAD;
    if (n == 0)
      break; /* the blank line */
    int rc = first ? parse_request_line(p, n, &r)
                   : parse_header(p, n, &r, &conn_close, &conn_keep,
                                  &host_seen);
    if (rc < 0)
      return rc;
    first = 0;
    p = nl + 1;
  }
  if (first)
    return TW_HTTP_EBAD;
  if (r.version_minor == 1 && !host_seen && r.host[0] == '\0')
    return TW_HTTP_EBAD; /* HTTP/1.1 requires Host */
  r.keep_alive = r.version_minor == 1 ? !conn_close : (conn_keep && !conn_close);
  *req = r;
  return (int)(skip + head);
}
