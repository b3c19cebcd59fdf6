/*
 * extract.c - the link rules shared by both parsers, the resolution of what
 * they found, and the entry points (see extract.h).
 *
 * A parser adapter (extract_gumbo.c, extract_xml.c) presents each HTML
 * element to uc_xrules_element(), which keeps the candidate references;
 * uc_xrules_finish() resolves, filters and dedups them in document order
 * (resolve_one). uc_extractor_* hold one page's parse between feeds;
 * uc_extract() is the one-shot form.
 */
#include "uvcrawl/extract.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extract_int.h"
#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"
#include "uvcrawl/url.h"

/* ---- the rules -------------------------------------------------------- */

/* Does the whitespace- (and, with commas, comma-) separated list contain
 * `token`, case-insensitively? */
static bool has_token(const char *list, const char *token, bool commas) {
  size_t tlen = strlen(token);
  const char *p = list;
  while (*p != '\0') {
    while (*p != '\0' && (uc_xis_space(*p) || (commas && *p == ',')))
      p++;
    const char *start = p;
    while (*p != '\0' && !uc_xis_space(*p) && !(commas && *p == ','))
      p++;
    if ((size_t)(p - start) == tlen && strncasecmp(start, token, tlen) == 0)
      return true;
  }
  return false;
}

static bool link_rel_wanted(const char *rel, bool want_stylesheets) {
  static const char *const resources[] = {
      "stylesheet", "icon", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon",
      NULL};
  static const char *const hints[] = {
      "preload", "prefetch", "preconnect", "dns-prefetch", "modulepreload", "prerender",
      "manifest", "pingback", "edituri", "wlwmanifest", "search", NULL};
  if (rel == NULL)
    return true;
  for (const char *const *t = hints; *t != NULL; t++)
    if (has_token(rel, *t, false))
      return false;
  if (!want_stylesheets)
    for (const char *const *t = resources; *t != NULL; t++)
      if (has_token(rel, *t, false))
        return false;
  return true;
}

/*
 * The URL in a refresh content: "5; url=/x", "5;URL='/x'", "url=/x", "0;/x".
 * Returns false when there is none ("5").
 */
static bool refresh_url(const char *content, const char **url, size_t *len) {
  const char *p = content;
  while (uc_xis_space(*p))
    p++;
  while ((*p >= '0' && *p <= '9') || *p == '.')
    p++;
  while (uc_xis_space(*p))
    p++;
  if (*p == ';' || *p == ',')
    p++;
  while (uc_xis_space(*p))
    p++;
  if (strncasecmp(p, "url", 3) == 0) {
    const char *q = p + 3;
    while (uc_xis_space(*q))
      q++;
    if (*q == '=') {
      p = q + 1;
      while (uc_xis_space(*p))
        p++;
    }
  }
  const char *end = p + strlen(p);
  if (*p == '"' || *p == '\'') {
    const char *close = strchr(p + 1, *p);
    end = close != NULL ? close : end;
    p++;
  }
  if (end == p)
    return false;
  *url = p;
  *len = (size_t)(end - p);
  return true;
}

/* Keep a candidate; with r->copy its bytes are copied (NUL-terminated). */
static int add_ref(uc_xrules *r, const char *ref, size_t len, bool nofollow) {
  if (r->count == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 64;
    struct uc_xref *refs = realloc(r->refs, cap * sizeof *refs);
    if (refs == NULL)
      return UC_ENOMEM;
    r->refs = refs;
    r->cap = cap;
  }
  struct uc_xref x = {ref, 0, len, nofollow};
  if (r->copy) {
    x.ref = NULL;
    x.off = r->copies.len;
    int rc = uc_buf_append(&r->copies, ref, len);
    if (rc == 0)
      rc = uc_buf_append(&r->copies, "", 1);
    if (rc != 0)
      return rc;
  }
  r->refs[r->count++] = x;
  r->out->found++;
  return 0;
}

static int set_base(uc_xrules *r, const char *href) {
  if (r->has_base || href == NULL)
    return 0;
  r->has_base = true;
  if (!r->copy) {
    r->base_href = href;
    return 0;
  }
  r->base_off = r->copies.len;
  return uc_buf_append(&r->copies, href, strlen(href) + 1);
}

