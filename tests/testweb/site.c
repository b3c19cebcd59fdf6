/* site.c - deterministic link graph, page bodies and URL routing. */
#include "site.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses a decimal integer spanning exactly [s, end); -1 if not. Used to
 * match paths like /d3/p13.html without sscanf's leniency (signs, spaces).
 * Leading zeros are refused: "/d3/p013.html" is not page 13. */
static long parse_num(const char *s, const char *end)
{
  long v = 0;
  if (s >= end || end - s > 9)
    return -1;
  if (*s == '0' && end - s > 1)
    return -1;
  for (; s < end; s++) {
    if (!isdigit((unsigned char)*s))
      return -1;
    v = v * 10 + (*s - '0');
  }
  return v;
}

int tw_site_host_parse(const tw_site_opts *o, const char *host)
{
  size_t n = strcspn(host, ":");
  char low[32];
  if (n < 7 || n >= sizeof(low))
    return 0;
  for (size_t i = 0; i < n; i++)
    low[i] = (char)tolower((unsigned char)host[i]);
  low[n] = '\0';
  if (o->localhost > 0 && o->localhost <= o->hosts && strcmp(low, "localhost") == 0)
    return o->localhost; /* a name a proxy can resolve on its own */
  if (low[0] != 'h' || strcmp(low + n - 5, ".test") != 0)
    return 0;
  /* Only the canonical spelling (h0007, not h7) names a host. */
  long num = 0;
  for (const char *d = low + 1; d < low + n - 5; d++) {
    if (!isdigit((unsigned char)*d))
      return 0;
    num = num * 10 + (*d - '0');
  }
  if (num < 1 || num > o->hosts)
    return 0;
  char canon[32];
  snprintf(canon, sizeof(canon), "h%04ld.test", num);
  return strcmp(canon, low) == 0 ? (int)num : 0;
}

/* Matches "/d<k>/p<n>.html" (alias: "p<n>r.html") with k == n % 10 and
 * n < pages; returns n or -1. */
static long match_page(const tw_site_opts *o, const char *p, size_t len,
                       int alias)
{
  const char *end = p + len;
  const char *suffix = alias ? "r.html" : ".html";
  size_t sl = strlen(suffix);
  if (len < 4 + sl || memcmp(p, "/d", 2) != 0)
    return -1;
  const char *slash = memchr(p + 2, '/', len - 2);
  if (slash == NULL || slash + 1 >= end || slash[1] != 'p')
    return -1;
  long k = parse_num(p + 2, slash);
  if ((size_t)(end - (slash + 2)) < sl || memcmp(end - sl, suffix, sl) != 0)
    return -1;
  long n = parse_num(slash + 2, end - sl);
  if (k < 0 || n < 1 || n >= o->pages || n % 10 != k)
    return -1;
  return n;
}

/* Matches "<prefix><number><suffix>" exactly; returns the number or -1. */
static long match_num(const char *p, size_t len, const char *prefix,
                      const char *suffix)
{
  size_t pl = strlen(prefix), sl = strlen(suffix);
  if (len <= pl + sl || memcmp(p, prefix, pl) != 0 ||
      memcmp(p + len - sl, suffix, sl) != 0)
    return -1;
  return parse_num(p + pl, p + len - sl);
}

/* Table of the fixed fault paths; kept as data so adding one is one line. */
static const struct {
  const char *path;
  tw_route_kind kind;
} fixed_routes[] = {
  {"/robots.txt", TW_R_ROBOTS},        {"/robots-moved.txt", TW_R_ROBOTS_MOVED},
  {"/style.css", TW_R_STYLE},
  {"/fault/500", TW_R_F500},           {"/fault/503", TW_R_F503},
  {"/fault/reset", TW_R_FRESET},       {"/fault/slow", TW_R_FSLOW},
  {"/fault/huge", TW_R_FHUGE},         {"/fault/endless", TW_R_FENDLESS},
  {"/fault/loop", TW_R_FLOOP},         {"/fault/loop2", TW_R_FLOOP2},
  {"/fault/wrong-type", TW_R_FWRONGTYPE},
  {"/fault/binary", TW_R_FBINARY},     {"/fault/gzip", TW_R_FGZIP},
  {"/fault/bomb", TW_R_FBOMB},         {"/fault/huge-headers", TW_R_FHUGEHDR},
  {"/fault/notfound", TW_R_FNOTFOUND}, {"/fault/429", TW_R_F429},
  {"/fault/long-header", TW_R_FLONGHDR}, {"/fault/chunked", TW_R_FCHUNKED},
};

