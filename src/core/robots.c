/* robots.c - RFC 9309 robots.txt parser and matcher (see robots.h). */
#include "uvcrawl/robots.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uvcrawl/error.h"
#include "pct.h"

/* One Allow or Disallow line, normalized once at parse time. */
typedef struct robots_rule {
  char *pattern;      /* owned, NUL-terminated; normalized, without the final '$' */
  size_t pattern_len; /* octets in pattern */
  size_t match_len;   /* octets of the normalized pattern, '$' included: ranks matches */
  bool anchored;      /* the pattern ended in '$' */
  bool allow;
} robots_rule;

/* The rules gathered for one kind of agent (ours, or "*") while parsing. */
typedef struct robots_rules {
  robots_rule *rule; /* owned array */
  size_t n, cap;
  double crawl_delay; /* -1.0 until a valid Crawl-delay is seen */
  bool named;         /* some group named this agent, even one without rules */
} robots_rules;

struct uc_robots {
  robots_rules rules;
};

typedef struct robots_parser {
  const char *agent; /* our product token, cut to its name part (borrowed) */
  size_t agent_len;
  robots_rules mine; /* from groups that name us */
  robots_rules star; /* from "*" groups */
  bool in_header;    /* the last directive was a user-agent line */
  bool group_mine;   /* the current group names us */
  bool group_star;   /* the current group names "*" */
} robots_parser;

static const char robots_hex[] = "0123456789ABCDEF";

static bool is_name_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}

static bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

static unsigned char to_lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool equal_nocase(const char *a, size_t alen, const char *b) {
  size_t blen = strlen(b);
  if (alen != blen)
    return false;
  for (size_t i = 0; i < alen; i++)
    if (to_lower((unsigned char)a[i]) != to_lower((unsigned char)b[i]))
      return false;
  return true;
}

/* Length of the leading [a-zA-Z_-] run: RFC 9309 2.2.1's product token. */
static size_t name_len(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && is_name_char((unsigned char)s[i]))
    i++;
  return i;
}

/*
 * Write the comparison form of `in` to `out` (room for 3 * n bytes) and
 * return its length. Patterns and paths go through the same function, so
 * equivalent spellings compare equal octet for octet. Note: a decoded %XX is
 * only ever an unreserved character, so "%2A" stays "%2A" and can never turn
 * into a '*' wildcard or a '$' anchor.
 */
static size_t robots_normalize(char *out, const char *in, size_t n) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)in[i];
    if (c == '%' && n - i >= 3) {
      int hi = uc_pct_hex_value((unsigned char)in[i + 1]);
      int lo = uc_pct_hex_value((unsigned char)in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        unsigned char v = (unsigned char)(hi << 4 | lo);
        if (uc_pct_unreserved(v)) {
          out[o++] = (char)v;
        } else {
          out[o++] = '%';
          out[o++] = robots_hex[hi];
          out[o++] = robots_hex[lo];
        }
        i += 2;
        continue;
      }
    }
    if (c <= 0x20 || c >= 0x7f) {
      out[o++] = '%';
      out[o++] = robots_hex[c >> 4];
      out[o++] = robots_hex[c & 15];
    } else {
      out[o++] = (char)c;
    }
  }
  return o;
}

/*
 * Does the pattern match a prefix of the path (the whole path if anchored)?
 * The two-pointer wildcard algorithm: on a mismatch only the most recent '*'
 * is retried, one octet further on. That is enough for '*'-only patterns and
 * bounds the work by plen * slen, where naive recursion is exponential on
 * patterns like "*a*a*a*a*b" against a long run of "a".
 */
static bool robots_match(const char *p, size_t plen, bool anchored, const char *s, size_t slen) {
  size_t pi = 0, si = 0;
  size_t star = SIZE_MAX; /* pattern index just after the latest '*' */
  size_t mark = 0;        /* path index that '*' has absorbed up to */
  for (;;) {
    if (pi == plen && (!anchored || si == slen))
      return true;
    if (pi < plen && p[pi] == '*') {
      star = ++pi;
      mark = si;
      continue;
    }
    if (pi < plen && si < slen && p[pi] == s[si]) {
      pi++;
      si++;
      continue;
    }
    if (star == SIZE_MAX || mark >= slen)
      return false;
    pi = star;
    si = ++mark;
  }
}

