/*
 * url.c - resolve and normalize URLs on top of libcurl's URL API (see url.h).
 *
 * The flow of every public function: clean the reference the way the WHATWG
 * URL standard does (clean_ref), load it into a CURLU handle, resolved against
 * the base when it is relative (load_url), then read the parts back and put
 * them together in normal form (append_*). libcurl does the parsing, the
 * relative resolution and the dot-segment removal; this file fixes the few
 * places where curl 7.88 differs from RFC 3986 (empty and fragment-only
 * references, "http:g", '+' for spaces in relative queries) and adds the
 * normalizations curl does not do (host case, percent-encoding).
 */
#include "uvcrawl/url.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <libpsl.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"
#include "pct.h"

/* A reference longer than this is refused before any work is done. */
#define REF_MAX_LEN (4 * UC_URL_MAX_LEN)

/* Which parts load_url's caller wants back. */
enum url_part {
  PART_URL,        /* the whole normalized URL */
  PART_ORIGIN,     /* scheme://host[:port] */
  PART_PATH_QUERY, /* /path?query */
};

static const char hex_upper[] = "0123456789ABCDEF";

static bool is_alpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

static char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Where a percent-normalized string goes: decides the bytes kept raw. */
enum pct_part {
  PCT_PATH,     /* RFC 3986 pchar and '/' */
  PCT_QUERY,    /* also '?' */
  PCT_USER,     /* userinfo before the ':': unreserved and sub-delims */
  PCT_PASSWORD, /* also ':' */
};

/* May this byte stand unencoded in `part`? '%' is handled by the caller. */
static bool is_raw_ok(unsigned char c, enum pct_part part) {
  if (uc_pct_unreserved(c))
    return true;
  switch (c) {
  case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':
  case ',': case ';': case '=':
    return true;
  case ':':
    return part != PCT_USER;
  case '@': case '/':
    return part == PCT_PATH || part == PCT_QUERY;
  case '?':
    return part == PCT_QUERY;
  default:
    return false;
  }
}

static int append_pct(uc_buf *b, unsigned char c) {
  char enc[3] = {'%', hex_upper[c >> 4], hex_upper[c & 15]};
  return uc_buf_append(b, enc, 3);
}

/*
 * Append a path, query or user info with its percent-encoding normalized: %hh of an
 * unreserved character decoded, other %hh upper-cased, a '%' without two hex
 * digits encoded as %25, and every byte not allowed raw encoded.
 */
static int append_normalized(uc_buf *b, const char *s, enum pct_part part) {
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    int rc;
    /* Most bytes stay as they are: copy such a run at once. */
    const unsigned char *run = p;
    while (*p != '\0' && is_raw_ok(*p, part)) /* never '%' */
      p++;
    if (p > run && (rc = uc_buf_append(b, run, (size_t)(p - run))) != 0)
      return rc;
    if (*p == '\0')
      break;
    if (*p == '%' && uc_pct_hex_value(p[1]) >= 0 && uc_pct_hex_value(p[2]) >= 0) {
      unsigned char c = (unsigned char)(uc_pct_hex_value(p[1]) * 16 + uc_pct_hex_value(p[2]));
      p += 2;
      if (uc_pct_unreserved(c))
        rc = uc_buf_append(b, &c, 1);
      else
        rc = append_pct(b, c);
    } else {
      rc = append_pct(b, *p); /* a stray '%', or a byte not allowed raw */
    }
    if (rc != 0)
      return rc;
  }
  return 0;
}

/*
 * RFC 3986 5.2.4 on a path that starts with '/', in place; returns the new
 * length. Needed after append_normalized because decoding "%2E" can make new
 * "." and ".." segments (curl removed the literal ones already).
 */
static size_t remove_dot_segments(char *path, size_t len) {
  size_t in = 0, out = 0;
  while (in < len) {
    size_t seg = in + 1, end = seg;
    while (end < len && path[end] != '/')
      end++;
    bool last = end == len;
    bool dot = end - seg == 1 && path[seg] == '.';
    bool dotdot = end - seg == 2 && path[seg] == '.' && path[seg + 1] == '.';
    if (dot || dotdot) {
      if (dotdot)
        while (out > 0 && path[--out] != '/')
          ;
      if (last)
        path[out++] = '/';
    } else {
      memmove(path + out, path + in, end - in);
      out += end - in;
    }
    in = end;
  }
  if (out == 0)
    path[out++] = '/';
  path[out] = '\0';
  return out;
}