tw_route tw_site_route(const tw_site_opts *o, const char *target)
{
  tw_route r = {TW_R_NOTFOUND, 0};
  size_t len = strcspn(target, "?#");
  const char *query = target[len] == '?' ? target + len + 1 : "";
  long v;

  if (len == 1 && target[0] == '/') {
    r.kind = TW_R_PAGE;
    return r;
  }
  for (size_t i = 0; i < sizeof(fixed_routes) / sizeof(fixed_routes[0]); i++) {
    if (strlen(fixed_routes[i].path) == len &&
        memcmp(fixed_routes[i].path, target, len) == 0) {
      r.kind = fixed_routes[i].kind;
      if (r.kind == TW_R_F429) {
        const char *a = strstr(query, "after=");
        r.arg = a ? strtol(a + 6, NULL, 10) : 1;
        if (r.arg < 0)
          r.arg = 0;
      }
      return r;
    }
  }
  if ((v = match_page(o, target, len, 0)) >= 0) {
    r.kind = TW_R_PAGE;
  } else if ((v = match_page(o, target, len, 1)) >= 0) {
    r.kind = TW_R_ALIAS;
  } else if ((v = match_num(target, len, "/nofollow/", ".html")) >= 0) {
    r.kind = TW_R_NOFOLLOW;
  } else if ((v = match_num(target, len, "/missing/", ".html")) >= 0) {
    r.kind = TW_R_MISSING;
  } else if ((v = match_num(target, len, "/fault/redirect/", "")) >= 0) {
    r.kind = TW_R_FREDIRECT;
  } else if ((v = match_num(target, len, "/fault/to-host/", "")) >= 0) {
    r.kind = TW_R_FTOHOST;
  } else if (len >= 12 && memcmp(target, "/fault/trap/", 12) == 0) {
    r.kind = TW_R_FTRAP;
    v = 0;
  } else if (len > 13 && memcmp(target, "/fault/flaky/", 13) == 0) {
    /* /fault/flaky/K/ID: ID is any non-empty segment. */
    const char *k = target + 13;
    const char *slash = memchr(k, '/', len - 13);
    if (slash && slash + 1 < target + len &&
        (v = parse_num(k, slash)) >= 0)
      r.kind = TW_R_FFLAKY;
  }
  if (r.kind != TW_R_NOTFOUND)
    r.arg = v;
  return r;
}

void tw_site_page_path(int page, char *out, size_t outlen)
{
  if (page == 0)
    snprintf(out, outlen, "/");
  else
    snprintf(out, outlen, "/d%d/p%d.html", page % 10, page);
}

const char *tw_site_scheme(const tw_site_opts *o, int upper)
{
  if (o->https)
    return upper ? "HTTPS" : "https";
  return upper ? "HTTP" : "http";
}

void tw_site_url(const tw_site_opts *o, int host, int port, const char *path,
                 char *out, size_t outlen)
{
  if (port == (o->https ? 443 : 80))
    snprintf(out, outlen, "%s://h%04d.test%s", tw_site_scheme(o, 0), host, path);
  else
    snprintf(out, outlen, "%s://h%04d.test:%d%s", tw_site_scheme(o, 0), host, port,
             path);
}

tw_fault tw_site_page_fault(const tw_site_opts *o, int host, int page)
{
  if (page == 0)
    return TW_FAULT_NONE; /* keep every host crawlable from its seed */
  int u = (int)(tw_hash4(o->seed ^ 0xfa17fa17ULL, (uint64_t)host,
                         (uint64_t)page, 77) % 100);
  int acc = 0;
  for (int f = TW_FAULT_5XX; f < TW_FAULT_COUNT; f++) {
    acc += o->fault_pct[f];
    if (u < acc)
      return (tw_fault)f;
  }
  return TW_FAULT_NONE;
}

/* Spells a same-host link from page `from` to page `to` in one of several
 * forms that all normalise to the same URL; `form` picks which. */
