/*
 * extract_xml.c - the libxml2 adapter of extract (see extract.h and
 * extract_int.h): libxml2's HTML push parser with SAX callbacks, fed as
 * bytes arrive. No tree is built: startElement hands each element to the
 * shared rules, which copy what they keep; endElement only counts.
 *
 * libxml2 2.9's HTML parser predates HTML5 and knows no namespaces, so a
 * little of the HTML5 tree construction is redone here from the events:
 *   - foreign content: elements inside <svg> or <math> do not count, except
 *     below an integration point (foreignObject, desc, title, mi, mo, mn,
 *     ms, mtext), and an HTML "breakout" start tag (<p>, <div>, <a>'s
 *     usual neighbours ...) ends the foreign content as HTML5 does (modes);
 *   - a tag cut by the end of the body is dropped (HTML5's eof-in-tag);
 *   - a body that starts with an end tag is parsed (start_document);
 *   - the input is made valid UTF-8 first (clean_utf8): invalid bytes and
 *     NULs become U+FFFD as in gumbo, where libxml2 would switch the rest
 *     of the page to Latin-1.
 * What is not redone, and so differs, is listed in docs/parsers.md: e.g.
 * libxml2 parses markup inside textarea, title, iframe, noframes, ... (it
 * treats only script and style as text), so links there count for it, and
 * it honours "/>" on every element.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "extract_int.h"
#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"

/* What an element name means to this adapter. */
enum {
  EL_FOREIGN = 2,     /* svg, math: foreign content starts */
  EL_BREAKOUT = 4,    /* ends foreign content (HTML5 13.2.6.5) */
  EL_INTEGRATION = 8, /* inside foreign content: its children are HTML */
  EL_FONT = 32,       /* breaks out with color, face or size */
};

struct el_class {
  const char *name;
  uc_xelem kind;
  unsigned flags;
};

/* Sorted by name for bsearch. */
static const struct el_class el_classes[] = {
    {"a", UC_XE_A, 0},
    {"area", UC_XE_A, 0},
    {"b", UC_XE_OTHER, EL_BREAKOUT},
    {"base", UC_XE_BASE, 0},
    {"big", UC_XE_OTHER, EL_BREAKOUT},
    {"blockquote", UC_XE_OTHER, EL_BREAKOUT},
    {"body", UC_XE_OTHER, EL_BREAKOUT},
    {"br", UC_XE_OTHER, EL_BREAKOUT},
    {"center", UC_XE_OTHER, EL_BREAKOUT},
    {"code", UC_XE_OTHER, EL_BREAKOUT},
    {"dd", UC_XE_OTHER, EL_BREAKOUT},
    {"desc", UC_XE_OTHER, EL_INTEGRATION},
    {"div", UC_XE_OTHER, EL_BREAKOUT},
    {"dl", UC_XE_OTHER, EL_BREAKOUT},
    {"dt", UC_XE_OTHER, EL_BREAKOUT},
    {"em", UC_XE_OTHER, EL_BREAKOUT},
    {"embed", UC_XE_OTHER, EL_BREAKOUT},
    {"font", UC_XE_OTHER, EL_FONT},
    {"foreignobject", UC_XE_OTHER, EL_INTEGRATION},
    {"frame", UC_XE_FRAME, 0},
    {"h1", UC_XE_OTHER, EL_BREAKOUT},
    {"h2", UC_XE_OTHER, EL_BREAKOUT},
    {"h3", UC_XE_OTHER, EL_BREAKOUT},
    {"h4", UC_XE_OTHER, EL_BREAKOUT},
    {"h5", UC_XE_OTHER, EL_BREAKOUT},
    {"h6", UC_XE_OTHER, EL_BREAKOUT},
    {"head", UC_XE_OTHER, EL_BREAKOUT},
    {"hr", UC_XE_OTHER, EL_BREAKOUT},
    {"i", UC_XE_OTHER, EL_BREAKOUT},
    {"iframe", UC_XE_FRAME, 0},
    {"img", UC_XE_OTHER, EL_BREAKOUT},
    {"li", UC_XE_OTHER, EL_BREAKOUT},
    {"link", UC_XE_LINK, 0},
    {"listing", UC_XE_OTHER, EL_BREAKOUT},
    {"math", UC_XE_OTHER, EL_FOREIGN},
    {"menu", UC_XE_OTHER, EL_BREAKOUT},
    {"meta", UC_XE_META, EL_BREAKOUT},
    {"mi", UC_XE_OTHER, EL_INTEGRATION},
    {"mn", UC_XE_OTHER, EL_INTEGRATION},
    {"mo", UC_XE_OTHER, EL_INTEGRATION},
    {"ms", UC_XE_OTHER, EL_INTEGRATION},
    {"mtext", UC_XE_OTHER, EL_INTEGRATION},
    {"nobr", UC_XE_OTHER, EL_BREAKOUT},
    {"ol", UC_XE_OTHER, EL_BREAKOUT},
    {"p", UC_XE_OTHER, EL_BREAKOUT},
    {"pre", UC_XE_OTHER, EL_BREAKOUT},
    {"ruby", UC_XE_OTHER, EL_BREAKOUT},
    {"s", UC_XE_OTHER, EL_BREAKOUT},
    {"small", UC_XE_OTHER, EL_BREAKOUT},
    {"span", UC_XE_OTHER, EL_BREAKOUT},
    {"strike", UC_XE_OTHER, EL_BREAKOUT},
    {"strong", UC_XE_OTHER, EL_BREAKOUT},
    {"sub", UC_XE_OTHER, EL_BREAKOUT},
    {"sup", UC_XE_OTHER, EL_BREAKOUT},
    {"svg", UC_XE_OTHER, EL_FOREIGN},
    {"table", UC_XE_OTHER, EL_BREAKOUT},
    {"title", UC_XE_OTHER, EL_INTEGRATION},
    {"tt", UC_XE_OTHER, EL_BREAKOUT},
    {"u", UC_XE_OTHER, EL_BREAKOUT},
    {"ul", UC_XE_OTHER, EL_BREAKOUT},
    {"var", UC_XE_OTHER, EL_BREAKOUT},
};