static bool has_dot_segment(const char *path) {
  for (const char *p = strstr(path, "/."); p != NULL; p = strstr(p + 1, "/.")) {
    const char *q = p[2] == '.' ? p + 3 : p + 2;
    if (*q == '\0' || *q == '/')
      return true;
  }
  return false;
}

/* Length of the scheme if `s` starts with "scheme:", else 0 (RFC 3986 3.1). */
static size_t scheme_len(const char *s) {
  if (!is_alpha((unsigned char)s[0]))
    return 0;
  size_t i = 1;
  while (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) || s[i] == '+' ||
         s[i] == '-' || s[i] == '.')
    i++;
  return s[i] == ':' ? i : 0;
}

static bool is_http_scheme(const char *s, size_t len) {
  return (len == 4 && strncasecmp(s, "http", 4) == 0) ||
         (len == 5 && strncasecmp(s, "https", 5) == 0);
}

/*
 * Clean a reference into `b` as the WHATWG URL parser does for http(s):
 * strip bytes <= 0x20 from both ends, drop tab/LF/CR inside, cut the
 * fragment, and read a backslash before the query as '/'. Any other control
 * byte makes the reference malformed.
 */
static int clean_ref(const char *ref, uc_buf *b) {
  size_t len = strnlen(ref, REF_MAX_LEN + 1);
  if (len > REF_MAX_LEN)
    return UC_ETOOLONG;
  size_t start = 0;
  while (start < len && (unsigned char)ref[start] <= 0x20)
    start++;
  while (len > start && (unsigned char)ref[len - 1] <= 0x20)
    len--;
  int rc = uc_buf_reserve(b, len - start);
  if (rc != 0)
    return rc;
  b->data[0] = '\0';
  bool in_query = false;
  for (size_t i = start; i < len; i++) {
    char c = ref[i];
    if (c == '#')
      break;
    if (c == '\t' || c == '\n' || c == '\r')
      continue;
    if ((unsigned char)c < 0x20 || c == 0x7f)
      return UC_EBADURL;
    if (c == '?')
      in_query = true;
    if (c == '\\' && !in_query)
      c = '/';
    b->data[b->len++] = c;
  }
  b->data[b->len] = '\0';
  return 0;
}

static int curl_error(CURLUcode rc) {
  switch (rc) {
  case CURLUE_OK:
    return 0;
  case CURLUE_OUT_OF_MEMORY:
    return UC_ENOMEM;
  case CURLUE_UNSUPPORTED_SCHEME:
    return UC_ESCHEME;
  default:
    return UC_EBADURL;
  }
}

/* Set an absolute URL; with ALLOW_SPACE so that spaces in a path or query
 * reach append_normalized (curl still refuses them in a host). */
static int set_absolute(CURLU *h, const char *url) {
  return curl_error(curl_url_set(h, CURLUPART_URL, url, CURLU_ALLOW_SPACE));
}

/*
 * Resolve a cleaned relative reference `rel` (no scheme) against the URL that
 * `h` holds, whose scheme is `scheme`.
 *
 * Note: curl 7.88 resolves "" to the base's directory (RFC: the base itself),
 * and turns spaces in a relative query into '+' (a different query for most
 * servers). Hence the empty case here, and spaces and non-ASCII bytes are
 * percent-encoded before curl sees the reference. A protocol-relative
 * "//host/p" is made absolute here, since it may hold a non-ASCII host that
 * must not be encoded.
 */