static void same_host_href(const tw_site_opts *o, int host, int port, int from, int to, unsigned form,
                           char *out, size_t outlen)
{
  char path[48];
  int fk = from % 10, tk = to % 10;
  tw_site_page_path(to, path, sizeof(path));
  switch (form % 8) {
  case 0: /* root-relative */
    snprintf(out, outlen, "%s", path);
    break;
  case 1: /* relative to the page's directory */
    if (to == 0)
      snprintf(out, outlen, "%s", from == 0 ? "./" : "../");
    else if (from == 0)
      snprintf(out, outlen, "d%d/p%d.html", tk, to);
    else if (fk == tk)
      snprintf(out, outlen, "p%d.html", to);
    else
      snprintf(out, outlen, "../d%d/p%d.html", tk, to);
    break;
  case 2: /* absolute, same host */
    snprintf(out, outlen, "%s://h%04d.test:%d%s", tw_site_scheme(o, 0), host, port, path);
    break;
  case 3: /* fragment */
    snprintf(out, outlen, "%s#sec%u", path, form % 7);
    break;
  case 4: /* whitespace around the attribute value */
    snprintf(out, outlen, " %s ", path);
    break;
  case 5: /* upper-case scheme and host */
    snprintf(out, outlen, "%s://H%04d.TEST:%d%s", tw_site_scheme(o, 1), host, port, path);
    break;
  case 6: /* dot segments */
    if (to == 0)
      snprintf(out, outlen, "/d1/../");
    else if (from != 0 && fk == tk)
      snprintf(out, outlen, "./p%d.html", to);
    else
      snprintf(out, outlen, "/d%d/../d%d/p%d.html", (tk + 3) % 10, tk, to);
    break;
  default: /* relative with "./" inside and a fragment */
    if (to == 0)
      snprintf(out, outlen, "/#top");
    else if (from == 0)
      snprintf(out, outlen, "./d%d/./p%d.html#top", tk, to);
    else
      snprintf(out, outlen, "../d%d/./p%d.html#top", tk, to);
    break;
  }
}

/* Picks the target and spelling of link i of (host, page). Pages link mostly
 * to their next few neighbours (so every page is reachable eventually) and to
 * random pages (so most are reachable within a few hops). */
static void make_link(const tw_site_opts *o, int host, int page, int port,
                      int i, tw_link *l)
{
  uint64_t r0 = tw_hash4(o->seed, (uint64_t)host, (uint64_t)page, (uint64_t)i);
  uint64_t r1 = tw_mix64(r0), r2 = tw_mix64(r1), r3 = tw_mix64(r2);
  int roll = (int)(r0 % 100);
  char path[48];

  l->host = host;
  l->page = -1;
  l->missing = -1;
  if (roll < o->broken_pct) {
    l->missing = page * o->links + i;
    snprintf(path, sizeof(path), "/missing/%d.html", l->missing);
    if (r1 % 2)
      snprintf(l->href, sizeof(l->href), "%s", path);
    else
      snprintf(l->href, sizeof(l->href), "%s://h%04d.test:%d%s",
               tw_site_scheme(o, 0), host, port, path);
    return;
  }
  if (roll < o->broken_pct + o->cross_pct && o->hosts > 1) {
    l->host = 1 + (host - 1 + 1 + (int)(r1 % (uint64_t)(o->hosts - 1))) %
                      o->hosts;
    l->page = r2 % 4 == 0 ? 0 : (int)(r3 % (uint64_t)o->pages);
    tw_site_page_path(l->page, path, sizeof(path));
    switch (r3 % 3) {
    case 0:
      snprintf(l->href, sizeof(l->href), "%s://h%04d.test:%d%s",
               tw_site_scheme(o, 0), l->host, port, path);
      break;
    case 1:
      snprintf(l->href, sizeof(l->href), "%s://H%04d.TEST:%d%s",
               tw_site_scheme(o, 1), l->host, port, path);
      break;
    default:
      snprintf(l->href, sizeof(l->href), "%s://h%04d.test:%d%s#x",
               tw_site_scheme(o, 0), l->host, port, path);
      break;
    }
    return;
  }
  int kind = (int)(r1 % 10);
  if (kind < 4)
    l->page = (page + 1 + (int)(r2 % 5)) % o->pages;
  else if (kind == 4)
    l->page = 0;
  else
    l->page = (int)(r2 % (uint64_t)o->pages);
  same_host_href(o, host, port, page, l->page, (unsigned)(r3 % 1000), l->href,
                 sizeof(l->href));
}