static int el_cmp(const void *key, const void *elem) {
  return strcmp(key, ((const struct el_class *)elem)->name);
}

static struct el_class classify(const char *name) {
  static const struct el_class other = {"", UC_XE_OTHER, 0};
  const struct el_class *c = bsearch(name, el_classes, sizeof el_classes / sizeof el_classes[0],
                                     sizeof el_classes[0], el_cmp);
  return c != NULL ? *c : other;
}

struct uc_xml {
  htmlParserCtxtPtr ctxt;
  uc_xrules *rules;
  unsigned max_nesting;
  unsigned depth; /* elements open, as the SAX events tell */
  /* Depths at which the content switched between HTML and foreign (an
   * odd count: foreign now); an entry goes when its element ends. */
  unsigned *modes;
  size_t nmodes, modes_cap;
  bool started;           /* a byte other than whitespace was fed */
  bool last;              /* the final feed is being parsed */
  int rc;                 /* the first error; the parser is stopped */
  unsigned char carry[4]; /* an incomplete UTF-8 sequence at the end of a feed */
  size_t ncarry;
};

static void quiet_cb(void *ctx, xmlErrorPtr error) {
  (void)ctx;
  (void)error;
}

static void stop(struct uc_xml *x, int rc) {
  if (x->rc == 0)
    x->rc = rc;
  xmlStopParser(x->ctxt);
}

static int push_mode(struct uc_xml *x) {
  if (x->nmodes == x->modes_cap) {
    size_t cap = x->modes_cap ? x->modes_cap * 2 : 8;
    unsigned *m = realloc(x->modes, cap * sizeof *m);
    if (m == NULL)
      return UC_ENOMEM;
    x->modes = m;
    x->modes_cap = cap;
  }
  x->modes[x->nmodes++] = x->depth;
  return 0;
}

/* libxml2 gives attributes as name, value pairs; a value may be NULL. */
static const char *xml_attr(const void *elem, const char *name) {
  const xmlChar *const *atts = elem;
  for (size_t i = 0; atts != NULL && atts[i] != NULL; i += 2)
    if (strcmp((const char *)atts[i], name) == 0)
      return atts[i + 1] != NULL ? (const char *)atts[i + 1] : "";
  return NULL;
}

/* HTML5 13.2.6.5: <font> with color, face or size breaks out too. */
static bool breaks_out(unsigned flags, const xmlChar **atts) {
  return (flags & EL_BREAKOUT) != 0 ||
         ((flags & EL_FONT) != 0 &&
          (xml_attr(atts, "color") != NULL || xml_attr(atts, "face") != NULL ||
           xml_attr(atts, "size") != NULL));
}

/* Whether the element counts, given the foreign content around it; moves
 * between HTML and foreign content as its start tag says. */
static bool html_element(struct uc_xml *x, unsigned flags, const xmlChar **atts) {
  int rc = 0;
  if (x->nmodes % 2 == 1) { /* in foreign content */
    if (!breaks_out(flags, atts)) {
      if (flags & EL_INTEGRATION)
        rc = push_mode(x); /* its children are HTML */
      if (rc != 0)
        stop(x, rc);
      return false;
    }
    x->nmodes--; /* HTML5 pops the foreign elements */
  }
  if (flags & EL_FOREIGN) {
    if ((rc = push_mode(x)) != 0)
      stop(x, rc);
    return false;
  }
  return true;
}

