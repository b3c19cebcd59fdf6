/*
 * extract - the links of an HTML page, through gumbo-parser (the default,
 * HTML5-exact) or libxml2's HTML push parser (fast, fed as bytes arrive).
 *
 * From an HTML body and the URL it was fetched from, uc_extract() returns the
 * page's outgoing links as normalized absolute http(s) URLs (see url.h), in
 * document order, each once. Sources:
 *
 *   a[href], area[href]       skipped when rel has "nofollow"
 *   link[href]                skipped when rel names a resource (stylesheet,
 *                             icon, apple-touch-icon, mask-icon) unless
 *                             want_stylesheets; always skipped when rel is a
 *                             hint or metadata (preload, prefetch, preconnect,
 *                             dns-prefetch, modulepreload, prerender,
 *                             manifest, pingback, EditURI, wlwmanifest,
 *                             search); kept otherwise (alternate, next, prev,
 *                             canonical, no rel at all, ...)
 *   frame[src], iframe[src]
 *   meta http-equiv=refresh   content="5; url=/x", "url=/x", "0;/x",
 *                             "5; URL='/x'" (case-insensitive)
 *
 * The first <base href> (resolved against the page URL) is the base for all
 * the others. <meta name=robots content=...> sets `nofollow` ("nofollow" or
 * "none") and `noindex` ("noindex" or "none"). Only elements in the HTML
 * namespace count (not <a> inside <svg>). Links inside <template> and
 * <noscript> count (the crawler sees markup, not a rendering).
 *
 * A fragment-only or empty href ("#top", "") points at the page itself and
 * is returned like any link (the page's own URL); the crawler's seen set
 * drops it. Whitespace and entities in attributes are handled: the parser
 * decodes entities, url.h strips and removes whitespace.
 *
 * Counters: `found` counts every candidate link attribute (the sources above,
 * after the <link rel> filter, before dedup); `skipped` counts candidates
 * dropped for their scheme (javascript:, mailto:, data:, ...), for being
 * malformed or too long, or for nofollow. found - skipped - duplicates =
 * count.
 *
 * Both parsers apply these same rules (src/core/extract.c holds them once);
 * where the parsers build a different document from the same bytes, the
 * links differ: docs/parsers.md lists each kind of difference.
 *
 * Reentrant, no global state; one call uses only its arguments, so threads
 * may extract in parallel (libcurl must have been initialized first, and
 * for UC_PARSER_LIBXML2 libxml2 too: uc_extract_global_init()).
 */
#ifndef UVCRAWL_EXTRACT_H
#define UVCRAWL_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

#include "uvcrawl/url.h"

/** Default for uc_extract_opts.max_bytes: 4 MiB. */
#define UC_EXTRACT_MAX_BYTES ((size_t)4 << 20)

/** Default for uc_extract_opts.max_nesting. */
#define UC_EXTRACT_MAX_NESTING 400u

/** The HTML parser behind uc_extract() and uc_extractor_*. */
typedef enum uc_parser {
  UC_PARSER_GUMBO = 0, /* gumbo-parser: the HTML5 tree, built once the body is whole */
  UC_PARSER_LIBXML2,   /* libxml2's HTML push parser with SAX callbacks: no tree,
                          links found as bytes are fed */
} uc_parser;

/** Options of uc_extract(); zero-initialize for the defaults. */
typedef struct uc_extract_opts {
  size_t max_bytes;      /* parse at most this many bytes of the body (0 ->
                            UC_EXTRACT_MAX_BYTES); longer input is truncated,
                            not refused */
  unsigned max_nesting;  /* refuse input whose element nesting is deeper than
                            this (0 -> UC_EXTRACT_MAX_NESTING): UC_ETOODEEP.
                            gumbo: estimated by a cheap pre-scan before it
                            parses (gumbo slows down badly on absurd
                            nesting). libxml2: its own stack of open
                            elements, counted exactly as it parses; the
                            parse stops there. The two can disagree near
                            the limit (e.g. libxml2 honours "<div/>") */
  bool want_stylesheets; /* also return link[rel~=stylesheet] and icons */
  bool ignore_nofollow;  /* follow rel=nofollow and meta robots nofollow
                            anyway */
  uc_parser parser;      /* default UC_PARSER_GUMBO */
} uc_extract_opts;

