/*
 * sitemap - the Sitemaps protocol (sitemaps.org): the URLs of a urlset,
 * the sitemaps of a sitemap index, gzip'd or not, within the protocol's
 * limits (50,000 URLs and 50 MB uncompressed a file), and the "Sitemap:"
 * lines of a robots.txt. XML is parsed with libxml2 (no network, no
 * external entities, no DTD loading); gzip is undone with zlib.
 *
 * Pure functions on caller buffers: no state, no clock, safe on any thread
 * once uc_sitemap_global_init() has run.
 */
#ifndef UVCRAWL_SITEMAP_H
#define UVCRAWL_SITEMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "uvcrawl/extract.h"

#define UC_SITEMAP_MAX_URLS 50000                   /* <loc> entries read from one file */
#define UC_SITEMAP_MAX_BYTES (50u * 1024 * 1024)    /* one file, uncompressed */

/** What one sitemap file held. */
typedef struct uc_sitemap {
  uc_links links;  /* owned: normalized absolute http(s) URLs, unique, in file order;
                      free with uc_links_free(&links) */
  bool index;      /* a <sitemapindex>: links are sitemaps; else a <urlset>: pages */
  bool truncated;  /* more than UC_SITEMAP_MAX_URLS entries: the rest were dropped */
} uc_sitemap;

/**
 * Initialize libxml2 once, before any thread parses (its first use is not
 * thread-safe). Call from main() before an engine starts; idempotent.
 */
void uc_sitemap_global_init(void);

/**
 * Parse one sitemap file.
 * @param body  the bytes as fetched (borrowed): XML, or gzip of XML (told by
 *              the gzip magic bytes, whatever the Content-Type said).
 * @param len   bytes in body; over UC_SITEMAP_MAX_BYTES once uncompressed
 *              is refused.
 * @param base  the sitemap's URL (borrowed), for relative <loc> values
 *              (the protocol wants absolute ones; relative are resolved).
 * @param out   caller storage, zeroed here; filled on success.
 * @return 0, UC_EINVAL (not a sitemap: bad gzip, too large, malformed XML,
 *         or a root other than urlset/sitemapindex), UC_ENOMEM. On error
 *         *out is empty and needs no free. Entries that are not http(s)
 *         URLs are skipped (counted in out->links.skipped).
 */
int uc_sitemap_parse(const char *body, size_t len, const char *base, uc_sitemap *out);

/**
 * The "Sitemap:" lines of a robots.txt (any case, anywhere in the file,
 * outside groups as RFC 9309 says), resolved against the robots.txt URL.
 * @param body, len    robots.txt as fetched (borrowed).
 * @param robots_url   its URL (borrowed).
 * @param out          caller storage, zeroed here (free with uc_links_free()).
 * @return 0 or UC_ENOMEM.
 */
int uc_sitemap_from_robots(const char *body, size_t len, const char *robots_url, uc_links *out);

#endif /* UVCRAWL_SITEMAP_H */