static void start_cb(void *ctx, const xmlChar *name, const xmlChar **atts) {
  struct uc_xml *x = ctx;
  if (++x->depth > x->max_nesting) {
    stop(x, UC_ETOODEEP);
    return;
  }
  /* Note: a start tag that the end of the body cut ("<a href=/x" at EOF)
   * is dropped by HTML5; libxml2 reports it at the final feed with its
   * input all consumed. */
  if (x->last && x->ctxt->input->cur >= x->ctxt->input->end)
    return;
  struct el_class c = classify((const char *)name);
  if (!html_element(x, c.flags, atts))
    return;
  if (c.kind != UC_XE_OTHER) {
    int rc = uc_xrules_element(x->rules, c.kind, xml_attr, atts);
    if (rc != 0)
      stop(x, rc);
  }
}

static void end_cb(void *ctx, const xmlChar *name) {
  struct uc_xml *x = ctx;
  (void)name;
  if (x->depth == 0)
    return;
  while (x->nmodes > 0 && x->modes[x->nmodes - 1] >= x->depth)
    x->nmodes--;
  x->depth--;
}

void uc_extract_global_init(void) {
  xmlInitParser();
  /* Errors without a parser context go to the generic handler: quiet it
   * here and for threads created later. */
  xmlSetGenericErrorFunc(NULL, NULL);
  xmlThrDefSetGenericErrorFunc(NULL, NULL);
}

int uc_xml_new(struct uc_xml **out, unsigned max_nesting, uc_xrules *r) {
  *out = NULL;
  struct uc_xml *x = calloc(1, sizeof *x);
  if (x == NULL)
    return UC_ENOMEM;
  x->rules = r;
  x->max_nesting = max_nesting;
  htmlSAXHandler sax;
  memset(&sax, 0, sizeof sax);
  sax.startElement = start_cb;
  sax.endElement = end_cb;
  /* Note: a structured handler, honoured with the SAX2 magic, is what
   * keeps libxml2 from printing parse errors on stderr from any thread;
   * the HTML parser still calls startElement (never the Ns variant). */
  sax.serror = quiet_cb;
  sax.initialized = XML_SAX2_MAGIC;
  x->ctxt = htmlCreatePushParserCtxt(&sax, x, NULL, 0, NULL, XML_CHAR_ENCODING_UTF8);
  if (x->ctxt == NULL) {
    free(x);
    return UC_ENOMEM;
  }
  /* IGNORE_ENC: the bytes are UTF-8 already (the caller converted them);
   * a <meta charset> must not make libxml2 decode them again. */
  htmlCtxtUseOptions(x->ctxt, HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                  HTML_PARSE_RECOVER | HTML_PARSE_COMPACT | HTML_PARSE_IGNORE_ENC);
  *out = x;
  return 0;
}

/*
 * Note: libxml2's push parser waits for the '>' that ends a tag before it
 * parses the tag, and its look-ahead pairs quotes differently from its
 * attribute parser on tags with stray quotes ('<a\0<" href="..>..">'):
 * for such input the links can depend on where the body was split (found
 * by fuzz_extract_xml). Tags with balanced quotes parse the same however
 * they are split (test_extract's test_fed_in_pieces).
 */
static void parse(struct uc_xml *x, const char *bytes, size_t len) {
  while (len > 0 && x->rc == 0) {
    int n = len > INT_MAX / 2 ? INT_MAX / 2 : (int)len;
    htmlParseChunk(x->ctxt, bytes, n, 0);
    bytes += n;
    len -= (size_t)n;
  }
}

/*
 * The UTF-8 sequence at s (n bytes there): its length when valid; 0 when
 * it is a valid start cut by the end of s; -k when it is invalid, k bytes
 * being its maximal subpart (one U+FFFD replaces them, as WHATWG decodes).
 * NUL is invalid here: HTML5 turns it into U+FFFD, libxml2 into a space.
 */
static int seq_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0], lo = 0x80, hi = 0xbf;
  int need;
  if (c >= 0x01 && c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    need = 1;
  else if (c >= 0xe0 && c <= 0xef)
    need = 2, lo = c == 0xe0 ? 0xa0 : lo, hi = c == 0xed ? 0x9f : hi;
  else if (c >= 0xf0 && c <= 0xf4)
    need = 3, lo = c == 0xf0 ? 0x90 : lo, hi = c == 0xf4 ? 0x8f : hi;
  else
    return -1;
  for (int i = 1; i <= need; i++) {
    if ((size_t)i >= n)
      return 0;
    if (s[i] < lo || s[i] > hi)
      return -i;
    lo = 0x80, hi = 0xbf;
  }
  return need + 1;
}

