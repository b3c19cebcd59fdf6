/*
 * extract_gumbo.c - the gumbo-parser adapter of extract (see extract.h and
 * extract_int.h).
 *
 * Three steps: estimate the nesting depth with a cheap scan and refuse
 * absurd input (nesting_too_deep), parse with gumbo into an arena
 * (arena_*), and walk the tree iteratively, handing each HTML element to
 * the shared rules (collect). The references borrow from the tree, so the
 * arena lives until the caller has resolved them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

#include "extract_int.h"
#include "uvcrawl/error.h"

/* ---- nesting pre-scan ------------------------------------------------- */

/* One open element in the pre-scan's model of the stack of open elements. */
struct open_elem {
  GumboTag tag;  /* GUMBO_TAG_UNKNOWN for custom elements: then `name` */
  uint64_t name; /* hash of the lower-case tag name, for unknown tags */
};

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

static bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static struct open_elem elem_of(const char *name, size_t len) {
  struct open_elem e = {gumbo_tagn_enum(name, (unsigned)len), 0};
  if (e.tag == GUMBO_TAG_UNKNOWN)
    e.name = uc_xname_hash(name, len);
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
    else if (!uc_xis_space(c))
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
        (uc_xis_space(s[i + 1 + nlen]) || s[i + 1 + nlen] == '>' || s[i + 1 + nlen] == '/')) {
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
      while (end < len && !uc_xis_space(s[end]) && s[end] != '/' && s[end] != '>')
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
      while (end < len && !uc_xis_space(s[end]) && s[end] != '/' && s[end] != '>')
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

/* ---- walking the tree ------------------------------------------------- */

static const char *gumbo_attr(const void *elem, const char *name) {
  const GumboAttribute *a = gumbo_get_attribute(&((const GumboElement *)elem)->attributes, name);
  return a != NULL ? a->value : NULL;
}

static uc_xelem kind_of(GumboTag tag) {
  switch (tag) {
  case GUMBO_TAG_A:
  case GUMBO_TAG_AREA:
    return UC_XE_A;
  case GUMBO_TAG_LINK:
    return UC_XE_LINK;
  case GUMBO_TAG_FRAME:
  case GUMBO_TAG_IFRAME:
    return UC_XE_FRAME;
  case GUMBO_TAG_BASE:
    return UC_XE_BASE;
  case GUMBO_TAG_META:
    return UC_XE_META;
  default:
    return UC_XE_OTHER;
  }
}

/* Walk the tree in document order with an explicit stack (gumbo trees can
 * be as deep as max_nesting allows; recursion is not needed). */
static int collect(const GumboNode *root, uc_xrules *r) {
  const GumboNode **stack = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  const GumboNode *node = root;
  for (;;) {
    if ((node->type == GUMBO_NODE_ELEMENT || node->type == GUMBO_NODE_TEMPLATE) &&
        node->v.element.tag_namespace == GUMBO_NAMESPACE_HTML) {
      uc_xelem kind = kind_of(node->v.element.tag);
      if (kind != UC_XE_OTHER && (rc = uc_xrules_element(r, kind, gumbo_attr,
                                                          &node->v.element)) != 0)
        break;
    }
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

/* The arena behind a parsed tree: what uc_gumbo_collect() hands back. */
struct uc_gumbo_tree {
  struct arena arena;
};

int uc_gumbo_collect(const char *html, size_t len, unsigned max_nesting, uc_xrules *r,
                     struct uc_gumbo_tree **tree) {
  *tree = NULL;
  bool too_deep;
  int rc = nesting_too_deep(html, len, max_nesting, &too_deep);
  if (rc != 0)
    return rc;
  if (too_deep)
    return UC_ETOODEEP;
  struct uc_gumbo_tree *t = malloc(sizeof *t);
  if (t == NULL)
    return UC_ENOMEM;
  t->arena = (struct arena){NULL, false};
  GumboOptions gopts = kGumboDefaultOptions;
  gopts.max_errors = 0; /* no error records: a large speed-up */
  gopts.allocator = arena_alloc;
  gopts.deallocator = arena_free_noop;
  gopts.userdata = &t->arena;
  GumboOutput *doc = gumbo_parse_with_options(&gopts, html, len);
  *tree = t;
  return collect(doc->document, r);
}

void uc_gumbo_release(struct uc_gumbo_tree *tree) {
  if (tree == NULL)
    return;
  arena_release(&tree->arena);
  free(tree);
}
