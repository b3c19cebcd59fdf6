/*
 * extract.c - links of an HTML page through gumbo-parser (see extract.h).
 *
 * Four steps: estimate the nesting depth with a cheap scan and refuse absurd
 * input (nesting_too_deep), parse with gumbo into an arena (arena_*), walk
 * the tree iteratively collecting raw references (collect), then resolve,
 * filter and dedup them in document order (resolve_all).
 */
#include "uvcrawl/extract.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"
#include "uvcrawl/url.h"

/* ---- nesting pre-scan ------------------------------------------------- */

/* One open element in the pre-scan's model of the stack of open elements. */
struct open_elem {
  GumboTag tag;  /* GUMBO_TAG_UNKNOWN for custom elements: then `name` */
  uint64_t name; /* hash of the lower-case tag name, for unknown tags */
};

static uint64_t name_hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603u; /* FNV-1a */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 'A' && c <= 'Z')
      c = (unsigned char)(c - 'A' + 'a');
    h = (h ^ c) * 1099511628211u;
  }
  return h;
}

/* Is `tag` in the GUMBO_TAG_LAST-terminated list? */
static bool tag_in(GumboTag tag, const GumboTag *list) {
  for (; *list != GUMBO_TAG_LAST; list++)
    if (tag == *list)
      return true;
  return false;
}

static const GumboTag void_elements[] = {
    GUMBO_TAG_AREA,  GUMBO_TAG_BASE,  GUMBO_TAG_BR,     GUMBO_TAG_COL,      GUMBO_TAG_EMBED,
    GUMBO_TAG_HR,    GUMBO_TAG_IMG,   GUMBO_TAG_INPUT,  GUMBO_TAG_LINK,     GUMBO_TAG_META,
    GUMBO_TAG_PARAM, GUMBO_TAG_SOURCE, GUMBO_TAG_TRACK, GUMBO_TAG_WBR,      GUMBO_TAG_KEYGEN,
    GUMBO_TAG_BASEFONT, GUMBO_TAG_BGSOUND, GUMBO_TAG_FRAME, GUMBO_TAG_IMAGE, GUMBO_TAG_LAST};

/* Elements whose content is text up to their end tag. */
static const GumboTag raw_text_elements[] = {
    GUMBO_TAG_SCRIPT, GUMBO_TAG_STYLE,   GUMBO_TAG_TEXTAREA, GUMBO_TAG_TITLE, GUMBO_TAG_XMP,
    GUMBO_TAG_IFRAME, GUMBO_TAG_NOEMBED, GUMBO_TAG_NOFRAMES, GUMBO_TAG_LAST};

/*
 * Start tags that imply end tags: a start tag `tag` closes the deepest open
 * element in `closes` found above the nearest element in `bounds` (and all
 * above it). E.g. "<li>a<li>b" is two siblings, not nested items.
 */
struct implied_end_rule {
  GumboTag tag;
  GumboTag closes[8];
  GumboTag bounds[8];
};