static void rules_free(robots_rules *rs) {
  for (size_t i = 0; i < rs->n; i++)
    free(rs->rule[i].pattern);
  free(rs->rule);
  rs->rule = NULL;
  rs->n = rs->cap = 0;
}

static int rules_add(robots_rules *rs, const char *value, size_t len, bool allow) {
  if (rs->n == rs->cap) {
    size_t cap = rs->cap ? rs->cap * 2 : 8;
    robots_rule *grown = realloc(rs->rule, cap * sizeof *grown);
    if (grown == NULL)
      return UC_ENOMEM;
    rs->rule = grown;
    rs->cap = cap;
  }
  char *pattern = malloc(3 * len + 1); /* len <= UC_ROBOTS_MAX_BYTES: no overflow */
  if (pattern == NULL)
    return UC_ENOMEM;
  size_t n = robots_normalize(pattern, value, len);
  robots_rule *rule = &rs->rule[rs->n++];
  rule->match_len = n;
  rule->anchored = n > 0 && pattern[n - 1] == '$';
  if (rule->anchored)
    n--;
  pattern[n] = '\0';
  rule->pattern = pattern;
  rule->pattern_len = n;
  rule->allow = allow;
  return 0;
}

/* A non-negative decimal ("2", "0.5", ".5", "3."); nothing else. */
static bool parse_delay(const char *s, size_t n, double *out) {
  double v = 0.0, scale = 1.0;
  size_t digits = 0;
  bool dot = false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '.' && !dot) {
      dot = true;
    } else if (c >= '0' && c <= '9') {
      digits++;
      if (dot) {
        scale /= 10.0;
        v += (c - '0') * scale;
      } else {
        v = v * 10.0 + (c - '0');
      }
    } else {
      return false;
    }
  }
  if (digits == 0 || !isfinite(v))
    return false;
  *out = v;
  return true;
}

static void on_user_agent(robots_parser *p, const char *value, size_t len) {
  if (!p->in_header) {
    /* A user-agent line after rules starts a new group. */
    p->group_mine = p->group_star = false;
    p->in_header = true;
  }
  if (len > 0 && value[0] == '*' && (len == 1 || !is_name_char((unsigned char)value[1]))) {
    p->group_star = p->star.named = true;
    return;
  }
  size_t n = name_len(value, len);
  if (n > 0 && p->agent_len == n) {
    for (size_t i = 0; i < n; i++)
      if (to_lower((unsigned char)value[i]) != to_lower((unsigned char)p->agent[i]))
        return;
    p->group_mine = p->mine.named = true;
  }
}

static int on_rule(robots_parser *p, const char *value, size_t len, bool allow) {
  p->in_header = false;
  if (len == 0) /* "Disallow:" allows everything; an empty Allow adds nothing */
    return 0;
  int rc = 0;
  if (p->group_mine)
    rc = rules_add(&p->mine, value, len, allow);
  if (rc == 0 && p->group_star)
    rc = rules_add(&p->star, value, len, allow);
  return rc;
}

static void on_crawl_delay(robots_parser *p, const char *value, size_t len) {
  p->in_header = false;
  double delay;
  if (!parse_delay(value, len, &delay))
    return;
  if (p->group_mine && p->mine.crawl_delay < 0)
    p->mine.crawl_delay = delay;
  if (p->group_star && p->star.crawl_delay < 0)
    p->star.crawl_delay = delay;
}

/* Drop leading and trailing blanks from the span s[0..n). */
static void trim(const char **s, size_t *n) {
  while (*n > 0 && is_space((unsigned char)**s)) {
    (*s)++;
    (*n)--;
  }
  while (*n > 0 && is_space((unsigned char)(*s)[*n - 1]))
    (*n)--;
}

/* One line without its terminator: `field: value # comment`. */
static int on_line(robots_parser *p, const char *line, size_t len) {
  const char *hash = memchr(line, '#', len);
  if (hash != NULL)
    len = (size_t)(hash - line);
  const char *colon = memchr(line, ':', len);
  if (colon == NULL)
    return 0;
  const char *key = line, *value = colon + 1;
  size_t klen = (size_t)(colon - line), vlen = len - klen - 1;
  trim(&key, &klen);
  trim(&value, &vlen);

  if (equal_nocase(key, klen, "user-agent") || equal_nocase(key, klen, "useragent") ||
      equal_nocase(key, klen, "user agent")) {
    on_user_agent(p, value, vlen);
  } else if (equal_nocase(key, klen, "allow")) {
    return on_rule(p, value, vlen, true);
  } else if (equal_nocase(key, klen, "disallow")) {
    return on_rule(p, value, vlen, false);
  } else if (equal_nocase(key, klen, "crawl-delay")) {
    on_crawl_delay(p, value, vlen);
  }
  /* Sitemap and unknown fields belong to no group and do not end one. */
  return 0;
}

