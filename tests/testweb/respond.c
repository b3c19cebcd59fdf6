/* respond.c - routes to responses: pages, faults, robots, gzip. */
#include "respond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "site.h"

struct tw_flaky {
  struct tw_flaky *next;
  unsigned long count;
  char path[]; /* the exact request target */
};

void tw_responder_init(tw_responder *r, const tw_opts *opts, int port)
{
  memset(r, 0, sizeof(*r));
  r->opts = opts;
  r->port = opts->link_port > 0 ? opts->link_port : port;
}

void tw_responder_free(tw_responder *r)
{
  for (size_t i = 0; i < 256; i++) {
    struct tw_flaky *f = r->flaky[i];
    while (f) {
      struct tw_flaky *next = f->next;
      free(f);
      f = next;
    }
    r->flaky[i] = NULL;
  }
  free(r->bomb);
  r->bomb = NULL;
}

void tw_resp_free(tw_resp *resp)
{
  tw_buf_free(&resp->head);
  tw_buf_free(&resp->body);
}

static const char *reason(int status)
{
  switch (status) {
  case 200: return "OK";
  case 302: return "Found";
  case 400: return "Bad Request";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 414: return "URI Too Long";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 503: return "Service Unavailable";
  default: return "Status";
  }
}

/* Writes the status line and the headers every response has; the caller
 * appends its own extra headers and then end_head(). */
static void begin_head(tw_resp *resp, int status, const char *ctype)
{
  resp->status = status;
  tw_buf_printf(&resp->head,
                "HTTP/1.1 %d %s\r\nServer: testweb\r\nContent-Type: %s\r\n",
                status, reason(status), ctype);
}

static void end_head(tw_resp *resp, uint64_t content_length)
{
  if (resp->stream == TW_STREAM_ENDLESS)
    tw_buf_puts(&resp->head, "Transfer-Encoding: chunked\r\n");
  else
    tw_buf_printf(&resp->head, "Content-Length: %llu\r\n",
                  (unsigned long long)content_length);
  tw_buf_puts(&resp->head, resp->close ? "Connection: close\r\n\r\n"
                                       : "Connection: keep-alive\r\n\r\n");
}

/* A response whose whole body is in resp->body. */
static void simple(tw_resp *resp, int status, const char *ctype)
{
  begin_head(resp, status, ctype);
  end_head(resp, resp->body.len);
}

static void error_page(tw_resp *resp, int status)
{
  tw_buf_printf(&resp->body,
                "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
                "<body><h1>%d %s</h1></body></html>\n",
                status, reason(status), status, reason(status));
  simple(resp, status, "text/html; charset=utf-8");
}

void tw_respond_error(int status, tw_resp *resp)
{
  resp->close = 1;
  error_page(resp, status);
}

/* A --huge-bytes HTML body: a small head, then streamed filler (never held
 * in memory at once). */
static void huge_page(tw_resp *resp, const tw_opts *o)
{
    tw_buf_puts(&resp->body, "<!DOCTYPE html>\n<html><body>\n");
    resp->stream = TW_STREAM_HUGE;
    resp->stream_len = o->huge_bytes > resp->body.len
                           ? o->huge_bytes - resp->body.len : 0;
    begin_head(resp, 200, "text/html; charset=utf-8");
    end_head(resp, resp->body.len + resp->stream_len);
}

static void redirect(tw_resp *resp, const char *location)
{
  tw_buf_printf(&resp->body,
                "<!DOCTYPE html>\n<html><body>Moved to %s</body></html>\n",
                location);
  begin_head(resp, 302, "text/html; charset=utf-8");
  tw_buf_printf(&resp->head, "Location: %s\r\n", location);
  end_head(resp, resp->body.len);
}

/* gzip-encodes resp->body in place (windowBits 31 = gzip wrapper). */
static void gzip_body(tw_resp *resp)
{
  z_stream z;
  memset(&z, 0, sizeof(z));
  if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    abort();
  tw_buf out = {0};
  uLong bound = deflateBound(&z, (uLong)resp->body.len) + 32;
  out.data = malloc(bound);
  if (out.data == NULL)
    abort();
  out.cap = bound;
  z.next_in = (Bytef *)resp->body.data;
  z.avail_in = (uInt)resp->body.len;
  z.next_out = (Bytef *)out.data;
  z.avail_out = (uInt)bound;
  if (deflate(&z, Z_FINISH) != Z_STREAM_END)
    abort();
  out.len = z.total_out;
  deflateEnd(&z);
  tw_buf_free(&resp->body);
  resp->body = out;
}

