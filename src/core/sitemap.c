/* sitemap.c - Sitemaps: urlsets, indexes, gzip, robots.txt lines (see sitemap.h). */
#include "uvcrawl/sitemap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zlib.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"
#include "uvcrawl/seen.h"
#include "uvcrawl/url.h"

/* Resolve one <loc> or Sitemap: value (len bytes, whitespace around it
 * trimmed) and keep it if it is a new http(s) URL; a bad one is counted
 * as skipped. */
static int add(uc_links *out, uc_seen *dedup, const uc_url_base *base, const char *v,
               size_t len) {
  while (len > 0 && strchr(" \t\r\n", *v) != NULL)
    v++, len--;
  while (len > 0 && strchr(" \t\r\n", v[len - 1]) != NULL)
    len--;
  out->found++;
  char *ref = strndup(v, len), *url = NULL;
  if (ref == NULL)
    return UC_ENOMEM;
  uc_url_parts parts;
  int rc = len > 0 ? uc_url_resolve_at(base, ref, &url, &parts) : UC_EBADURL;
  free(ref);
  if (rc == UC_ENOMEM)
    return rc;
  if (rc != 0) {
    out->skipped++;
    return 0;
  }
  rc = uc_seen_insert(dedup, url, strlen(url));
  if (rc <= 0 || (rc = uc_links_push(out, url, &parts)) != 0)
    free(url);
  return rc;
}

/* The base that relative references resolve against, parsed once; NULL
 * when `url` is no absolute http(s) URL (a relative one is then skipped as
 * malformed, as before). */
static int parse_base(const char *url, uc_url_base **out) {
  *out = NULL;
  int rc = url != NULL ? uc_url_base_new(url, out) : 0;
  return rc == UC_ENOMEM ? rc : 0;
}

/* gzip -> bytes in `out`, refused past UC_SITEMAP_MAX_BYTES. */
static int gunzip(const char *body, size_t len, uc_buf *out) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    return UC_ENOMEM;
  zs.next_in = (Bytef *)(uintptr_t)body;
  zs.avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
  int zrc = Z_OK, rc = 0;
  while (zrc == Z_OK && rc == 0) {
    if ((rc = uc_buf_reserve(out, 64 * 1024)) != 0)
      break;
    zs.next_out = (Bytef *)out->data + out->len;
    zs.avail_out = (uInt)(out->cap - out->len - 1);
    zrc = inflate(&zs, Z_NO_FLUSH);
    out->len = (size_t)((char *)zs.next_out - out->data);
    out->data[out->len] = '\0';
    if (out->len > UC_SITEMAP_MAX_BYTES)
      rc = UC_EINVAL; /* a gzip bomb, or just over the protocol's limit */
    else if (zrc == Z_BUF_ERROR && zs.avail_out > 0)
      rc = UC_EINVAL; /* truncated input */
    else if (zrc == Z_BUF_ERROR)
      zrc = Z_OK; /* output full: grow and go on */
  }
  if (rc == 0 && zrc != Z_STREAM_END)
    rc = zrc == Z_MEM_ERROR ? UC_ENOMEM : UC_EINVAL;
  inflateEnd(&zs);
  return rc;
}

/* The element's local name is `name` (namespaces are not checked: many
 * sitemaps in the wild get the namespace wrong). */
static bool is(const xmlNode *n, const char *name) {
  return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* Each <entry><loc>URL</loc></entry> child of root, up to the limit. */
static int collect(const xmlNode *root, const char *entry, const uc_url_base *base, uc_sitemap *out,
                   uc_seen *dedup) {
  int rc = 0;
  for (const xmlNode *e = root->children; e != NULL && rc == 0; e = e->next) {
    if (!is(e, entry))
      continue;
    for (const xmlNode *loc = e->children; loc != NULL; loc = loc->next) {
      if (!is(loc, "loc"))
        continue;
      if (out->links.found >= UC_SITEMAP_MAX_URLS) {
        out->truncated = true;
        return 0;
      }
      xmlChar *text = xmlNodeGetContent(loc);
      if (text == NULL)
        return UC_ENOMEM;
      rc = add(&out->links, dedup, base, (const char *)text, strlen((const char *)text));
      xmlFree(text);
      break; /* one <loc> an entry */
    }
  }
  return rc;
}

void uc_sitemap_global_init(void) {
  xmlInitParser();
}

int uc_sitemap_parse(const char *body, size_t len, const char *base, uc_sitemap *out) {
  memset(out, 0, sizeof *out);
  uc_buf plain = UC_BUF_INIT;
  int rc = 0;
  if (len >= 2 && (unsigned char)body[0] == 0x1f && (unsigned char)body[1] == 0x8b) {
    if ((rc = gunzip(body, len, &plain)) != 0) {
      uc_buf_free(&plain);
      return rc;
    }
    body = plain.data;
    len = plain.len;
  }
  if (len > UC_SITEMAP_MAX_BYTES || len > INT32_MAX) {
    uc_buf_free(&plain);
    return UC_EINVAL;
  }
  /* Note: no XML_PARSE_NOENT or DTDLOAD: entities are not substituted and
   * no external DTD is read, so an XXE entity reaches no file; NONET keeps
   * libxml2 off the network whatever the document names. */
  xmlDoc *doc = xmlReadMemory(body, (int)len, base, NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  uc_buf_free(&plain);
  xmlNode *root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
  uc_seen *dedup = NULL;
  uc_url_base *parsed_base = NULL;
  if (root == NULL || !(is(root, "urlset") || is(root, "sitemapindex")))
    rc = UC_EINVAL;
  else if ((rc = uc_seen_new(&dedup, NULL)) == 0)
    rc = parse_base(base, &parsed_base);
  if (rc == 0) {
    out->index = is(root, "sitemapindex");
    rc = collect(root, out->index ? "sitemap" : "url", parsed_base, out, dedup);
  }
  uc_url_base_free(parsed_base);
  uc_seen_free(dedup);
  xmlFreeDoc(doc);
  if (rc != 0) {
    uc_links_free(&out->links);
    memset(out, 0, sizeof *out);
  }
  return rc;
}

int uc_sitemap_from_robots(const char *body, size_t len, const char *robots_url, uc_links *out) {
  memset(out, 0, sizeof *out);
  uc_seen *dedup = NULL;
  uc_url_base *base = NULL;
  int rc = uc_seen_new(&dedup, NULL);
  if (rc == 0)
    rc = parse_base(robots_url, &base);
  for (size_t at = 0; rc == 0 && at < len;) {
    const char *line = body + at;
    const char *nl = memchr(line, '\n', len - at);
    size_t n = nl != NULL ? (size_t)(nl - line) : len - at;
    at += n + 1;
    size_t lead = 0;
    while (lead < n && (line[lead] == ' ' || line[lead] == '\t'))
      lead++;
    line += lead, n -= lead;
    const char *hash = memchr(line, '#', n); /* a comment ends the value */
    if (hash != NULL)
      n = (size_t)(hash - line);
    if (n > 8 && strncasecmp(line, "sitemap", 7) == 0) {
      size_t k = 7;
      while (k < n && (line[k] == ' ' || line[k] == '\t'))
        k++;
      if (k < n && line[k] == ':')
        rc = add(out, dedup, base, line + k + 1, n - k - 1);
    }
  }
  uc_url_base_free(base);
  uc_seen_free(dedup);
  if (rc != 0)
    uc_links_free(out);
  return rc;
}