#define L GUMBO_TAG_LAST
static const struct implied_end_rule implied_end_rules[] = {
    {GUMBO_TAG_P, {GUMBO_TAG_P, L}, {GUMBO_TAG_DIV, GUMBO_TAG_TABLE, GUMBO_TAG_BUTTON, L}},
    {GUMBO_TAG_LI, {GUMBO_TAG_LI, L}, {GUMBO_TAG_UL, GUMBO_TAG_OL, GUMBO_TAG_MENU, GUMBO_TAG_TABLE, L}},
    {GUMBO_TAG_DT, {GUMBO_TAG_DT, GUMBO_TAG_DD, L}, {GUMBO_TAG_DL, GUMBO_TAG_TABLE, L}},
    {GUMBO_TAG_DD, {GUMBO_TAG_DT, GUMBO_TAG_DD, L}, {GUMBO_TAG_DL, GUMBO_TAG_TABLE, L}},
    {GUMBO_TAG_OPTION, {GUMBO_TAG_OPTION, L}, {GUMBO_TAG_SELECT, GUMBO_TAG_DATALIST, L}},
    {GUMBO_TAG_OPTGROUP, {GUMBO_TAG_OPTION, GUMBO_TAG_OPTGROUP, L}, {GUMBO_TAG_SELECT, L}},
    {GUMBO_TAG_TR, {GUMBO_TAG_TR, GUMBO_TAG_TD, GUMBO_TAG_TH, L},
     {GUMBO_TAG_TABLE, GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT, L}},
    {GUMBO_TAG_TD, {GUMBO_TAG_TD, GUMBO_TAG_TH, L}, {GUMBO_TAG_TR, GUMBO_TAG_TABLE, L}},
    {GUMBO_TAG_TH, {GUMBO_TAG_TD, GUMBO_TAG_TH, L}, {GUMBO_TAG_TR, GUMBO_TAG_TABLE, L}},
    {GUMBO_TAG_TBODY,
     {GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT, GUMBO_TAG_TR, GUMBO_TAG_TD, GUMBO_TAG_TH, L},
     {GUMBO_TAG_TABLE, L}},
    {GUMBO_TAG_THEAD,
     {GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT, GUMBO_TAG_TR, GUMBO_TAG_TD, GUMBO_TAG_TH, L},
     {GUMBO_TAG_TABLE, L}},
    {GUMBO_TAG_TFOOT,
     {GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT, GUMBO_TAG_TR, GUMBO_TAG_TD, GUMBO_TAG_TH, L},
     {GUMBO_TAG_TABLE, L}},
    {GUMBO_TAG_A, {GUMBO_TAG_A, L}, {GUMBO_TAG_TABLE, GUMBO_TAG_TD, GUMBO_TAG_TH, L}},
    {GUMBO_TAG_RB, {GUMBO_TAG_RB, GUMBO_TAG_RT, GUMBO_TAG_RP, GUMBO_TAG_RTC, L}, {GUMBO_TAG_RUBY, L}},
    {GUMBO_TAG_RT, {GUMBO_TAG_RB, GUMBO_TAG_RT, GUMBO_TAG_RP, L}, {GUMBO_TAG_RUBY, L}},
    {GUMBO_TAG_RP, {GUMBO_TAG_RB, GUMBO_TAG_RT, GUMBO_TAG_RP, L}, {GUMBO_TAG_RUBY, L}},
};
#undef L

/* Depth of the stack once start tag `tag` closed what it implies (or n). */
static size_t implied_end(const struct open_elem *stack, size_t n, GumboTag tag) {
  for (size_t r = 0; r < sizeof implied_end_rules / sizeof implied_end_rules[0]; r++) {
    const struct implied_end_rule *rule = &implied_end_rules[r];
    if (rule->tag != tag)
      continue;
    size_t keep = n;
    for (size_t i = n; i > 0; i--) {
      if (tag_in(stack[i - 1].tag, rule->bounds))
        break;
      if (tag_in(stack[i - 1].tag, rule->closes))
        keep = i - 1; /* "<tr><td>x<tr>": the new row closes the cell and the row */
    }
    return keep;
  }
  return n;
}

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static struct open_elem elem_of(const char *name, size_t len) {
  struct open_elem e = {gumbo_tagn_enum(name, (unsigned)len), 0};
  if (e.tag == GUMBO_TAG_UNKNOWN)
    e.name = name_hash(name, len);
  return e;
}

/* Inside svg or math, where "/>" closes the element? Scans the stack: only
 * called for "/>" tags. */
static bool in_foreign(const struct open_elem *stack, size_t n) {
  for (size_t i = n; i > 0; i--)
    if (stack[i - 1].tag == GUMBO_TAG_SVG || stack[i - 1].tag == GUMBO_TAG_MATH)
      return true;
  return false;
}

