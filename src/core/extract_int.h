/*
 * extract_int.h - what the two HTML parsers' adapters share (extract.c):
 * the link rules, applied to elements however a parser presents them, and
 * the resolution of what they collected. Internal to src/core; not
 * installed.
 *
 * An adapter tells uc_xrules_element() about each element in the HTML
 * namespace, in document order, with its kind and a way to read its
 * attributes; the rules keep the candidate references (a/area/link/frame/
 * iframe/meta refresh), the first <base href> and the meta robots flags.
 * uc_xrules_finish() then resolves them against the base, drops nofollow,
 * bad schemes and duplicates, and fills a uc_links.
 */
#ifndef UVCRAWL_CORE_EXTRACT_INT_H
#define UVCRAWL_CORE_EXTRACT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/extract.h"
#include "uvcrawl/url.h"

/* FNV-1a of n bytes of s, ASCII letters folded to lower case. */
static inline uint64_t uc_xname_hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603u;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 'A' && c <= 'Z')
      c = (unsigned char)(c - 'A' + 'a');
    h = (h ^ c) * 1099511628211u;
  }
  return h;
}

/* HTML's ASCII whitespace. */
static inline bool uc_xis_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* The elements the rules look at; UC_XE_OTHER for every other one. */
typedef enum uc_xelem {
  UC_XE_OTHER,
  UC_XE_A,     /* a and area: href, rel=nofollow */
  UC_XE_LINK,  /* link: href, rel filter */
  UC_XE_FRAME, /* frame and iframe: src */
  UC_XE_BASE,  /* base: the first href */
  UC_XE_META,  /* meta: robots, refresh */
} uc_xelem;

/* An element's attribute `name` (lower case), or NULL when it has none;
 * "" for an attribute without a value. Borrowed for the call. */
typedef const char *(*uc_xattr_fn)(const void *elem, const char *name);

/* A candidate reference, before resolution. */
struct uc_xref {
  const char *ref; /* borrowed from the parser's tree, or NULL: in copies at off */
  size_t off;
  size_t len;
  bool nofollow; /* rel=nofollow on its a/area */
};

/* The rules' state for one page. Zero it, then set out, copy and
 * want_stylesheets. */
typedef struct uc_xrules {
  struct uc_xref *refs;
  size_t count, cap;
  /* copy: the parser's strings do not outlive the call (a SAX parser), so
   * references and the base are copied into `copies`, each NUL-terminated. */
  bool copy;
  uc_buf copies;
  const char *base_href; /* the first <base href> (borrowed), or NULL */
  size_t base_off;       /* with copy: where it lies in copies */
  bool has_base;
  bool want_stylesheets;
  uc_links *out; /* nofollow, noindex and found are set as elements come */
} uc_xrules;

/* Apply the rules to one element. @return 0 or UC_ENOMEM. */
int uc_xrules_element(uc_xrules *r, uc_xelem kind, uc_xattr_fn attr, const void *elem);

/*
 * Resolve what was collected against the first <base> (itself resolved
 * against page_base; a broken one is ignored) or page_base, append the
 * survivors to r->out. @return 0 or UC_ENOMEM.
 */
int uc_xrules_finish(uc_xrules *r, const uc_url_base *page_base, bool follow_all);

/* Free what the rules hold (not r->out). */
void uc_xrules_free(uc_xrules *r);

/* ---- the adapters ------------------------------------------------------ */

/* gumbo (extract_gumbo.c): the whole body at once. The references borrow
 * from the tree, which *tree keeps until uc_gumbo_release(). @return 0,
 * UC_ETOODEEP or UC_ENOMEM. */
struct uc_gumbo_tree;
int uc_gumbo_collect(const char *html, size_t len, unsigned max_nesting, uc_xrules *r,
                     struct uc_gumbo_tree **tree);
void uc_gumbo_release(struct uc_gumbo_tree *tree);

/* libxml2 (extract_xml.c): a push parser fed as bytes arrive; rules are
 * applied (with copy) as elements start. */
struct uc_xml;
int uc_xml_new(struct uc_xml **out, unsigned max_nesting, uc_xrules *r);
/* Feed bytes (any split; last: the end of the body). @return 0,
 * UC_ETOODEEP or UC_ENOMEM; after an error, feeding is a no-op. */
int uc_xml_feed(struct uc_xml *x, const char *bytes, size_t len, bool last);
void uc_xml_free(struct uc_xml *x);

#endif /* UVCRAWL_CORE_EXTRACT_INT_H */