static int set_relative(CURLU *h, const char *scheme, const char *rel) {
  if (rel[0] == '\0')
    return 0;
  uc_buf abs = UC_BUF_INIT;
  int rc;
  if (rel[0] == '/' && rel[1] == '/') {
    if ((rc = uc_buf_puts(&abs, scheme)) == 0 && (rc = uc_buf_puts(&abs, ":")) == 0 &&
        (rc = uc_buf_puts(&abs, rel)) == 0)
      rc = set_absolute(h, abs.data);
    uc_buf_free(&abs);
    return rc;
  }
  rc = uc_buf_reserve(&abs, strlen(rel));
  for (const unsigned char *p = (const unsigned char *)rel; rc == 0 && *p != '\0';) {
    const unsigned char *run = p; /* bytes that go to curl as they are */
    while (*p != '\0' && *p != ' ' && *p < 0x80)
      p++;
    if (p > run)
      rc = uc_buf_append(&abs, run, (size_t)(p - run));
    else
      rc = append_pct(&abs, *p++);
  }
  if (rc == 0)
    rc = curl_error(curl_url_set(h, CURLUPART_URL, abs.data, CURLU_ALLOW_SPACE));
  uc_buf_free(&abs);
  return rc;
}

struct uc_url_base {
  CURLU *h;     /* the base, loaded (cleaned, no fragment) */
  char *scheme; /* its scheme as curl gives it (lower-case); curl_free */
};

static void base_clear(uc_url_base *b) {
  curl_url_cleanup(b->h);
  curl_free(b->scheme);
  b->h = NULL;
  b->scheme = NULL;
}

static int load_url(CURLU **hp, const char *base_text, const uc_url_base *base, const char *ref);

/* Parse `text` into b (zeroed); on failure b stays empty. */
static int base_load(uc_url_base *b, const char *text) {
  int rc = load_url(&b->h, NULL, NULL, text);
  if (rc == 0)
    rc = curl_error(curl_url_get(b->h, CURLUPART_SCHEME, &b->scheme, 0));
  if (rc != 0)
    base_clear(b);
  return rc;
}

/*
 * Load `ref` into a new handle *hp (the caller's, curl_url_cleanup), resolved
 * against a base when it is relative: `base` when it is parsed already, else
 * `base_text` (may be NULL), parsed here only when a relative reference
 * needs it. On success *hp holds an absolute http(s) URL without fragment.
 */
static int load_url(CURLU **hp, const char *base_text, const uc_url_base *base, const char *ref) {
  uc_buf clean = UC_BUF_INIT, abs = UC_BUF_INIT;
  uc_url_base parsed = {NULL, NULL};
  CURLU *h = NULL;
  int rc = clean_ref(ref, &clean);
  if (rc != 0)
    goto done;
  const char *rel = clean.data;
  size_t slen = scheme_len(clean.data);
  if (base == NULL && base_text != NULL && (slen == 0 || clean.data[slen + 1] != '/')) {
    if ((rc = base_load(&parsed, base_text)) != 0)
      goto done;
    base = &parsed;
  }
  if (slen > 0) {
    if (!is_http_scheme(clean.data, slen)) {
      rc = UC_ESCHEME;
      goto done;
    }
    const char *rest = clean.data + slen + 1;
    /* WHATWG: "http:g" on an http base is the relative "g". */
    if (rest[0] != '/' && base != NULL && strlen(base->scheme) == slen &&
        strncasecmp(base->scheme, clean.data, slen) == 0) {
      rc = (h = curl_url_dup(base->h)) == NULL ? UC_ENOMEM : set_relative(h, base->scheme, rest);
      goto done;
    }
    /* Absolute: "http:/x", "http:x" and "http:///x" all mean "http://x". */
    while (*rest == '/')
      rest++;
    rc = uc_buf_reserve(&abs, slen + 3 + strlen(rest));
    if (rc != 0)
      goto done;
    for (size_t i = 0; i < slen; i++)
      abs.data[abs.len++] = ascii_lower(clean.data[i]);
    abs.data[abs.len] = '\0';
    if ((rc = uc_buf_puts(&abs, "://")) == 0 && (rc = uc_buf_puts(&abs, rest)) == 0)
      rc = (h = curl_url()) == NULL ? UC_ENOMEM : set_absolute(h, abs.data);
    goto done;
  }
  if (base == NULL) {
    rc = UC_EBADURL;
    goto done;
  }
  rc = (h = curl_url_dup(base->h)) == NULL ? UC_ENOMEM : set_relative(h, base->scheme, rel);
done:
  base_clear(&parsed);
  uc_buf_free(&clean);
  uc_buf_free(&abs);
  if (rc != 0)
    curl_url_cleanup(h);
  else
    *hp = h;
  return rc;
}