static int meta(uc_xrules *r, uc_xattr_fn attr, const void *elem) {
  const char *content = attr(elem, "content");
  if (content == NULL)
    return 0;
  const char *name = attr(elem, "name");
  if (name != NULL && strcasecmp(name, "robots") == 0) {
    bool none = has_token(content, "none", true);
    r->out->nofollow |= none || has_token(content, "nofollow", true);
    r->out->noindex |= none || has_token(content, "noindex", true);
  }
  const char *equiv = attr(elem, "http-equiv"), *url;
  size_t len;
  if (equiv != NULL && strcasecmp(equiv, "refresh") == 0 && refresh_url(content, &url, &len))
    return add_ref(r, url, len, false);
  return 0;
}

int uc_xrules_element(uc_xrules *r, uc_xelem kind, uc_xattr_fn attr, const void *elem) {
  const char *v, *rel;
  switch (kind) {
  case UC_XE_A:
    if ((v = attr(elem, "href")) == NULL)
      return 0;
    rel = attr(elem, "rel");
    return add_ref(r, v, strlen(v), rel != NULL && has_token(rel, "nofollow", false));
  case UC_XE_LINK:
    if ((v = attr(elem, "href")) == NULL ||
        !link_rel_wanted(attr(elem, "rel"), r->want_stylesheets))
      return 0;
    return add_ref(r, v, strlen(v), false);
  case UC_XE_FRAME:
    if ((v = attr(elem, "src")) == NULL)
      return 0;
    return add_ref(r, v, strlen(v), false);
  case UC_XE_BASE:
    return set_base(r, attr(elem, "href"));
  case UC_XE_META:
    return meta(r, attr, elem);
  case UC_XE_OTHER:
    return 0;
  }
  return 0;
}

/* ---- resolving and dedup ---------------------------------------------- */

/* Open-addressing set of the urls already in out, by index + 1. */
struct url_set {
  size_t *slots;
  size_t mask; /* slots - 1, a power of two minus one */
};

static size_t str_hash(const char *s) {
  return (size_t)uc_xname_hash(s, strlen(s));
}

/* Add out->urls[idx] unless an equal URL is there; *dup tells which. */
static int set_add(struct url_set *set, uc_links *out, size_t idx, bool *dup) {
  if (set->slots == NULL || (idx + 1) * 2 > set->mask) {
    size_t size = set->slots ? (set->mask + 1) * 2 : 64;
    size_t *slots = calloc(size, sizeof *slots);
    if (slots == NULL)
      return UC_ENOMEM;
    for (size_t i = 0; set->slots != NULL && i <= set->mask; i++) {
      if (set->slots[i] == 0)
        continue;
      size_t j = str_hash(out->urls[set->slots[i] - 1]) & (size - 1);
      while (slots[j] != 0)
        j = (j + 1) & (size - 1);
      slots[j] = set->slots[i];
    }
    free(set->slots);
    set->slots = slots;
    set->mask = size - 1;
  }
  const char *url = out->urls[idx];
  size_t j = str_hash(url) & set->mask;
  for (; set->slots[j] != 0; j = (j + 1) & set->mask) {
    if (strcmp(out->urls[set->slots[j] - 1], url) == 0) {
      *dup = true;
      return 0;
    }
  }
  set->slots[j] = idx + 1;
  *dup = false;
  return 0;
}

int uc_links_push(uc_links *out, char *url, const uc_url_parts *parts) {
  if (out->count == out->cap) {
    size_t cap = out->cap ? out->cap * 2 : 32;
    char **urls = realloc(out->urls, cap * sizeof *urls);
    if (urls == NULL)
      return UC_ENOMEM;
    out->urls = urls;
    uc_url_parts *p = realloc(out->parts, cap * sizeof *p);
    if (p == NULL)
      return UC_ENOMEM;
    out->parts = p;
    out->cap = cap;
  }
  out->parts[out->count] = *parts;
  out->urls[out->count++] = url;
  return 0;
}

/* One page's references on their way to out: the base, parsed once, and
 * the set that drops duplicates. */
struct resolver {
  const uc_url_base *base;
  bool follow_all; /* ignore nofollow */
  struct url_set set;
  uc_buf scratch; /* a NUL-terminated copy of a reference that has none */
  uc_links *out;
};