int tw_site_page_links(const tw_site_opts *o, int host, int page, int port,
                       tw_link *links)
{
  for (int i = 0; i < o->links; i++) {
    uint64_t d = tw_hash4(o->seed ^ 0xd0b1eULL, (uint64_t)host,
                          (uint64_t)page, (uint64_t)i);
    if (i > 0 && d % 10 == 0) {
      links[i] = links[tw_mix64(d) % (uint64_t)i]; /* exact duplicate */
      continue;
    }
    make_link(o, host, page, port, i, &links[i]);
  }
  return o->links;
}

static const char *const filler_words[] = {
  "crawler", "frontier", "politeness", "token", "bucket", "robots",
  "latency", "socket", "event", "loop", "thread", "queue", "anchor",
  "&amp;", "page", "host", "link", "depth", "fetch", "parse", "deflate",
  "caf&eacute;", "&lt;tag&gt;", "keep-alive", "header", "body",
};

/* Appends filler paragraphs until out reaches `target` bytes, so page size
 * is a knob for benchmarks without changing the link graph. */
static void append_filler(const tw_site_opts *o, uint64_t key, size_t target,
                          tw_buf *out)
{
  size_t nwords = sizeof(filler_words) / sizeof(filler_words[0]);
  uint64_t r = tw_mix64(o->seed ^ key);
  int para = 0;
  while (out->len + 20 < target) {
    tw_buf_printf(out, "<p id=\"f%d\">", para++);
    for (int w = 0; w < 24 && out->len + 10 < target; w++) {
      r = tw_mix64(r);
      tw_buf_puts(out, filler_words[r % nwords]);
      tw_buf_puts(out, w == 23 ? "." : " ");
    }
    tw_buf_puts(out, "</p>\n");
  }
}

static void append_head(tw_buf *out, const char *title)
{
  tw_buf_printf(out,
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                "<meta charset=\"utf-8\">\n<title>%s</title>\n"
                "<link rel=\"stylesheet\" href=\"/style.css\">\n"
                "</head>\n<body>\n",
                title);
}

void tw_site_page_html(const tw_site_opts *o, int host, int page, int port,
                       tw_buf *out)
{
  tw_link *links = calloc((size_t)(o->links > 0 ? o->links : 1),
                          sizeof(*links));
  if (links == NULL)
    abort();
  char title[96];
  snprintf(title, sizeof(title), "h%04d.test page %d &amp; friends", host,
           page);
  append_head(out, title);
  tw_buf_printf(out,
                "<h1>Page %d of h%04d.test</h1>\n"
                "<p>Fish &amp; chips &lt;3, caf&eacute; &#x2014; a test.</p>\n"
                "<ul>\n",
                page, host);
  tw_site_page_links(o, host, page, port, links);
  for (int i = 0; i < o->links; i++)
    tw_buf_printf(out, "<li><a href=\"%s\">link %d &rarr; %s</a></li>\n",
                  links[i].href, i, i % 3 ? "more" : "next &amp; on");
  tw_buf_printf(out,
                "</ul>\n<p><a href=\"mailto:x@h0001.test\">mail</a> "
                "<a href=\"javascript:void(0)\">script</a> "
                "<a rel=\"nofollow\" href=\"/nofollow/%d.html\">hidden</a></p>\n",
                page);
  append_filler(o, ((uint64_t)host << 32) | (uint64_t)page,
                o->page_bytes > 16 ? o->page_bytes - 16 : 0, out);
  tw_buf_puts(out, "</body>\n</html>\n");
  free(links);
}

void tw_site_leaf_html(const tw_site_opts *o, const char *title,
                       int link_home, size_t size, tw_buf *out)
{
  append_head(out, title);
  tw_buf_printf(out, "<h1>%s</h1>\n", title);
  if (link_home)
    tw_buf_puts(out, "<p><a href=\"/\">home</a></p>\n");
  append_filler(o, tw_hash_str(0, 0, title), size > 16 ? size - 16 : 0, out);
  tw_buf_puts(out, "</body>\n</html>\n");
}
