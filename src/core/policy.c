/* policy.c - scope, patterns, depth and trap guards for discovered links. */
#include "uvcrawl/policy.h"

#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "uvcrawl/error.h"
#include "uvcrawl/seen.h"
#include "uvcrawl/url.h"

struct uc_policy {
  uc_scope scope;
  int max_depth;            /* -1: unlimited */
  size_t max_url_length;    /* 0: unlimited */
  uc_seen *scope_names;     /* seed hosts (host scope) or their domains */
  uc_seen *adopted;         /* hosts (or domains) a seed redirected to; the owner's only */
  struct psl_ctx_st *psl;   /* --scope domain: the Public Suffix List (owned) */
  regex_t *allow;
  size_t n_allow;
  regex_t *deny;
  size_t n_deny;
  const uc_config *cfg;     /* borrowed: --accept / --reject items */
};

/* Compile a list of regexes; on failure frees what it compiled. */
static int compile_all(regex_t **out, const char *const *src, size_t n, char *err, size_t errlen) {
  *out = NULL;
  if (n == 0)
    return 0;
  regex_t *re = calloc(n, sizeof *re);
  if (re == NULL)
    return UC_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    int rc = regcomp(&re[i], src[i], REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
      char why[128];
      regerror(rc, &re[i], why, sizeof why);
      snprintf(err, errlen, "bad regular expression '%s': %s", src[i], why);
      while (i-- > 0)
        regfree(&re[i]);
      free(re);
      return UC_EINVAL;
    }
  }
  *out = re;
  return 0;
}

static void free_all(regex_t *re, size_t n) {
  for (size_t i = 0; re != NULL && i < n; i++)
    regfree(&re[i]);
  free(re);
}

int uc_policy_new(uc_policy **out, const uc_config *cfg, char *err, size_t errlen) {
  uc_policy *p = calloc(1, sizeof *p);
  if (p == NULL)
    return UC_ENOMEM;
  p->scope = cfg->scope;
  p->cfg = cfg;
  p->max_depth = cfg->depth;
  p->max_url_length = cfg->max_url_length;
  if (p->scope == UC_SCOPE_DOMAIN)
    p->psl = uc_url_psl_load(); /* NULL: uc_url_domain uses libpsl's own */
  int rc = uc_seen_new(&p->scope_names, NULL);
  if (rc == 0 && (rc = compile_all(&p->allow, cfg->allow, cfg->n_allow, err, errlen)) == 0)
    p->n_allow = cfg->n_allow;
  if (rc == 0 && (rc = compile_all(&p->deny, cfg->deny, cfg->n_deny, err, errlen)) == 0)
    p->n_deny = cfg->n_deny;
  if (rc != 0) {
    uc_policy_free(p);
    return rc;
  }
  *out = p;
  return 0;
}

void uc_policy_free(uc_policy *p) {
  if (p == NULL)
    return;
  uc_seen_free(p->scope_names);
  uc_seen_free(p->adopted);
  uc_url_psl_free(p->psl);
  free_all(p->allow, p->n_allow);
  free_all(p->deny, p->n_deny);
  free(p);
}

/* The name that scope compares: the host itself, or its registrable domain. */
static const char *scope_name(const uc_policy *p, const char *host) {
  return p->scope == UC_SCOPE_DOMAIN ? uc_url_domain(p->psl, host) : host;
}

int uc_policy_add_seed_host(uc_policy *p, const char *host) {
  const char *name = scope_name(p, host);
  int rc = uc_seen_insert(p->scope_names, name, strlen(name));
  return rc < 0 ? rc : 0;
}

/*
 * True when one path segment occurs more than UC_POLICY_MAX_SEGMENT_REPEATS
 * times: the shape of calendar and relative-link traps (/a/b/a/b/a/b/...).
 * Note: quadratic in the number of segments, but URLs are capped in length
 * before this runs, so a path has at most a few hundred segments.
 */
static int repeats_segment(const char *url) {
  const char *path = strstr(url, "://");
  path = path != NULL ? strchr(path + 3, '/') : NULL;
  if (path == NULL)
    return 0;
  size_t end = strcspn(path, "?#");
  for (const char *seg = path + 1; seg < path + end;) {
    size_t len = strcspn(seg, "/?#");
    if (len > 0) {
      int count = 0;
      for (const char *other = path + 1; other < path + end;) {
        size_t olen = strcspn(other, "/?#");
        if (olen == len && memcmp(other, seg, len) == 0)
          count++;
        other += olen + 1;
      }
      if (count > UC_POLICY_MAX_SEGMENT_REPEATS)
        return 1;
    }
    seg += len + 1;
  }
  return 0;
}

static int matches_any(const regex_t *re, size_t n, const char *url) {
  for (size_t i = 0; i < n; i++)
    if (regexec(&re[i], url, 0, NULL, 0) == 0)
      return 1;
  return 0;
}