/* Skip past the '>' that ends a tag, honouring quoted attribute values.
 * Sets *self_closing when the tag ends with "/>". */
static size_t skip_tag(const char *s, size_t i, size_t len, bool *self_closing) {
  bool after_eq = false;
  *self_closing = false;
  while (i < len) {
    char c = s[i];
    if (c == '>') {
      *self_closing = i > 0 && s[i - 1] == '/';
      return i + 1;
    }
    if ((c == '"' || c == '\'') && after_eq) {
      const char *q = memchr(s + i + 1, c, len - i - 1);
      if (q == NULL)
        return len;
      i = (size_t)(q - s) + 1;
      after_eq = false;
      continue;
    }
    if (c == '=')
      after_eq = true;
    else if (!is_space(c))
      after_eq = false;
    i++;
  }
  return len;
}

/*
 * Position after "</name" ... ">" closing a raw text element, or len.
 *
 * Note: `s` is not NUL-terminated, so every byte read is checked against len:
 * "</name" needs 1 + nlen bytes from i and the byte after it (space, '>' or
 * '/') one more, i.e. i + 1 + nlen < len. A body that ends in "...</iframe"
 * has no such byte and the element runs to the end.
 */
static size_t skip_raw_text(const char *s, size_t i, size_t len, const char *name, size_t nlen) {
  while (i < len) {
    const char *lt = memchr(s + i, '<', len - i);
    if (lt == NULL)
      return len;
    i = (size_t)(lt - s) + 1;
    if (i + 1 + nlen < len && s[i] == '/' && strncasecmp(s + i + 1, name, nlen) == 0 &&
        (is_space(s[i + 1 + nlen]) || s[i + 1 + nlen] == '>' || s[i + 1 + nlen] == '/')) {
      const char *gt = memchr(s + i, '>', len - i);
      return gt == NULL ? len : (size_t)(gt - s) + 1;
    }
  }
  return len;
}

/*
 * Estimate the element nesting depth that gumbo will build and tell whether
 * it exceeds max. A model of the stack of open elements: start tags push,
 * end tags pop to the nearest open element of their name (stray ones are
 * ignored), void elements and "/>" inside svg/math push nothing, comments,
 * doctypes and the content of script/style/textarea/title/... are skipped,
 * and the common implied end tags (p, li, dt/dd, option, tr/td/th, a, ruby)
 * close what the HTML parser closes.
 *
 * Note: a heuristic, not a parser: it errs on the high side for realistic
 * markup (e.g. a <div> does not close an open <p> here), so it never lets
 * 100,000 nested <div>s through, but it can under-count contrived misnesting
 * that gumbo's formatting-element reconstruction deepens. The cost is one
 * pass over the bytes and max+1 stack entries.
 */
static int nesting_too_deep(const char *s, size_t len, unsigned max, bool *too_deep) {
  struct open_elem *stack = malloc(((size_t)max + 1) * sizeof *stack);
  if (stack == NULL)
    return UC_ENOMEM;
  size_t n = 0, i = 0;
  *too_deep = false;
  while (i < len) {
    const char *lt = memchr(s + i, '<', len - i);
    if (lt == NULL)
      break;
    i = (size_t)(lt - s) + 1;
    if (i >= len)
      break;
    bool self_closing;
    if (len - i >= 3 && memcmp(s + i, "!--", 3) == 0) {
      const char *end = memmem(s + i + 3, len - i - 3, "-->", 3);
      i = end == NULL ? len : (size_t)(end - s) + 3;
    } else if (s[i] == '!' || s[i] == '?') {
      const char *gt = memchr(s + i, '>', len - i);
      i = gt == NULL ? len : (size_t)(gt - s) + 1;
    } else if (s[i] == '/' && i + 1 < len && is_alpha(s[i + 1])) {
      size_t start = i + 1, end = start;
      while (end < len && !is_space(s[end]) && s[end] != '/' && s[end] != '>')
        end++;
      struct open_elem e = elem_of(s + start, end - start);
      for (size_t k = n; k > 0; k--) {
        if (stack[k - 1].tag == e.tag && stack[k - 1].name == e.name) {
          n = k - 1;
          break;
        }
      }
      i = skip_tag(s, end, len, &self_closing);
    } else if (is_alpha(s[i])) {
      size_t start = i, end = start;
      while (end < len && !is_space(s[end]) && s[end] != '/' && s[end] != '>')
        end++;
      struct open_elem e = elem_of(s + start, end - start);
      i = skip_tag(s, end, len, &self_closing);
      if (tag_in(e.tag, void_elements) || (self_closing && in_foreign(stack, n)))
        continue;
      if (tag_in(e.tag, raw_text_elements)) {
        i = skip_raw_text(s, i, len, s + start, end - start);
        continue;
      }
      if (e.tag == GUMBO_TAG_PLAINTEXT)
        break;
      n = implied_end(stack, n, e.tag);
      if (n == max) {
        *too_deep = true;
        break;
      }
      stack[n++] = e;
    }
  }
  free(stack);
  return 0;
}