/** The links of one page. Caller storage; the urls are owned by it. */
typedef struct uc_links {
  char **urls;    /* owned: normalized absolute http(s) URLs, unique within
                     the page, in document order; free with uc_links_free() */
  uc_url_parts *parts; /* owned: parts[i] says where the parts of urls[i]
                          lie (same count and cap as urls) */
  size_t count;   /* entries used in urls */
  size_t cap;     /* entries allocated in urls */
  size_t found;   /* candidate link attributes seen, before dedup */
  size_t skipped; /* dropped: unsupported scheme, malformed, or nofollow */
  bool nofollow;  /* the page has <meta name=robots content=...nofollow...>
                     (then urls is empty unless ignore_nofollow) */
  bool noindex;   /* ...noindex... */
} uc_links;

/**
 * Extract the links of an HTML page.
 *
 * @param html      the body (borrowed; any bytes, NULs included, need not be
 *                  NUL-terminated; decoded as UTF-8, invalid bytes replaced).
 *                  May be NULL when len is 0.
 * @param len       bytes in html; only the first max_bytes are parsed.
 * @param page_url  the URL the page was fetched from (borrowed; its final
 *                  URL after redirects), the base for relative links.
 * @param o         options (borrowed), or NULL for the defaults.
 * @param out       caller storage, zeroed here; on success holds the links
 *                  (free with uc_links_free()).
 * @return 0, UC_ETOODEEP (nesting above max_nesting, see there), UC_EBADURL
 *         (page_url is not an absolute http(s) URL), UC_ENOMEM. On error
 *         *out is empty and needs no free.
 */
int uc_extract(const char *html, size_t len, const char *page_url, const uc_extract_opts *o,
               uc_links *out);

/**
 * Initialize libxml2 once, before any thread extracts with
 * UC_PARSER_LIBXML2 (xmlInitParser). Idempotent; not thread-safe itself.
 */
void uc_extract_global_init(void);

/** One page's extraction, fed piece by piece (opaque). */
typedef struct uc_extractor uc_extractor;

/**
 * Start extracting the links of a page whose body will be fed in pieces.
 * With UC_PARSER_LIBXML2 the bytes are parsed as they are fed and only the
 * references found are kept; with UC_PARSER_GUMBO they are kept and parsed
 * at uc_extractor_finish().
 * @param out       on 0, the extractor (free with uc_extractor_free()).
 * @param page_url  as for uc_extract() (copied).
 * @param o         options (copied), or NULL for the defaults.
 * @return 0, UC_EBADURL, UC_ENOMEM.
 */
int uc_extractor_new(uc_extractor **out, const char *page_url, const uc_extract_opts *o);

/**
 * Feed the next bytes of the body (UTF-8; any split, even inside a
 * character or a tag). Bytes past max_bytes are ignored.
 * @param bytes  borrowed for the call.
 * @return 0, UC_ETOODEEP, UC_ENOMEM; after an error every later feed and
 *         the finish return it again.
 */
int uc_extractor_feed(uc_extractor *x, const char *bytes, size_t len);

/**
 * The body is complete: parse its end now and free the parser, keeping
 * only the references found (libxml2: its parser context is over 14 KB;
 * a page that waits for uc_extractor_finish() need not hold it). Later
 * feeds are ignored. For gumbo, which parses at the finish, only that.
 * @return 0, UC_ETOODEEP, UC_ENOMEM (then the finish returns it too).
 */
int uc_extractor_end(uc_extractor *x);

/**
 * The body is complete: the page's links, as uc_extract() gives them for
 * the concatenation of what was fed. Call once.
 * @param out  caller storage, zeroed here; on 0 holds the links (free with
 *             uc_links_free()).
 * @return 0, UC_ETOODEEP, UC_ENOMEM (then *out is empty).
 */
int uc_extractor_finish(uc_extractor *x, uc_links *out);

/** Free an extractor; NULL is a no-op. */
void uc_extractor_free(uc_extractor *x);

/**
 * Append a URL and its parts to `l` (its arrays grow as needed).
 * @param url    owned by `l` on success; the caller's on failure.
 * @param parts  copied.
 * @return 0 or UC_ENOMEM.
 */
int uc_links_push(uc_links *l, char *url, const uc_url_parts *parts);

/**
 * Free the urls of `l` and leave it empty (l itself is caller storage).
 * @param l  links from uc_extract(), or zeroed storage, or NULL (no-op).
 */
void uc_links_free(uc_links *l);

#endif /* UVCRAWL_EXTRACT_H */