/* Get a part that may be absent: 0 with *val NULL when it is. */
static int get_optional(CURLU *h, CURLUPart what, char **val, unsigned flags) {
  *val = NULL;
  CURLUcode rc = curl_url_get(h, what, val, flags);
  switch (rc) {
  case CURLUE_NO_USER:
  case CURLUE_NO_PASSWORD:
  case CURLUE_NO_PORT:
  case CURLUE_NO_QUERY:
  case CURLUE_NO_ZONEID:
    *val = NULL;
    return 0;
  default:
    return curl_error(rc);
  }
}

/*
 * Bytes that may not stand in a host name: control bytes and the set that
 * curl's own host check refuses (which holds the WHATWG forbidden domain code
 * points but '|'). A raw host with one of them never gets this far; a
 * decoded or IDN-mapped one can.
 */
static bool is_host_text(const char *host) {
  for (const unsigned char *p = (const unsigned char *)host; *p != '\0'; p++)
    if (*p <= 0x20 || *p == 0x7f)
      return false;
  return host[strcspn(host, "/:#?!@{}[]\\$'\"^`*<>=;,+&()%")] == '\0';
}

/* Could curl read `host` as an IPv4 number ("127.1", "0x7F.1", "2130706433")?
 * Only digits, hex digits, 'x' and dots can. */
static bool may_be_ipv4(const char *host) {
  return host[0] != '\0' && host[strspn(host, "0123456789abcdefABCDEFxX.")] == '\0';
}

/*
 * Read a host name back the way the next parse of our output will, into
 * *host (replaced; curl_free'd).
 *
 * Note: curl 7.88 recognizes an IPv4 number before it percent-decodes the
 * host and before IDN mapping, so "http://%33/" and "http://\uFF13/" give
 * the name "3", and a second parse of "http://3/" gives "0.0.0.3": resolve's
 * output would not be a fixed point of normalize (a duplicate fetch). WHATWG
 * decodes and maps first, then parses the number; parsing the final text
 * once more does the same.
 */
static int reparse_host(char **host) {
  uc_buf url = UC_BUF_INIT;
  char *again = NULL;
  CURLU *h = curl_url();
  int rc = h == NULL ? UC_ENOMEM : 0;
  if (rc == 0 && (rc = uc_buf_puts(&url, "http://")) == 0 && (rc = uc_buf_puts(&url, *host)) == 0 &&
      (rc = uc_buf_puts(&url, "/")) == 0 &&
      (rc = curl_error(curl_url_set(h, CURLUPART_URL, url.data, 0))) == 0)
    rc = curl_error(curl_url_get(h, CURLUPART_HOST, &again, 0));
  if (rc == 0) {
    curl_free(*host);
    *host = again;
  }
  curl_url_cleanup(h);
  uc_buf_free(&url);
  return rc;
}

/*
 * Append the host: punycode when it is not ASCII and curl can convert it
 * (else the UTF-8 bytes as they are), ASCII lower-cased, a number in IPv4
 * dotted-decimal form, an IPv6 zone id put back inside the brackets. A host
 * that percent-decoding or IDN mapping made into something that is not a
 * host ("%2F", U+FF0F, U+FF20: '/', '@') is UC_EBADURL.
 */