/* ---- arena for gumbo -------------------------------------------------- */

/*
 * gumbo allocates through these. Everything is freed at once when the parse
 * is over, so gumbo_destroy_output() (which recurses once per nesting level,
 * and frees node by node) is never called.
 */
struct arena_chunk {
  struct arena_chunk *next;
  size_t used, size;
  max_align_t data[]; /* size bytes */
};

struct arena {
  struct arena_chunk *head;
  bool failed; /* an allocation failed: gumbo cannot report it */
};

#define ARENA_CHUNK (64 * 1024)

static void *arena_alloc(void *userdata, size_t size) {
  struct arena *a = userdata;
  size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
  struct arena_chunk *c = a->head;
  if (c == NULL || c->size - c->used < size) {
    size_t cap = size > ARENA_CHUNK / 4 ? size : ARENA_CHUNK;
    c = malloc(sizeof *c + cap);
    if (c == NULL) {
      /* Note: gumbo dereferences what it gets; nothing sane is left. */
      a->failed = true;
      abort();
    }
    c->used = 0;
    c->size = cap;
    if (cap == size && a->head != NULL) {
      /* a big block: keep filling the current chunk afterwards */
      c->next = a->head->next;
      a->head->next = c;
    } else {
      c->next = a->head;
      a->head = c;
    }
  }
  void *p = (char *)c->data + c->used;
  c->used += size;
  return p;
}

static void arena_free_noop(void *userdata, void *ptr) {
  (void)userdata;
  (void)ptr;
}

static void arena_release(struct arena *a) {
  while (a->head != NULL) {
    struct arena_chunk *next = a->head->next;
    free(a->head);
    a->head = next;
  }
}

/* ---- collecting references -------------------------------------------- */

/* A reference found in the page, borrowed from the gumbo tree or from a
 * meta refresh content (then not NUL-terminated at len). */
struct raw_ref {
  const char *ref;
  size_t len;
  bool nofollow; /* rel=nofollow on its a/area */
};

struct collector {
  struct raw_ref *refs;
  size_t count, cap;
  const char *base_href; /* the first <base href>, or NULL */
  bool want_stylesheets;
  uc_links *out; /* the flags nofollow/noindex, and found */
};

static const char *attr(const GumboElement *e, const char *name) {
  const GumboAttribute *a = gumbo_get_attribute(&e->attributes, name);
  return a != NULL ? a->value : NULL;
}

/* Does the whitespace- (and, with commas, comma-) separated list contain
 * `token`, case-insensitively? */