/*
 * A raw reference found in the page (len bytes, need not be NUL-terminated):
 * resolve it against the base, drop it for nofollow, a bad or unsupported
 * URL, or as a duplicate, else append it (with its parts) to out. Any
 * extractor calls this for each candidate, in document order.
 */
static int resolve_one(struct resolver *rs, const char *ref, size_t len, bool nofollow) {
  uc_links *out = rs->out;
  if (!rs->follow_all && (out->nofollow || nofollow)) {
    out->skipped++;
    return 0;
  }
  int rc;
  if (ref[len] != '\0') {
    uc_buf_reset(&rs->scratch);
    if ((rc = uc_buf_append(&rs->scratch, ref, len)) != 0)
      return rc;
    ref = rs->scratch.data;
  }
  char *url = NULL;
  uc_url_parts parts;
  rc = uc_url_resolve_at(rs->base, ref, &url, &parts);
  if (rc != 0) {
    out->skipped += rc != UC_ENOMEM;
    return rc == UC_ENOMEM ? rc : 0;
  }
  if ((rc = uc_links_push(out, url, &parts)) != 0) {
    free(url);
    return rc;
  }
  bool dup;
  if ((rc = set_add(&rs->set, out, out->count - 1, &dup)) == 0 && dup)
    free(out->urls[--out->count]);
  return rc;
}

static int resolve_all(const uc_xrules *r, const uc_url_base *base, bool follow_all) {
  struct resolver rs = {base, follow_all, {NULL, 0}, UC_BUF_INIT, r->out};
  int rc = 0;
  for (size_t i = 0; i < r->count && rc == 0; i++) {
    const struct uc_xref *x = &r->refs[i];
    rc = resolve_one(&rs, x->ref != NULL ? x->ref : r->copies.data + x->off, x->len, x->nofollow);
  }
  free(rs.set.slots);
  uc_buf_free(&rs.scratch);
  return rc;
}

int uc_xrules_finish(uc_xrules *r, const uc_url_base *page_base, bool follow_all) {
  char *base = NULL;
  uc_url_base *href_base = NULL;
  const uc_url_base *effective = page_base;
  int rc = 0;
  if (r->has_base) {
    const char *href = r->copy ? r->copies.data + r->base_off : r->base_href;
    rc = uc_url_resolve_at(page_base, href, &base, NULL);
    if (rc == 0)
      rc = uc_url_base_new(base, &href_base);
    if (rc == 0)
      effective = href_base;
    else if (rc != UC_ENOMEM)
      rc = 0; /* a broken <base> is ignored, as browsers do */
  }
  if (rc == 0)
    rc = resolve_all(r, effective, follow_all);
  uc_url_base_free(href_base);
  free(base);
  return rc;
}

void uc_xrules_free(uc_xrules *r) {
  free(r->refs);
  uc_buf_free(&r->copies);
  memset(r, 0, sizeof *r);
}

/* ---- the entry points ------------------------------------------------- */

/* One page on its way through a parser. */
struct uc_extractor {
  uc_extract_opts opts;    /* with the defaults filled in */
  char *page;              /* the page URL, normalized */
  uc_url_base *page_base;  /* ... parsed */
  uc_links links;          /* what the rules set as elements come */
  uc_xrules rules;
  size_t fed;              /* bytes taken, at most opts.max_bytes */
  int rc;                  /* the first error; then feeding is a no-op */
  bool ended;              /* uc_extractor_end(): feeding is a no-op */
  uc_buf body;             /* gumbo: the body so far (it parses at the end) */
  struct uc_xml *xml;      /* libxml2: the push parser */
};

static void fill_defaults(uc_extract_opts *o, const uc_extract_opts *given) {
  static const uc_extract_opts defaults = {0};
  *o = given != NULL ? *given : defaults;
  if (o->max_bytes == 0)
    o->max_bytes = UC_EXTRACT_MAX_BYTES;
  if (o->max_nesting == 0)
    o->max_nesting = UC_EXTRACT_MAX_NESTING;
}

