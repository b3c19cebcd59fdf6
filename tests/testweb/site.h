/* site.h - the deterministic website: link graph, page bodies and routes.
 *
 * One generator serves both the HTTP server and --expect, so the set of URLs
 * --expect prints is computed from exactly the bytes the server sends.
 * Everything here is pure: no clock, no I/O, no global state. */
#ifndef TW_SITE_H
#define TW_SITE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/** Per-URL misbehaviour of a normal page (chosen by hash of seed+host+page). */
typedef enum tw_fault {
  TW_FAULT_NONE,
  TW_FAULT_5XX,        /* 500 or 503, no links */
  TW_FAULT_RESET,      /* connection reset before any response */
  TW_FAULT_SLOW,       /* the real page, trickled at --slow-bps */
  TW_FAULT_HUGE,       /* --huge-bytes of link-less HTML */
  TW_FAULT_REDIRECT,   /* 302 to /d<k>/p<n>r.html, which serves the page */
  TW_FAULT_WRONG_TYPE, /* the page served as application/octet-stream */
  TW_FAULT_COUNT
} tw_fault;

/** Site shape; all fields plain values, copied freely. */
typedef struct tw_site_opts {
  uint64_t seed;
  int hosts;                      /* h0001.test .. h<hosts>.test */
  int pages;                      /* pages per host, page 0 is "/" */
  int links;                      /* links per page */
  size_t page_bytes;              /* pad pages to about this size */
  int cross_pct;                  /* share of links to another host */
  int broken_pct;                 /* share of links to /missing/<n>.html */
  int fault_pct[TW_FAULT_COUNT];  /* indexed by tw_fault; NONE unused */
  int https;                      /* --scheme https: absolute links say https */
  int localhost;                  /* --localhost N: the name "localhost" is hN.test; 0: 404 */
} tw_site_opts;

/** One link of a page: where it goes and how the HTML spells it. */
typedef struct tw_link {
  int host;       /* target host number, 1-based */
  int page;       /* target page, or -1 when missing >= 0 */
  int missing;    /* id of /missing/<id>.html, or -1 */
  char href[128]; /* the attribute text, possibly odd but resolvable */
} tw_link;

/** What a request path maps to. */
typedef enum tw_route_kind {
  TW_R_NOTFOUND,
  TW_R_PAGE,        /* arg = page number */
  TW_R_ALIAS,       /* arg = page number: target of a redirect fault */
  TW_R_ROBOTS,
  TW_R_ROBOTS_MOVED, /* /robots-moved.txt: where a redirecting robots.txt points */
  TW_R_STYLE,
  TW_R_NOFOLLOW,    /* arg = n */
  TW_R_MISSING,     /* arg = id; 404 */
  TW_R_F500,
  TW_R_F503,
  TW_R_F429,        /* arg = Retry-After seconds from ?after=N */
  TW_R_FRESET,
  TW_R_FSLOW,
  TW_R_FHUGE,
  TW_R_FENDLESS,
  TW_R_FREDIRECT,   /* arg = N */
  TW_R_FTOHOST,     /* /fault/to-host/N: 301 to host N's root; arg = N */
  TW_R_FLOOP,
  TW_R_FLOOP2,
  TW_R_FWRONGTYPE,
  TW_R_FBINARY,
  TW_R_FGZIP,
  TW_R_FCHUNKED,    /* a leaf page sent chunked (gzip'd when asked), trailer and all */
  TW_R_FBOMB,
  TW_R_FHUGEHDR,
  TW_R_FLONGHDR,    /* one header line of 2 MiB */
  TW_R_FFLAKY,      /* arg = K */
  TW_R_FTRAP,       /* /fault/trap/...: an endless tree of relative links */
  TW_R_FNOTFOUND
} tw_route_kind;

typedef struct tw_route {
  tw_route_kind kind;
  long arg;
} tw_route;

/** Host number for a Host header value ("h0002.test:8080", any case), or 0
 *  when it names no host of this site. */
int tw_site_host_parse(const tw_site_opts *o, const char *host);

/** Classify a request target (path with optional "?query"; borrowed). */
tw_route tw_site_route(const tw_site_opts *o, const char *target);

/** Write the path of page n ("/" or "/d<k>/p<n>.html") into out. */
void tw_site_page_path(int page, char *out, size_t outlen);

/** "http" or "https" (--scheme), upper-case when `upper`; a static string. */
const char *tw_site_scheme(const tw_site_opts *o, int upper);

/** Canonical absolute URL for host h and path: lower-case, the scheme's
 *  default port (80 or 443) omitted. */
void tw_site_url(const tw_site_opts *o, int host, int port, const char *path,
                 char *out, size_t outlen);

/** The misbehaviour of page n of host h (page 0 never misbehaves). */
tw_fault tw_site_page_fault(const tw_site_opts *o, int host, int page);

/** Fill links[0..o->links) for page n of host h; port goes into absolute
 *  hrefs. Returns the number written (always o->links). links is borrowed
 *  and must hold o->links entries. */
int tw_site_page_links(const tw_site_opts *o, int host, int page, int port,
                       tw_link *links);

/** Append the full HTML of page n of host h (links + filler) to out. */
void tw_site_page_html(const tw_site_opts *o, int host, int page, int port,
                       tw_buf *out);

/** Append a small link-less page (or one whose only link is "/" when
 *  link_home) padded to about size bytes. title is borrowed, plain ASCII. */
void tw_site_leaf_html(const tw_site_opts *o, const char *title,
                       int link_home, size_t size, tw_buf *out);

#endif