static int append_host(uc_buf *b, CURLU *h) {
  char *host = NULL, *zone = NULL;
  int rc = curl_error(curl_url_get(h, CURLUPART_HOST, &host, 0));
  if (rc != 0)
    return rc;
  for (const unsigned char *p = (const unsigned char *)host; *p != '\0'; p++) {
    if (*p >= 0x80) {
      char *puny = NULL;
      /* Note: fails (as "out of memory") in a non-UTF-8 locale; see url.h. */
      if (curl_url_get(h, CURLUPART_HOST, &puny, CURLU_PUNYCODE) == CURLUE_OK) {
        curl_free(host);
        host = puny;
      } else {
        /* Note: curl 7.88 leaves its copy of the host in puny on this error
         * (a leak unless freed); later versions set it to NULL. */
        curl_free(puny);
      }
      break;
    }
  }
  if (host[0] != '[') {
    /* Note: "http://a%2Fb.test/" is refused by curl, but the IDN mapping of
     * "http://\uFF41\uFF0F\uFF42.test/x" gives the host "a/b.test", and
     * the output "http://a/b.test/x" would name another host. */
    if (!is_host_text(host))
      rc = UC_EBADURL;
    else if (may_be_ipv4(host))
      rc = reparse_host(&host);
    if (rc != 0)
      goto done;
  }
  size_t len = strlen(host), start = b->len;
  if (host[0] == '[' && (rc = get_optional(h, CURLUPART_ZONEID, &zone, 0)) != 0)
    goto done;
  if (zone != NULL && len > 0 && host[len - 1] == ']')
    len--; /* "[fe80::1]" -> "[fe80::1%25eth0]" */
  if ((rc = uc_buf_append(b, host, len)) != 0)
    goto done;
  if (zone != NULL) {
    if ((rc = uc_buf_puts(b, "%25")) != 0 || (rc = uc_buf_puts(b, zone)) != 0 ||
        (rc = uc_buf_puts(b, "]")) != 0)
      goto done;
  }
  for (size_t i = start; i < b->len; i++)
    b->data[i] = ascii_lower(b->data[i]);
done:
  curl_free(host);
  curl_free(zone);
  return rc;
}

/* Append "scheme://[userinfo@]host[:port]"; where the parts went into *p
 * (may be NULL). */
static int append_origin(uc_buf *b, CURLU *h, bool with_userinfo, uc_url_parts *where) {
  char *scheme = NULL, *user = NULL, *password = NULL, *port = NULL;
  int rc = curl_error(curl_url_get(h, CURLUPART_SCHEME, &scheme, 0));
  if (rc != 0)
    goto done;
  if (!is_http_scheme(scheme, strlen(scheme))) {
    rc = UC_ESCHEME;
    goto done;
  }
  for (char *p = scheme; *p != '\0'; p++)
    *p = ascii_lower(*p);
  if ((rc = uc_buf_puts(b, scheme)) != 0 || (rc = uc_buf_puts(b, "://")) != 0)
    goto done;
  if (with_userinfo) {
    if ((rc = get_optional(h, CURLUPART_USER, &user, 0)) != 0 ||
        (rc = get_optional(h, CURLUPART_PASSWORD, &password, 0)) != 0)
      goto done;
    if (user != NULL || password != NULL) {
      if ((rc = append_normalized(b, user ? user : "", PCT_USER)) != 0)
        goto done;
      if (password != NULL && ((rc = uc_buf_puts(b, ":")) != 0 ||
                               (rc = append_normalized(b, password, PCT_PASSWORD)) != 0))
        goto done;
      if ((rc = uc_buf_puts(b, "@")) != 0)
        goto done;
    }
  }
  size_t host_off = b->len;
  if ((rc = append_host(b, h)) != 0)
    goto done;
  size_t host_len = b->len - host_off;
  if ((rc = get_optional(h, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT)) != 0)
    goto done;
  if (port != NULL && ((rc = uc_buf_puts(b, ":")) != 0 || (rc = uc_buf_puts(b, port)) != 0))
    goto done;
  if (where != NULL) {
    uc_url_parts *p = where;
    /* Note: offsets fit in 16 bits only below UC_URL_MAX_LEN; url_part
     * refuses longer URLs after this. */
    p->scheme_len = (uint16_t)strlen(scheme);
    p->host_off = (uint16_t)(host_off <= UINT16_MAX ? host_off : 0);
    p->host_len = (uint16_t)(host_len <= UINT16_MAX ? host_len : 0);
    p->port = (uint16_t)(port != NULL ? atoi(port) : p->scheme_len == 5 ? 443 : 80);
    p->userinfo = host_off > (size_t)p->scheme_len + 3;
  }
done:
  curl_free(scheme);
  curl_free(user);
  curl_free(password);
  curl_free(port);
  return rc;
}