int uc_policy_adopt_host(uc_policy *p, const char *host) {
  if (p->scope == UC_SCOPE_ANY)
    return 0;
  const char *name = scope_name(p, host);
  if (uc_seen_contains(p->scope_names, name, strlen(name)))
    return 0;
  int rc = p->adopted == NULL ? uc_seen_new(&p->adopted, NULL) : 0;
  if (rc == 0)
    rc = uc_seen_insert(p->adopted, name, strlen(name));
  return rc < 0 ? rc : 0;
}

/* Whether `item` of --accept/--reject matches an extension (ext_len bytes,
 * no dot), any case; items with a '/' are Content-Types, not extensions. */
static bool ext_item(const char *item, const char *ext, size_t ext_len) {
  return strchr(item, '/') == NULL && strlen(item) == ext_len &&
         strncasecmp(item, ext, ext_len) == 0;
}

/* How many items of the list are extensions (not types). */
static size_t count_ext_items(const char *const *items, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    count += strchr(items[i], '/') == NULL;
  return count;
}

/* --accept/--reject by the extension of the URL's last path segment. A
 * link with no extension ("/", "/docs/page") cannot be judged before the
 * fetch and passes; its Content-Type is judged then. */
static bool extension_ok(const uc_config *cfg, const char *url) {
  const char *path = strstr(url, "://");
  path = path != NULL ? strchr(path + 3, '/') : NULL;
  if (path == NULL)
    return true;
  size_t end = strcspn(path, "?#");
  const char *seg = path;
  for (const char *q = path; q < path + end; q++)
    if (*q == '/')
      seg = q + 1;
  const char *dot = NULL;
  for (const char *q = seg; q < path + end; q++)
    if (*q == '.')
      dot = q;
  if (dot == NULL || dot + 1 == path + end)
    return true;
  const char *ext = dot + 1;
  size_t len = (size_t)(path + end - ext);
  bool accepted = count_ext_items(cfg->accept, cfg->n_accept) == 0;
  for (size_t i = 0; !accepted && i < cfg->n_accept; i++)
    accepted = ext_item(cfg->accept[i], ext, len);
  for (size_t i = 0; accepted && i < cfg->n_reject; i++)
    accepted = !ext_item(cfg->reject[i], ext, len);
  return accepted;
}

/* Whether a Content-Type item ("text/html", or "image/" and a star) matches `ct`'s
 * media type (before any ';' parameters, spaces trimmed). */
static bool type_item(const char *item, const char *ct) {
  const char *slash = strchr(item, '/');
  if (slash == NULL)
    return false;
  ct += strspn(ct, " \t");
  size_t len = strcspn(ct, "; \t");
  if (strcmp(slash, "/*") == 0) {
    size_t major = (size_t)(slash - item) + 1; /* "image/" */
    return len >= major && strncasecmp(ct, item, major) == 0;
  }
  return strlen(item) == len && strncasecmp(ct, item, len) == 0;
}

bool uc_policy_type_ok(const uc_config *cfg, const char *ct) {
  if (ct == NULL || *ct == '\0')
    return true;
  bool accepted = count_ext_items(cfg->accept, cfg->n_accept) == cfg->n_accept; /* no types */
  for (size_t i = 0; !accepted && i < cfg->n_accept; i++)
    accepted = type_item(cfg->accept[i], ct);
  for (size_t i = 0; accepted && i < cfg->n_reject; i++)
    accepted = !type_item(cfg->reject[i], ct);
  return accepted;
}

static int check(const uc_policy *p, const char *url, const char *host, int depth, bool owner) {
  if (p->max_depth >= 0 && depth > p->max_depth)
    return UC_SKIP_DEPTH;
  if (p->max_url_length > 0 && strlen(url) > p->max_url_length)
    return UC_SKIP_URL_LENGTH;
  if (p->scope != UC_SCOPE_ANY) {
    const char *name = scope_name(p, host);
    size_t len = strlen(name);
    if (!uc_seen_contains(p->scope_names, name, len) &&
        !(owner && p->adopted != NULL && uc_seen_contains(p->adopted, name, len)))
      return UC_SKIP_SCOPE;
  }
  if (p->n_allow > 0 && !matches_any(p->allow, p->n_allow, url))
    return UC_SKIP_PATTERN;
  if (matches_any(p->deny, p->n_deny, url))
    return UC_SKIP_PATTERN;
  if (!extension_ok(p->cfg, url))
    return UC_SKIP_EXTENSION;
  if (repeats_segment(url))
    return UC_SKIP_REPEATED_SEGMENT;
  return -1;
}

int uc_policy_check(const uc_policy *p, const char *url, const char *host, int depth) {
  return check(p, url, host, depth, false);
}

int uc_policy_check_owner(const uc_policy *p, const char *url, const char *host, int depth) {
  return check(p, url, host, depth, true);
}