static int robots_new(uc_robots **out) {
  uc_robots *r = calloc(1, sizeof *r);
  if (r == NULL)
    return UC_ENOMEM;
  r->rules.crawl_delay = -1.0;
  *out = r;
  return 0;
}

int uc_robots_parse(uc_robots **out, const char *body, size_t len, const char *product_token) {
  assert(out != NULL && product_token != NULL && (body != NULL || len == 0));
  robots_parser p = {0};
  p.agent = product_token;
  p.agent_len = name_len(product_token, strlen(product_token));
  p.mine.crawl_delay = p.star.crawl_delay = -1.0;

  if (len > UC_ROBOTS_MAX_BYTES)
    len = UC_ROBOTS_MAX_BYTES;
  size_t i = 0;
  if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
    i = 3;
  int rc = 0;
  while (i < len && rc == 0) {
    size_t start = i;
    while (i < len && body[i] != '\n' && body[i] != '\r')
      i++;
    rc = on_line(&p, body + start, i - start);
    if (i < len)
      i += (body[i] == '\r' && i + 1 < len && body[i + 1] == '\n') ? 2 : 1;
  }

  uc_robots *r = NULL;
  if (rc == 0)
    rc = robots_new(&r);
  if (rc != 0) {
    rules_free(&p.mine);
    rules_free(&p.star);
    return rc;
  }
  if (p.mine.named) {
    r->rules = p.mine;
    rules_free(&p.star);
  } else if (p.star.named) {
    r->rules = p.star;
    rules_free(&p.mine);
  } else {
    rules_free(&p.mine);
    rules_free(&p.star);
  }
  *out = r;
  return 0;
}

int uc_robots_new_allow_all(uc_robots **out) {
  assert(out != NULL);
  return robots_new(out);
}

int uc_robots_new_disallow_all(uc_robots **out) {
  assert(out != NULL);
  uc_robots *r;
  int rc = robots_new(&r);
  if (rc != 0)
    return rc;
  rc = rules_add(&r->rules, "/", 1, false);
  if (rc != 0) {
    uc_robots_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void uc_robots_free(uc_robots *r) {
  if (r == NULL)
    return;
  rules_free(&r->rules);
  free(r);
}

/* "/robots.txt", with or without a query, is always fetchable (RFC 9309 2.2.2). */
static bool is_robots_txt(const char *path, size_t n) {
  static const char name[] = "/robots.txt";
  size_t k = sizeof name - 1;
  return n >= k && memcmp(path, name, k) == 0 && (n == k || path[k] == '?');
}

bool uc_robots_allowed(const uc_robots *r, const char *path) {
  assert(r != NULL && path != NULL);
  if (*path == '\0')
    path = "/";
  size_t n = strlen(path);
  if (r->rules.n == 0 || is_robots_txt(path, n))
    return true;

  char small[768];
  char *norm = small;
  if (n > sizeof small / 3) {
    if (n > SIZE_MAX / 3)
      return false;
    norm = malloc(3 * n);
    if (norm == NULL)
      return false;
  }
  size_t m = robots_normalize(norm, path, n);

  bool found = false, allow = true;
  size_t best = 0;
  for (size_t i = 0; i < r->rules.n; i++) {
    const robots_rule *rule = &r->rules.rule[i];
    if (found && (rule->match_len < best || (rule->match_len == best && (allow || !rule->allow))))
      continue; /* cannot change the verdict */
    if (!robots_match(rule->pattern, rule->pattern_len, rule->anchored, norm, m))
      continue;
    found = true;
    best = rule->match_len;
    allow = rule->allow;
  }
  if (norm != small)
    free(norm);
  return !found || allow;
}

double uc_robots_crawl_delay(const uc_robots *r) {
  assert(r != NULL);
  return r->rules.crawl_delay;
}

size_t uc_robots_rule_count(const uc_robots *r) {
  assert(r != NULL);
  return r->rules.n;
}