static int append_path_query(uc_buf *b, CURLU *h) {
  char *path = NULL, *query = NULL;
  int rc = curl_error(curl_url_get(h, CURLUPART_PATH, &path, 0));
  if (rc != 0)
    goto done;
  size_t start = b->len;
  if (path[0] != '/' && (rc = uc_buf_puts(b, "/")) != 0)
    goto done;
  if ((rc = append_normalized(b, path, PCT_PATH)) != 0)
    goto done;
  if (has_dot_segment(b->data + start))
    b->len = start + remove_dot_segments(b->data + start, b->len - start);
  if ((rc = get_optional(h, CURLUPART_QUERY, &query, 0)) != 0)
    goto done;
  if (query != NULL && query[0] != '\0') {
    if ((rc = uc_buf_puts(b, "?")) != 0 || (rc = append_normalized(b, query, PCT_QUERY)) != 0)
      goto done;
  }
done:
  curl_free(path);
  curl_free(query);
  return rc;
}

/* The common body of the public functions: load, then put `part` together;
 * where the parts of a PART_URL lie into *parts (may be NULL). */
static int url_part(const char *base_text, const uc_url_base *base, const char *ref,
                    enum url_part part, char **out, uc_url_parts *parts) {
  uc_buf b = UC_BUF_INIT;
  CURLU *h = NULL;
  uc_url_parts where = {0, 0, 0, 0, 0, false};
  int rc = load_url(&h, base_text, base, ref);
  if (rc == 0 && part != PART_PATH_QUERY)
    rc = append_origin(&b, h, part == PART_URL, &where);
  where.path_off = (uint16_t)(b.len <= UINT16_MAX ? b.len : 0);
  if (rc == 0 && part != PART_ORIGIN)
    rc = append_path_query(&b, h);
  if (rc == 0 && b.len > UC_URL_MAX_LEN)
    rc = UC_ETOOLONG;
  curl_url_cleanup(h);
  if (rc != 0) {
    uc_buf_free(&b);
    return rc;
  }
  *out = uc_buf_steal(&b);
  if (parts != NULL)
    *parts = where;
  return 0;
}

int uc_url_resolve(const char *base, const char *ref, char **out) {
  return url_part(base, NULL, ref, PART_URL, out, NULL);
}

int uc_url_normalize(const char *url, char **out) {
  return url_part(NULL, NULL, url, PART_URL, out, NULL);
}

int uc_url_origin(const char *url, char **out) {
  return url_part(NULL, NULL, url, PART_ORIGIN, out, NULL);
}

int uc_url_path_query(const char *url, char **out) {
  return url_part(NULL, NULL, url, PART_PATH_QUERY, out, NULL);
}

int uc_url_base_new(const char *url, uc_url_base **out) {
  uc_url_base *b = calloc(1, sizeof *b);
  if (b == NULL)
    return UC_ENOMEM;
  int rc = base_load(b, url);
  if (rc != 0) {
    free(b);
    return rc;
  }
  *out = b;
  return 0;
}

void uc_url_base_free(uc_url_base *base) {
  if (base == NULL)
    return;
  base_clear(base);
  free(base);
}

int uc_url_resolve_at(const uc_url_base *base, const char *ref, char **out, uc_url_parts *parts) {
  return url_part(NULL, base, ref, PART_URL, out, parts);
}

int uc_url_parts_of(const char *url, uc_url_parts *parts) {
  char *norm = NULL;
  int rc = url_part(NULL, NULL, url, PART_URL, &norm, parts);
  if (rc == 0 && strcmp(norm, url) != 0)
    rc = UC_EBADURL;
  free(norm);
  return rc;
}