int uc_extractor_new(uc_extractor **out, const char *page_url, const uc_extract_opts *o) {
  *out = NULL;
  uc_extractor *x = calloc(1, sizeof *x);
  if (x == NULL)
    return UC_ENOMEM;
  fill_defaults(&x->opts, o);
  x->rules.out = &x->links;
  x->rules.want_stylesheets = x->opts.want_stylesheets;
  x->rules.copy = x->opts.parser == UC_PARSER_LIBXML2;
  int rc = uc_url_normalize(page_url, &x->page);
  if (rc == 0)
    rc = uc_url_base_new(x->page, &x->page_base);
  if (rc != 0)
    rc = rc == UC_ENOMEM ? rc : UC_EBADURL;
  else if (x->opts.parser == UC_PARSER_LIBXML2)
    rc = uc_xml_new(&x->xml, x->opts.max_nesting, &x->rules);
  if (rc != 0) {
    uc_extractor_free(x);
    return rc;
  }
  *out = x;
  return 0;
}

int uc_extractor_feed(uc_extractor *x, const char *bytes, size_t len) {
  if (x->rc != 0 || len == 0 || x->ended)
    return x->rc;
  if (len > x->opts.max_bytes - x->fed)
    len = x->opts.max_bytes - x->fed; /* truncated, not refused */
  x->fed += len;
  if (x->xml != NULL)
    x->rc = uc_xml_feed(x->xml, bytes, len, false);
  else
    x->rc = uc_buf_append(&x->body, bytes, len);
  return x->rc;
}

/* gumbo: parse what was fed (borrowed) and apply the rules. */
static int finish_gumbo(uc_extractor *x, const char *html, size_t len) {
  struct uc_gumbo_tree *tree;
  int rc = uc_gumbo_collect(html, len, x->opts.max_nesting, &x->rules, &tree);
  if (rc == 0)
    rc = uc_xrules_finish(&x->rules, x->page_base, x->opts.ignore_nofollow);
  uc_gumbo_release(tree);
  return rc;
}

int uc_extractor_end(uc_extractor *x) {
  x->ended = true;
  if (x->xml == NULL)
    return x->rc;
  if (x->rc == 0)
    x->rc = uc_xml_feed(x->xml, NULL, 0, true);
  uc_xml_free(x->xml);
  x->xml = NULL;
  return x->rc;
}

/* Whatever parser ran: the end of the body, then the rules' resolution. */
static int finish(uc_extractor *x, const char *html, size_t len, uc_links *out) {
  int rc = uc_extractor_end(x);
  if (rc == 0 && x->opts.parser == UC_PARSER_LIBXML2)
    rc = uc_xrules_finish(&x->rules, x->page_base, x->opts.ignore_nofollow);
  else if (rc == 0)
    rc = finish_gumbo(x, html != NULL ? html : "", len);
  if (rc == 0) {
    *out = x->links;
    memset(&x->links, 0, sizeof x->links);
  }
  return rc;
}

int uc_extractor_finish(uc_extractor *x, uc_links *out) {
  memset(out, 0, sizeof *out);
  return finish(x, x->body.data, x->body.len, out);
}

void uc_extractor_free(uc_extractor *x) {
  if (x == NULL)
    return;
  uc_xml_free(x->xml);
  uc_xrules_free(&x->rules);
  uc_links_free(&x->links);
  uc_buf_free(&x->body);
  uc_url_base_free(x->page_base);
  free(x->page);
  free(x);
}

int uc_extract(const char *html, size_t len, const char *page_url, const uc_extract_opts *o,
               uc_links *out) {
  memset(out, 0, sizeof *out);
  if (html == NULL)
    len = 0;
  uc_extractor *x;
  int rc = uc_extractor_new(&x, page_url, o);
  if (rc != 0)
    return rc;
  if (x->opts.parser == UC_PARSER_LIBXML2) {
    rc = uc_extractor_feed(x, html, len);
    if (rc == 0)
      rc = finish(x, NULL, 0, out);
  } else {
    /* gumbo parses the caller's bytes where they are: no copy */
    rc = finish(x, html, len < x->opts.max_bytes ? len : x->opts.max_bytes, out);
  }
  uc_extractor_free(x);
  return rc;
}

void uc_links_free(uc_links *l) {
  if (l == NULL)
    return;
  for (size_t i = 0; i < l->count; i++)
    free(l->urls[i]);
  free(l->urls);
  free(l->parts);
  memset(l, 0, sizeof *l);
}