static bool has_token(const char *list, const char *token, bool commas) {
  size_t tlen = strlen(token);
  const char *p = list;
  while (*p != '\0') {
    while (*p != '\0' && (is_space(*p) || (commas && *p == ',')))
      p++;
    const char *start = p;
    while (*p != '\0' && !is_space(*p) && !(commas && *p == ','))
      p++;
    if ((size_t)(p - start) == tlen && strncasecmp(start, token, tlen) == 0)
      return true;
  }
  return false;
}

static int add_ref(struct collector *c, const char *ref, size_t len, bool nofollow) {
  if (c->count == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 64;
    struct raw_ref *refs = realloc(c->refs, cap * sizeof *refs);
    if (refs == NULL)
      return UC_ENOMEM;
    c->refs = refs;
    c->cap = cap;
  }
  c->refs[c->count++] = (struct raw_ref){ref, len, nofollow};
  c->out->found++;
  return 0;
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
  while (is_space(*p))
    p++;
  while ((*p >= '0' && *p <= '9') || *p == '.')
    p++;
  while (is_space(*p))
    p++;
  if (*p == ';' || *p == ',')
    p++;
  while (is_space(*p))
    p++;
  if (strncasecmp(p, "url", 3) == 0) {
    const char *q = p + 3;
    while (is_space(*q))
      q++;
    if (*q == '=') {
      p = q + 1;
      while (is_space(*p))
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

static int visit_element(struct collector *c, const GumboElement *e) {
  const char *v;
  const char *rel;
  switch (e->tag) {
  case GUMBO_TAG_A:
  case GUMBO_TAG_AREA:
    if ((v = attr(e, "href")) == NULL)
      return 0;
    rel = attr(e, "rel");
    return add_ref(c, v, strlen(v), rel != NULL && has_token(rel, "nofollow", false));
  case GUMBO_TAG_LINK:
    if ((v = attr(e, "href")) == NULL || !link_rel_wanted(attr(e, "rel"), c->want_stylesheets))
      return 0;
    return add_ref(c, v, strlen(v), false);
  case GUMBO_TAG_FRAME:
  case GUMBO_TAG_IFRAME:
    if ((v = attr(e, "src")) == NULL)
      return 0;
    return add_ref(c, v, strlen(v), false);
  case GUMBO_TAG_BASE:
    if (c->base_href == NULL)
      c->base_href = attr(e, "href");
    return 0;
  case GUMBO_TAG_META: {
    const char *content = attr(e, "content");
    if (content == NULL)
      return 0;
    const char *name = attr(e, "name"), *equiv = attr(e, "http-equiv");
    if (name != NULL && strcasecmp(name, "robots") == 0) {
      bool none = has_token(content, "none", true);
      c->out->nofollow |= none || has_token(content, "nofollow", true);
      c->out->noindex |= none || has_token(content, "noindex", true);
    }
    const char *url;
    size_t len;
    if (equiv != NULL && strcasecmp(equiv, "refresh") == 0 && refresh_url(content, &url, &len))
      return add_ref(c, url, len, false);
    return 0;
  }
  default:
    return 0;
  }
}

/* Walk the tree in document order with an explicit stack (gumbo trees can
 * be as deep as max_nesting allows; recursion is not needed). */
static int collect(const GumboNode *root, struct collector *c) {
  const GumboNode **stack = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  const GumboNode *node = root;
  for (;;) {
    if ((node->type == GUMBO_NODE_ELEMENT || node->type == GUMBO_NODE_TEMPLATE) &&
        node->v.element.tag_namespace == GUMBO_NAMESPACE_HTML &&
        (rc = visit_element(c, &node->v.element)) != 0)
      break;
    const GumboVector *kids = NULL;
    if (node->type == GUMBO_NODE_DOCUMENT)
      kids = &node->v.document.children;
    else if (node->type == GUMBO_NODE_ELEMENT || node->type == GUMBO_NODE_TEMPLATE)
      kids = &node->v.element.children;
    if (kids != NULL && kids->length > 0) {
      if (cap - n < kids->length) {
        size_t ncap = cap ? cap : 64;
        while (ncap - n < kids->length)
          ncap *= 2;
        const GumboNode **s = realloc(stack, ncap * sizeof *s);
        if (s == NULL) {
          rc = UC_ENOMEM;
          break;
        }
        stack = s;
        cap = ncap;
      }
      for (unsigned i = kids->length; i > 0; i--)
        stack[n++] = kids->data[i - 1];
    }
    if (n == 0)
      break;
    node = stack[--n];
  }
  free(stack);
  return rc;
}

/* ---- resolving and dedup ---------------------------------------------- */

/* Open-addressing set of the urls already in out, by index + 1. */
struct url_set {
  size_t *slots;
  size_t mask; /* slots - 1, a power of two minus one */
};

static size_t str_hash(const char *s) {
  return (size_t)name_hash(s, strlen(s));
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

static int resolve_all(const struct collector *c, const uc_url_base *base, bool follow_all,
                       uc_links *out) {
  struct resolver rs = {base, follow_all, {NULL, 0}, UC_BUF_INIT, out};
  int rc = 0;
  for (size_t i = 0; i < c->count && rc == 0; i++)
    rc = resolve_one(&rs, c->refs[i].ref, c->refs[i].len, c->refs[i].nofollow);
  free(rs.set.slots);
  uc_buf_free(&rs.scratch);
  return rc;
}

/* ---- the entry points ------------------------------------------------- */

int uc_extract(const char *html, size_t len, const char *page_url, const uc_extract_opts *o,
               uc_links *out) {
  static const uc_extract_opts defaults = {0, 0, false, false};
  memset(out, 0, sizeof *out);
  if (o == NULL)
    o = &defaults;
  size_t max_bytes = o->max_bytes ? o->max_bytes : UC_EXTRACT_MAX_BYTES;
  unsigned max_nesting = o->max_nesting ? o->max_nesting : UC_EXTRACT_MAX_NESTING;
  if (html == NULL || len == 0) {
    html = "";
    len = 0;
  }
  if (len > max_bytes)
    len = max_bytes;

  char *page = NULL, *base = NULL;
  uc_url_base *page_base = NULL, *href_base = NULL;
  int rc = uc_url_normalize(page_url, &page);
  if (rc == 0)
    rc = uc_url_base_new(page, &page_base);
  if (rc != 0) {
    free(page);
    return rc == UC_ENOMEM ? rc : UC_EBADURL;
  }

  bool too_deep;
  if ((rc = nesting_too_deep(html, len, max_nesting, &too_deep)) != 0 ||
      (too_deep && (rc = UC_ETOODEEP) != 0)) {
    uc_url_base_free(page_base);
    free(page);
    return rc;
  }

  struct arena arena = {NULL, false};
  GumboOptions gopts = kGumboDefaultOptions;
  gopts.max_errors = 0; /* no error records: a large speed-up */
  gopts.allocator = arena_alloc;
  gopts.deallocator = arena_free_noop;
  gopts.userdata = &arena;
  GumboOutput *doc = gumbo_parse_with_options(&gopts, html, len);

  struct collector c = {.want_stylesheets = o->want_stylesheets, .out = out};
  rc = collect(doc->document, &c);
  const uc_url_base *effective_base = page_base;
  if (rc == 0 && c.base_href != NULL) {
    rc = uc_url_resolve_at(page_base, c.base_href, &base, NULL);
    if (rc == 0)
      rc = uc_url_base_new(base, &href_base);
    if (rc == 0)
      effective_base = href_base;
    else if (rc != UC_ENOMEM)
      rc = 0; /* a broken <base> is ignored, as browsers do */
  }
  if (rc == 0)
    rc = resolve_all(&c, effective_base, o->ignore_nofollow, out);

  free(c.refs);
  uc_url_base_free(href_base);
  uc_url_base_free(page_base);
  free(base);
  free(page);
  arena_release(&arena);
  if (rc != 0)
    uc_links_free(out);
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