static const char replacement[] = "\xef\xbf\xbd";

#define CLEAN_CHUNK (64 * 1024)

/* The length of the valid UTF-8 run at the start of s; *r is the result of
 * seq_len() where it stops. */
static size_t valid_run(const unsigned char *s, size_t len, int *r) {
  size_t ok = 0;
  *r = 1;
  while (ok < len) {
    if (s[ok] >= 0x01 && s[ok] < 0x80) {
      ok++;
      continue;
    }
    if ((*r = seq_len(s + ok, len - ok)) <= 0)
      break;
    ok += (size_t)*r;
  }
  return ok;
}

/*
 * Parse bytes as valid UTF-8: valid input as it is; otherwise a copy with
 * U+FFFD for each invalid subpart, parsed in chunks of CLEAN_CHUNK (not a
 * chunk a replacement: a chunk may rescan a pending tag or comment). An
 * incomplete sequence at the end waits in carry.
 */
static void clean_utf8(struct uc_xml *x, const unsigned char *s, size_t len, bool last) {
  int r;
  size_t ok = valid_run(s, len, &r);
  if (ok == len || (r == 0 && !last)) {
    parse(x, (const char *)s, ok);
    memcpy(x->carry, s + ok, len - ok); /* < 4 bytes: a cut sequence */
    x->ncarry = len - ok;
    return;
  }
  uc_buf out = UC_BUF_INIT;
  int rc = 0;
  while (len > 0 && rc == 0) {
    ok = valid_run(s, len, &r);
    rc = uc_buf_append(&out, s, ok);
    s += ok, len -= ok;
    if (rc != 0 || len == 0)
      break;
    if (r == 0 && !last) {
      memcpy(x->carry, s, len);
      x->ncarry = len;
      break;
    }
    rc = uc_buf_append(&out, replacement, 3);
    size_t skip = r == 0 ? len : (size_t)-r;
    s += skip, len -= skip;
    if (rc == 0 && out.len >= CLEAN_CHUNK) {
      parse(x, out.data, out.len);
      uc_buf_reset(&out);
    }
  }
  if (rc != 0)
    stop(x, rc);
  else
    parse(x, out.data, out.len);
  uc_buf_free(&out);
}

/* Complete the sequence carried from the last feed with the first bytes
 * of this one; returns how many bytes of s it took. */
static size_t finish_carry(struct uc_xml *x, const unsigned char *s, size_t len, bool last) {
  size_t used = 0;
  int r = 0;
  while (used < len && (r = seq_len(x->carry, x->ncarry)) == 0)
    x->carry[x->ncarry++] = s[used++];
  r = seq_len(x->carry, x->ncarry);
  if (r == 0 && !last)
    return used; /* still cut: wait for more */
  if (r > 0) {
    parse(x, (const char *)x->carry, (size_t)r);
  } else {
    parse(x, replacement, 3);
    if (r < 0 && (size_t)-r < x->ncarry)
      used--; /* the byte that broke the sequence starts the next one */
  }
  x->ncarry = 0;
  return used;
}

/*
 * Note: libxml2 2.9 gives up on a document whose first tag is an end tag
 * ("</a></div><a href=/x>": "StartTag: invalid element name", then
 * nothing); HTML5 ignores the stray end tags. An <html> start tag fed
 * before it puts libxml2 in content, where stray end tags are ignored.
 */
static void start_document(struct uc_xml *x, const char *s, size_t len) {
  size_t i = 0;
  while (i < len && uc_xis_space(s[i]))
    i++;
  if (i == len)
    return;
  x->started = true;
  if (s[i] == '<' && i + 1 < len && s[i + 1] == '/')
    parse(x, "<html>", 6);
}

int uc_xml_feed(struct uc_xml *x, const char *bytes, size_t len, bool last) {
  if (x->rc != 0)
    return x->rc;
  if (!x->started)
    start_document(x, bytes, len);
  const unsigned char *s = (const unsigned char *)bytes;
  if (x->ncarry > 0) {
    size_t used = finish_carry(x, s, len, last);
    len -= used;
    if (len > 0) /* Note: s may be NULL (the final feed); NULL + 0 is UB */
      s += used;
  }
  if (len > 0)
    clean_utf8(x, s, len, last);
  if (last && x->rc == 0) {
    x->last = true;
    htmlParseChunk(x->ctxt, NULL, 0, 1);
  }
  return x->rc;
}

void uc_xml_free(struct uc_xml *x) {
  if (x == NULL)
    return;
  htmlFreeParserCtxt(x->ctxt);
  free(x->modes);
  free(x);
}