/* An HTML response, gzip-encoded when asked for. */
static void html(tw_resp *resp, int status, const char *ctype, int gzip)
{
  if (gzip)
    gzip_body(resp);
  begin_head(resp, status, ctype);
  if (gzip)
    tw_buf_puts(&resp->head, "Content-Encoding: gzip\r\n");
  tw_buf_puts(&resp->head, "Vary: Accept-Encoding\r\n");
  end_head(resp, resp->body.len);
}

/* The body in the chunked transfer coding (RFC 9112 7.1), in chunks of
 * uneven sizes (1, 7, 100, then 1000 at a time), one with an extension,
 * and a trailer field after the last: what a reader must take apart. */
static void chunk_body(tw_resp *resp)
{
  static const size_t sizes[] = {1, 7, 100};
  tw_buf out = {0};
  size_t at = 0;
  for (size_t i = 0; at < resp->body.len; i++) {
    size_t n = i < sizeof(sizes) / sizeof(sizes[0]) ? sizes[i] : 1000;
    if (n > resp->body.len - at)
      n = resp->body.len - at;
    tw_buf_printf(&out, i == 1 ? "%zx;part=two\r\n" : "%zX\r\n", n);
    tw_buf_append(&out, resp->body.data + at, n);
    tw_buf_puts(&out, "\r\n");
    at += n;
  }
  tw_buf_puts(&out, "0\r\nX-Testweb-Trailer: end\r\n\r\n");
  tw_buf_free(&resp->body);
  resp->body = out;
}

/* Builds the bomb once: a 1 MiB-of-zeros deflate segment ended by a full
 * flush is self-contained and byte-aligned, so 1024 copies of it followed by
 * an empty final block inflate to exactly 1 GiB without compressing 1 GiB. */