int uc_url_parts_origin(const char *url, const uc_url_parts *p, uc_buf *out) {
  if (!p->userinfo)
    return uc_buf_append(out, url, p->path_off);
  int rc = uc_buf_append(out, url, p->scheme_len);
  if (rc == 0)
    rc = uc_buf_puts(out, "://");
  if (rc == 0)
    rc = uc_buf_append(out, url + p->host_off, (size_t)(p->path_off - p->host_off));
  return rc;
}

/* The host of a URL into buf, and its port when `port` is not NULL (the
 * port costs one more curl_url_get: uc_url_host is on every link's path). */
static int host_port(const char *url, char *buf, size_t buflen, int *port) {
  uc_buf b = UC_BUF_INIT;
  char *text = NULL;
  CURLU *h = NULL;
  int rc = load_url(&h, NULL, NULL, url);
  if (rc == 0)
    rc = append_host(&b, h);
  if (rc == 0 && port != NULL)
    rc = curl_error(curl_url_get(h, CURLUPART_PORT, &text, CURLU_DEFAULT_PORT));
  curl_url_cleanup(h);
  if (rc == 0 && b.len >= buflen) {
    if (buflen > 0)
      buf[0] = '\0';
    rc = UC_ETOOLONG;
  }
  if (rc == 0) {
    memcpy(buf, b.data, b.len + 1);
    if (port != NULL)
      *port = atoi(text);
  }
  curl_free(text);
  uc_buf_free(&b);
  return rc;
}

int uc_url_host_port(const char *url, char *buf, size_t buflen, int *port) {
  return host_port(url, buf, buflen, port);
}

int uc_url_host(const char *url, char *buf, size_t buflen) {
  return host_port(url, buf, buflen, NULL);
}

const char *uc_url_domain(const struct psl_ctx_st *psl, const char *host) {
  size_t len = strlen(host);
  if (len == 0 || host[0] == '[' || strchr(host, ':') != NULL)
    return host;
  /* Note: libpsl takes "127.0.0.1" for a name under the "1" TLD and says
   * "0.1"; an address is its own scope. */
  if (strspn(host, "0123456789.") == len)
    return host;
  char name[256];
  size_t end = host[len - 1] == '.' ? len - 1 : len;
  if (end == 0 || end >= sizeof name)
    return host; /* no DNS name is longer than 253 */
  memcpy(name, host, end); /* libpsl wants no trailing dot */
  name[end] = '\0';
  const char *reg = psl_registrable_domain(psl != NULL ? psl : psl_builtin(), name);
  /* NULL: the host is a public suffix itself (or no list was compiled in). */
  return reg != NULL ? host + (reg - name) : host;
}

struct psl_ctx_st *uc_url_psl_load(void) {
  return psl_latest(NULL);
}

void uc_url_psl_free(struct psl_ctx_st *psl) {
  psl_free(psl);
}

bool uc_url_password(const char *url, size_t *start, size_t *len) {
  const char *sep = strstr(url, "://");
  if (sep == NULL || strcspn(url, "/?#") < (size_t)(sep - url))
    return false; /* no scheme, or "://" only inside the path */
  const char *auth = sep + 3;
  size_t auth_len = strcspn(auth, "/?#");
  const char *at = NULL;
  for (const char *p = auth; p < auth + auth_len; p++)
    if (*p == '@')
      at = p; /* the last '@' ends the userinfo */
  if (at == NULL)
    return false;
  const char *colon = memchr(auth, ':', (size_t)(at - auth));
  if (colon == NULL || colon + 1 == at)
    return false;
  *start = (size_t)(colon + 1 - url);
  *len = (size_t)(at - colon - 1);
  return true;
}

int uc_url_mask(const char *url, uc_buf *out) {
  size_t start, len, len0 = out->len;
  if (!uc_url_password(url, &start, &len))
    return uc_buf_puts(out, url);
  int rc = uc_buf_append(out, url, start);
  if (rc == 0)
    rc = uc_buf_puts(out, UC_URL_PASSWORD_MASK);
  if (rc == 0)
    rc = uc_buf_puts(out, url + start + len);
  if (rc != 0) {
    out->len = len0;
    if (out->data != NULL)
      out->data[len0] = '\0';
  }
  return rc;
}
