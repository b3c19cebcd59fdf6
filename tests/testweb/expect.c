/* expect.c - breadth-first walk over the generated site, seeing each URL as
 * a crawler would: faults that yield no HTML yield no links, a redirect
 * yields its target's links, nofollow and non-http links are not followed. */
#include "expect.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "site.h"
#include "util.h"

typedef struct node {
  char *url;   /* canonical; owned */
  int host;    /* 0: not a host of this site */
  char *path;  /* owned */
  int depth;
} node;

typedef struct walk {
  node *q;             /* BFS queue; also the result list */
  size_t qlen, qcap;
  char **set;          /* open addressing over canonical URLs (borrowed) */
  size_t setcap;
  const tw_site_opts *site; /* borrowed: the scheme of the URLs */
} walk;

static void set_grow(walk *w);

/* Inserts url if absent; returns 1 when it was new. */
static int set_add(walk *w, char *url)
{
  if ((w->qlen + 1) * 2 > w->setcap)
    set_grow(w);
  size_t mask = w->setcap - 1;
  for (size_t i = tw_hash_str(0, 0, url) & mask;; i = (i + 1) & mask) {
    if (w->set[i] == NULL) {
      w->set[i] = url;
      return 1;
    }
    if (strcmp(w->set[i], url) == 0)
      return 0;
  }
}

static void set_grow(walk *w)
{
  size_t cap = w->setcap ? w->setcap * 2 : 1024;
  char **old = w->set;
  size_t oldcap = w->setcap;
  w->set = calloc(cap, sizeof(*w->set));
  if (w->set == NULL)
    abort();
  w->setcap = cap;
  for (size_t i = 0; i < oldcap; i++) {
    if (old[i] == NULL)
      continue;
    size_t j = tw_hash_str(0, 0, old[i]) & (cap - 1);
    while (w->set[j])
      j = (j + 1) & (cap - 1);
    w->set[j] = old[i];
  }
  free(old);
}

/* Queues (host, path) at depth unless already seen. */
static void visit(walk *w, int port, int host, const char *path,
                  const char *raw_url, int depth)
{
  char url[2300];
  if (host > 0)
    tw_site_url(w->site, host, port, path, url, sizeof(url));
  else
    snprintf(url, sizeof(url), "%s", raw_url);
  char *copy = strdup(url);
  if (copy == NULL)
    abort();
  if (!set_add(w, copy)) {
    free(copy);
    return;
  }
  if (w->qlen == w->qcap) {
    w->qcap = w->qcap ? w->qcap * 2 : 256;
    w->q = realloc(w->q, w->qcap * sizeof(*w->q));
    if (w->q == NULL)
      abort();
  }
  node *n = &w->q[w->qlen++];
  n->url = copy;
  n->host = host;
  n->path = strdup(path);
  n->depth = depth;
  if (n->path == NULL)
    abort();
}

/* The page whose links a crawler sees at (host, path), or -1 for none; a
 * page redirecting to its alias shows the alias's (identical) links. The
 * "/" a leaf page links to is reported through *home. */
static int page_seen(const tw_opts *o, int host, const char *path, int *home)
{
  tw_route rt = tw_site_route(&o->site, path);
  *home = 0;
  if (host == 0)
    return -1;
  switch (rt.kind) {
  case TW_R_PAGE:
    switch (tw_site_page_fault(&o->site, host, (int)rt.arg)) {
    case TW_FAULT_NONE:
    case TW_FAULT_SLOW:
    case TW_FAULT_REDIRECT:
      return (int)rt.arg;
    default:
      return -1;
    }
  case TW_R_ALIAS:
    return (int)rt.arg;
  case TW_R_FREDIRECT: /* the chain ends at a page linking to "/" */
  case TW_R_FSLOW:
  case TW_R_FGZIP:
  case TW_R_FCHUNKED:
  case TW_R_FHUGEHDR:
    *home = 1;
    return -1;
  case TW_R_FFLAKY: /* a first fetch fails unless K is 0 */
    *home = rt.arg == 0;
    return -1;
  default:
    return -1;
  }
}

/* Splits "http[s]://Host[:port]/path" into a host number and path. */
static int parse_seed(const tw_opts *o, const char *url, int *host,
                      const char **path)
{
  size_t skip = strncasecmp(url, "http://", 7) == 0    ? 7
                : strncasecmp(url, "https://", 8) == 0 ? 8
                                                       : 0;
  if (skip == 0)
    return -1;
  const char *a = url + skip;
  size_t al = strcspn(a, "/?#");
  char auth[256];
  if (al == 0 || al >= sizeof(auth))
    return -1;
  memcpy(auth, a, al);
  auth[al] = '\0';
  *host = tw_site_host_parse(&o->site, auth);
  *path = a[al] == '/' ? a + al : "/";
  return 0;
}

static int cmp_url(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int tw_expect_run(const tw_opts *o, const tw_expect_opts *e, FILE *out)
{
  walk w = {0};
  w.site = &o->site;
  int *seed_hosts = calloc((size_t)e->nseeds + 1, sizeof(int));
  tw_link *links = calloc((size_t)o->site.links + 1, sizeof(*links));
  if (seed_hosts == NULL || links == NULL)
    abort();
  for (int i = 0; i < e->nseeds; i++) {
    const char *path;
    if (parse_seed(o, e->seeds[i], &seed_hosts[i], &path) < 0) {
      fprintf(stderr, "testweb: bad --expect-seed URL: %s\n", e->seeds[i]);
      free(seed_hosts);
      free(links);
      return 2;
    }
    visit(&w, e->port, seed_hosts[i], path, e->seeds[i], 0);
  }
  for (size_t qi = 0; qi < w.qlen; qi++) {
    node cur = w.q[qi]; /* copy: visit() may move the queue */
    if (e->depth >= 0 && cur.depth >= e->depth)
      continue;
    int home;
    int page = page_seen(o, cur.host, cur.path, &home);
    if (home)
      visit(&w, e->port, cur.host, "/", NULL, cur.depth + 1);
    if (page < 0)
      continue;
    tw_site_page_links(&o->site, cur.host, page, e->port, links);
    for (int i = 0; i < o->site.links; i++) {
      int in_scope = !e->scope_host;
      for (int s = 0; s < e->nseeds && !in_scope; s++)
        in_scope = seed_hosts[s] == links[i].host;
      if (!in_scope)
        continue;
      char path[64];
      if (links[i].missing >= 0)
        snprintf(path, sizeof(path), "/missing/%d.html", links[i].missing);
      else
        tw_site_page_path(links[i].page, path, sizeof(path));
      visit(&w, e->port, links[i].host, path, NULL, cur.depth + 1);
    }
  }
  char **urls = malloc((w.qlen + 1) * sizeof(*urls));
  if (urls == NULL)
    abort();
  for (size_t i = 0; i < w.qlen; i++)
    urls[i] = w.q[i].url;
  qsort(urls, w.qlen, sizeof(*urls), cmp_url);
  for (size_t i = 0; i < w.qlen; i++)
    fprintf(out, "%s\n", urls[i]);
  for (size_t i = 0; i < w.qlen; i++) {
    free(w.q[i].url);
    free(w.q[i].path);
  }
  free(urls);
  free(w.q);
  free(w.set);
  free(seed_hosts);
  free(links);
  return 0;
}