static void build_bomb(tw_responder *r)
{
  enum { SEG = 1 << 20, COPIES = 1024 };
  unsigned char *zeros = calloc(1, SEG);
  unsigned char seg[16384], fin[64];
  z_stream z;
  memset(&z, 0, sizeof(z));
  if (zeros == NULL ||
      deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    abort();
  z.next_in = zeros;
  z.avail_in = SEG;
  z.next_out = seg;
  z.avail_out = sizeof(seg);
  if (deflate(&z, Z_FULL_FLUSH) != Z_OK || z.avail_in != 0)
    abort();
  size_t seglen = sizeof(seg) - z.avail_out;
  z.next_out = fin;
  z.avail_out = sizeof(fin);
  if (deflate(&z, Z_FINISH) != Z_STREAM_END)
    abort();
  size_t finlen = sizeof(fin) - z.avail_out;
  deflateEnd(&z);

  uLong crc1 = crc32(0L, zeros, SEG), crc = crc1;
  for (int i = 1; i < COPIES; i++)
    crc = crc32_combine(crc, crc1, SEG);
  free(zeros);

  static const unsigned char hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
  tw_buf b = {0};
  tw_buf_append(&b, hdr, sizeof(hdr));
  for (int i = 0; i < COPIES; i++)
    tw_buf_append(&b, seg, seglen);
  tw_buf_append(&b, fin, finlen);
  uint32_t isize = (uint32_t)((uint64_t)SEG * COPIES);
  unsigned char trailer[8];
  for (int i = 0; i < 4; i++) {
    trailer[i] = (unsigned char)(crc >> (8 * i));
    trailer[4 + i] = (unsigned char)(isize >> (8 * i));
  }
  tw_buf_append(&b, trailer, sizeof(trailer));
  r->bomb = tw_buf_steal(&b, &r->bomb_len);
}

/* Counts requests per exact target; returns the count including this one. */
static unsigned long flaky_hit(tw_responder *r, const char *target)
{
  unsigned idx = (unsigned)(tw_hash_str(0, 0, target) & 255);
  struct tw_flaky *f;
  for (f = r->flaky[idx]; f; f = f->next)
    if (strcmp(f->path, target) == 0)
      return ++f->count;
  size_t n = strlen(target);
  f = malloc(sizeof(*f) + n + 1);
  if (f == NULL)
    abort();
  memcpy(f->path, target, n + 1);
  f->count = 1;
  f->next = r->flaky[idx];
  r->flaky[idx] = f;
  return 1;
}

static void huge_headers(tw_resp *resp, const tw_opts *o)
{
  char filler[1001];
  memset(filler, 'a', 1000);
  filler[1000] = '\0';
  tw_site_leaf_html(&o->site, "huge headers", 1, 512, &resp->body);
  begin_head(resp, 200, "text/html; charset=utf-8");
  for (int i = 0; i < 200; i++)
    tw_buf_printf(&resp->head, "X-Filler-%03d: %s\r\n", i, filler);
  end_head(resp, resp->body.len);
}

/* One header line of 2 MiB: a different limit in curl than many headers. */
static void long_header(tw_resp *resp, const tw_opts *o)
{
  char filler[1025];
  memset(filler, 'a', 1024);
  filler[1024] = '\0';
  tw_site_leaf_html(&o->site, "long header", 1, 512, &resp->body);
  begin_head(resp, 200, "text/html; charset=utf-8");
  tw_buf_puts(&resp->head, "X-Long: ");
  for (int i = 0; i < 2048; i++)
    tw_buf_puts(&resp->head, filler);
  tw_buf_puts(&resp->head, "\r\n");
  end_head(resp, resp->body.len);
}

/* Serves page n of host, applying its per-URL fault unless it is reached
 * through its redirect alias. */
static void page(tw_responder *r, const tw_http_req *req, int host, int n,
                 int alias, tw_resp *resp)
{
  const tw_opts *o = r->opts;
  tw_fault f = alias ? TW_FAULT_NONE : tw_site_page_fault(&o->site, host, n);
  char path[64];

  switch (f) {
  case TW_FAULT_5XX:
    error_page(resp, tw_hash4(o->site.seed, (uint64_t)host, (uint64_t)n, 5) % 2
                         ? 500 : 503);
    return;
  case TW_FAULT_RESET:
    resp->reset = 1;
    return;
  case TW_FAULT_HUGE:
    huge_page(resp, o);
    return;
  case TW_FAULT_REDIRECT:
    snprintf(path, sizeof(path), "/d%d/p%dr.html", n % 10, n);
    redirect(resp, path);
    return;
  default:
    break;
  }
  tw_site_page_html(&o->site, host, n, r->port, &resp->body);
  if (f == TW_FAULT_WRONG_TYPE) {
    simple(resp, 200, "application/octet-stream");
  } else if (f == TW_FAULT_SLOW) {
    resp->stream = TW_STREAM_SLOW;
    simple(resp, 200, "text/html; charset=utf-8");
  } else {
    html(resp, 200, "text/html; charset=utf-8", o->gzip && req->accept_gzip);
  }
}

/* Everything under /fault/ plus robots.txt and friends. */
static void special(tw_responder *r, const tw_http_req *req, tw_route rt,
                    tw_resp *resp)
{
  const tw_opts *o = r->opts;
  char loc[64];
  switch (rt.kind) {
  case TW_R_ROBOTS:
  case TW_R_ROBOTS_MOVED:
    if (rt.kind == TW_R_ROBOTS && o->robots_status >= 300 && o->robots_status < 400) {
      redirect(resp, "/robots-moved.txt"); /* --robots-status 3xx: robots behind a redirect */
    } else if (rt.kind == TW_R_ROBOTS && o->robots_status && o->robots_status != 200) {
      error_page(resp, o->robots_status);
    } else {
      if (o->robots_body)
        tw_buf_append(&resp->body, o->robots_body, o->robots_len);
      else
        tw_buf_puts(&resp->body, "User-agent: *\nAllow: /\n");
      simple(resp, 200, "text/plain; charset=utf-8");
    }
    break;
  case TW_R_STYLE:
    tw_buf_puts(&resp->body, "body { font-family: sans-serif; }\n");
    simple(resp, 200, "text/css");
    break;
  case TW_R_NOFOLLOW:
    tw_site_leaf_html(&o->site, "nofollow target", 0, 512, &resp->body);
    html(resp, 200, "text/html; charset=utf-8", 0);
    break;
  case TW_R_FTOHOST: {
    /* Another host on this port: the port is the Host header's. */
    const char *colon = strrchr(req->host, ':');
    char abs[128];
    snprintf(abs, sizeof abs, "%s://h%04ld.test%s/", tw_site_scheme(&o->site, 0), rt.arg,
             colon != NULL ? colon : "");
    redirect(resp, abs);
    break;
  }
  case TW_R_F500: error_page(resp, 500); break;
  case TW_R_F503: error_page(resp, 503); break;
  case TW_R_F429:
    tw_buf_puts(&resp->body, "slow down\n");
    begin_head(resp, 429, "text/plain");
    tw_buf_printf(&resp->head, "Retry-After: %ld\r\n", rt.arg);
    end_head(resp, resp->body.len);
    break;
  case TW_R_FRESET: resp->reset = 1; break;
  case TW_R_FSLOW:
    tw_site_leaf_html(&o->site, "slow", 1, o->site.page_bytes, &resp->body);
    resp->stream = TW_STREAM_SLOW;
    simple(resp, 200, "text/html; charset=utf-8");
    break;
  case TW_R_FHUGE:
    huge_page(resp, o);
    break;
  case TW_R_FENDLESS:
    resp->stream = TW_STREAM_ENDLESS;
    begin_head(resp, 200, "text/html; charset=utf-8");
    end_head(resp, 0);
    break;
  case TW_R_FREDIRECT:
    if (rt.arg > 0) {
      snprintf(loc, sizeof(loc), "/fault/redirect/%ld", rt.arg - 1);
      redirect(resp, loc);
    } else {
      tw_site_leaf_html(&o->site, "end of redirects", 1, 512, &resp->body);
      html(resp, 200, "text/html; charset=utf-8", 0);
    }
    break;
  case TW_R_FLOOP: redirect(resp, "/fault/loop2"); break;
  case TW_R_FLOOP2: redirect(resp, "/fault/loop"); break;
  case TW_R_FWRONGTYPE:
    tw_site_leaf_html(&o->site, "wrong type", 1, 512, &resp->body);
    simple(resp, 200, "image/png");
    break;
  case TW_R_FBINARY: {
    uint64_t x = o->site.seed;
    for (int i = 0; i < 512; i++) {
      x = tw_mix64(x);
      tw_buf_append(&resp->body, &x, sizeof(x));
    }
    simple(resp, 200, "text/html; charset=utf-8");
    break;
  }
  case TW_R_FGZIP:
    tw_site_leaf_html(&o->site, "gzip", 1, o->site.page_bytes, &resp->body);
    html(resp, 200, "text/html; charset=utf-8", 1);
    break;
  case TW_R_FCHUNKED: {
    int gz = req->accept_gzip;
    tw_site_leaf_html(&o->site, "chunked", 1, o->site.page_bytes, &resp->body);
    if (gz)
      gzip_body(resp);
    chunk_body(resp);
    begin_head(resp, 200, "text/html; charset=utf-8");
    if (gz)
      tw_buf_puts(&resp->head, "Content-Encoding: gzip\r\n");
    tw_buf_puts(&resp->head, "Vary: Accept-Encoding\r\nTransfer-Encoding: chunked\r\n");
    tw_buf_puts(&resp->head, resp->close ? "Connection: close\r\n\r\n"
                                         : "Connection: keep-alive\r\n\r\n");
    break;
  }
  case TW_R_FBOMB:
    if (r->bomb == NULL)
      build_bomb(r);
    resp->shared = r->bomb;
    resp->shared_len = r->bomb_len;
    begin_head(resp, 200, "text/html; charset=utf-8");
    tw_buf_puts(&resp->head, "Content-Encoding: gzip\r\n");
    end_head(resp, r->bomb_len);
    break;
  case TW_R_FHUGEHDR: huge_headers(resp, o); break;
  case TW_R_FLONGHDR: long_header(resp, o); break;
  case TW_R_FTRAP:
    /* A crawler trap: every page links one level deeper, forever, in
     * relative form, so URLs grow and path segments repeat. */
    tw_buf_puts(&resp->body, "<!DOCTYPE html>\n<html><body><a href=\"a/\">a</a> "
                             "<a href=\"b/\">b</a></body></html>\n");
    html(resp, 200, "text/html; charset=utf-8", 0);
    break;
  case TW_R_FFLAKY:
    if (flaky_hit(r, req->target) <= (unsigned long)rt.arg) {
      error_page(resp, 503);
    } else {
      tw_site_leaf_html(&o->site, "flaky recovered", 1, 512, &resp->body);
      html(resp, 200, "text/html; charset=utf-8", 0);
    }
    break;
  default:
    error_page(resp, 404);
    break;
  }
}

/* Latency plus jitter in [0, jitter]; keyed by host number (not the Host
 * header, whose port changes between runs) and target. */
static uint64_t delay_ms(const tw_opts *o, int host, const char *target)
{
  uint64_t d = (uint64_t)(o->latency_ms > 0 ? o->latency_ms : 0);
  if (o->jitter_ms > 0)
    d += tw_hash_str(o->site.seed ^ 0x1a7e, (uint64_t)host, target) %
         ((uint64_t)o->jitter_ms + 1);
  return d;
}

void tw_respond(tw_responder *r, const tw_http_req *req, tw_resp *resp)
{
  const tw_opts *o = r->opts;
  resp->close = !req->keep_alive;
  resp->head_only = req->method == TW_HTTP_HEAD;
  if (req->method == TW_HTTP_OTHER) {
    begin_head(resp, 405, "text/plain");
    tw_buf_puts(&resp->head, "Allow: GET, HEAD\r\n");
    end_head(resp, 0);
    return;
  }
  int host = tw_site_host_parse(&o->site, req->host);
  resp->delay_ms = delay_ms(o, host, req->target);
  if (host == 0) {
    error_page(resp, 404);
    return;
  }
  tw_route rt = tw_site_route(&o->site, req->target);
  if (rt.kind == TW_R_PAGE || rt.kind == TW_R_ALIAS)
    page(r, req, host, (int)rt.arg, rt.kind == TW_R_ALIAS, resp);
  else
    special(r, req, rt, resp);
}
