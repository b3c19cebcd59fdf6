/* crawl.c - the engine-independent crawl (see crawl.h). */
#include "uvcrawl/crawl.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/charset.h"
#include "uvcrawl/error.h"
#include "uvcrawl/sitemap.h"
#include "uvcrawl/policy.h"
#include "uvcrawl/record.h"
#include "uvcrawl/robots.h"
#include "uvcrawl/seen.h"
#include "uvcrawl/url.h"

/* A frontier item's kind carries the redirect hops that led to it. */
#define KIND_OF(k) UC_KIND_OF(k)
#define HOPS_OF(k) ((k) >> 8)
#define MAKE_KIND(kind, hops) ((kind) | ((hops) << 8))

/* RFC 9309 2.4: a cached robots.txt is used for at most 24 hours. */
#define ROBOTS_TTL_MS (24ull * 3600 * 1000)

#define RETRY_BASE_MS 1000.0
#define RETRY_MAX_MS 30000.0
#define RETRY_AFTER_MAX_S 60.0

typedef enum robots_state { ROBOTS_NONE, ROBOTS_PENDING, ROBOTS_DONE } robots_state;

/* What the crawl knows of one host key, beside the frontier's queue. */
typedef struct host_info {
  uc_fhost *fhost;
  uc_robots *robots;     /* NULL until robots.txt is known (or robots off) */
  robots_state robots_state;
  uint64_t robots_at;    /* when robots.txt was last decided */
  bool too_slow;         /* Crawl-delay above --max-crawl-delay: skip the host */
  uc_fail unreachable;   /* robots.txt failed by DNS or connection: so would pages */
  char robots_cause[24]; /* why robots.txt was unreachable ("tls", "http-503"), or "" */
  uint64_t pages_queued; /* for --max-pages-per-host */
  struct host_info *next;
} host_info;

/* A link held back for the next depth level (see advance_level). */
typedef struct pending_link {
  char *url;
  char *parent;
  int depth;
  struct pending_link *next;
} pending_link;

struct uc_crawl {
  const uc_config *cfg;
  FILE *records;
  const char *engine;
  uc_seen *seen;
  uc_visited_fn visited;    /* dedup: our own seen set, or the engine's */
  void *visited_ctx;
  uc_frontier *frontier;
  uc_policy *policy;
  uc_stats stats;
  host_info *hosts;
  pending_link *next_level; /* links one level deeper than the current one */
  pending_link **next_level_tail;
  size_t next_level_count;
  int level;                /* the depth being crawled, with --depth */
  bool stopping;            /* a signal: drop the queue, queue nothing new */
  int fatal;                /* the first uc_crawl_fail() code, or 0 */
  int write_errno;          /* errno of the first failed record write, or 0 */
  bool capped;              /* --max-pages reached */
  uint64_t dispatched_pages;
  uint64_t rng;             /* backoff jitter; seeded from the config */
  uc_buf line;              /* one record being formatted */
  char product_token[64];
};

/* splitmix64: a small deterministic PRNG for backoff jitter. */
static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void uc_crawl_product_token(const char *user_agent, char *buf, size_t buflen) {
  size_t n = strcspn(user_agent, "/ \t");
  if (n >= buflen)
    n = buflen - 1;
  memcpy(buf, user_agent, n);
  buf[n] = '\0';
}

/* The default visited set: the crawl's own uc_seen (not thread-safe). */
static int seen_visited(void *ctx, const char *url, size_t len) {
  return uc_seen_insert(ctx, url, len);
}

int uc_crawl_new(uc_crawl **out, const uc_crawl_opts *o, char *err, size_t errlen) {
  const uc_config *cfg = o->cfg;
  uc_crawl *c = calloc(1, sizeof *c);
  if (c == NULL)
    return UC_ENOMEM;
  c->cfg = cfg;
  c->records = o->records;
  c->engine = o->engine;
  c->next_level_tail = &c->next_level;
  c->rng = cfg->seen_key[0] ^ cfg->seen_key[1] ^ 0x5eed;
  uc_crawl_product_token(cfg->user_agent, c->product_token, sizeof c->product_token);
  uc_frontier_opts fopts = {.rate = cfg->rate, .burst = cfg->burst, .per_host = cfg->per_host};
  int rc = 0;
  if (o->visited != NULL) {
    c->visited = o->visited;
    c->visited_ctx = o->visited_ctx;
  } else {
    uc_seen_opts seen_opts = {.expected = 1024, .key = {cfg->seen_key[0], cfg->seen_key[1]}};
    rc = uc_seen_new(&c->seen, &seen_opts);
    c->visited = seen_visited;
    c->visited_ctx = c->seen;
  }
  if (rc == 0)
    rc = uc_frontier_new(&c->frontier, &fopts, o->now_ms);
  if (rc == 0)
    rc = uc_policy_new(&c->policy, cfg, err, errlen);
  if (rc != 0) {
    uc_crawl_free(c);
    return rc;
  }
  *out = c;
  return 0;
}

static void free_pending(pending_link *p) {
  while (p != NULL) {
    pending_link *next = p->next;
    free(p->url);
    free(p->parent);
    free(p);
    p = next;
  }
}

void uc_crawl_free(uc_crawl *c) {
  if (c == NULL)
    return;
  for (host_info *h = c->hosts, *next; h != NULL; h = next) {
    next = h->next;
    uc_robots_free(h->robots);
    free(h);
  }
  free_pending(c->next_level);
  uc_frontier_free(c->frontier);
  uc_policy_free(c->policy);
  uc_seen_free(c->seen);
  uc_buf_free(&c->line);
  free(c);
}

/* The frontier host of a URL, made on first sight; a new host gets its
 * robots.txt queued in front of everything else. */
static int host_for(uc_crawl *c, const char *url, uint64_t now_ms, uc_fhost **out) {
  char *origin = NULL;
  int rc = uc_url_origin(url, &origin);
  if (rc != 0)
    return rc;
  bool created = false;
  uc_fhost *fh = uc_frontier_host(c->frontier, origin, true, &created);
  if (fh == NULL) {
    free(origin);
    return UC_ENOMEM;
  }
  if (created) {
    host_info *h = calloc(1, sizeof *h);
    if (h == NULL) {
      free(origin);
      return UC_ENOMEM;
    }
    h->fhost = fh;
    h->next = c->hosts;
    c->hosts = h;
    uc_fhost_set_data(fh, h);
    c->stats.hosts++;
    if (c->cfg->robots) {
      uc_buf robots_url = UC_BUF_INIT;
      rc = uc_buf_printf(&robots_url, "%s/robots.txt", origin);
      if (rc == 0)
        rc = uc_frontier_push(c->frontier, fh, robots_url.data, NULL, 0, UC_KIND_ROBOTS, 1, true,
                              now_ms);
      uc_buf_free(&robots_url);
    }
  }
  free(origin);
  *out = fh;
  return rc;
}

/* Put a URL that passed policy and dedup into the frontier. */
static int push_url(uc_crawl *c, const char *url, const char *parent, int depth, unsigned kind,
                    uint64_t now_ms) {
  uc_fhost *fh;
  int rc = host_for(c, url, now_ms, &fh);
  if (rc != 0)
    return rc;
  host_info *h = uc_fhost_data(fh);
  h->pages_queued += KIND_OF(kind) == UC_KIND_PAGE;
  return uc_frontier_push(c->frontier, fh, url, parent, depth, kind, 1, false, now_ms);
}

/* Hold a link for the next level (--depth crawls go level by level). */
static int defer_to_next_level(uc_crawl *c, const char *url, const char *parent, int depth) {
  pending_link *p = calloc(1, sizeof *p);
  if (p == NULL)
    return UC_ENOMEM;
  p->url = strdup(url);
  p->parent = parent != NULL ? strdup(parent) : NULL;
  p->depth = depth;
  if (p->url == NULL || (parent != NULL && p->parent == NULL)) {
    free_pending(p);
    return UC_ENOMEM;
  }
  *c->next_level_tail = p;
  c->next_level_tail = &p->next;
  c->next_level_count++;
  return 0;
}

/* --verbose: one line on stderr, the URL's password masked. */
static void say(const char *what, const char *url, const char *why, const char *cause) {
  uc_buf shown = UC_BUF_INIT;
  uc_url_mask(url, &shown);
  fprintf(stderr, "uvcrawl: %s %s: %s%s%s%s\n", what, shown.data != NULL ? shown.data : url,
          why, cause != NULL ? " (cause: " : "", cause != NULL ? cause : "",
          cause != NULL ? ")" : "");
  uc_buf_free(&shown);
}

/* A link not queued: counted, and said with --verbose (a duplicate is not
 * worth a line). */
static void skipped(const uc_crawl *c, uint64_t *counts, const char *url, int why) {
  counts[why]++;
  if (c->cfg->verbose && why != UC_SKIP_SEEN)
    say("skip", url, uc_skip_name((uc_skip)why), NULL);
}

/* Policy for a discovered link: -1 if it may be queued, else a uc_skip.
 * `owner`: called by the crawl's owner (its loop, or under its lock), which
 * alone sees the hosts that seeds redirected to. */
static int link_policy(const uc_crawl *c, const char *url, int depth, bool owner) {
  char host[256];
  if (uc_url_host(url, host, sizeof host) != 0)
    return UC_SKIP_PATTERN;
  return owner ? uc_policy_check_owner(c->policy, url, host, depth)
               : uc_policy_check(c->policy, url, host, depth);
}

/* Queue a link that passed policy and dedup; the per-host page cap and
 * --max-pages still apply. Returns 1 if queued, 0 if skipped, or < 0. */
static int queue_link(uc_crawl *c, const char *url, const char *parent, int depth,
                      unsigned kind, uint64_t now_ms) {
  int skip = c->capped ? UC_SKIP_MAX_PAGES : -1;
  if (skip < 0 && c->cfg->max_pages_per_host > 0) {
    char *origin = NULL;
    if (uc_url_origin(url, &origin) == 0) {
      uc_fhost *fh = uc_frontier_host(c->frontier, origin, false, NULL);
      host_info *h = fh != NULL ? uc_fhost_data(fh) : NULL;
      if (h != NULL && h->pages_queued >= c->cfg->max_pages_per_host)
        skip = UC_SKIP_MAX_PAGES_PER_HOST;
    }
    free(origin);
  }
  if (skip >= 0) {
    skipped(c, c->stats.skipped, url, skip);
    return 0;
  }
  int rc = c->cfg->depth >= 0 && depth > c->level
               ? defer_to_next_level(c, url, parent, depth)
               : push_url(c, url, parent, depth, kind, now_ms);
  return rc < 0 ? rc : 1;
}

/*
 * Offer a discovered URL to the crawl: policy, dedup, then queue.
 * @return 1 if queued, 0 if skipped (counted), or a negative error.
 *
 * Note: policy runs before dedup. If a link were marked seen when refused
 * for depth, the same URL found later at a smaller depth would be dropped
 * as a duplicate and never fetched.
 */
static int offer(uc_crawl *c, const char *url, const char *parent, int depth, unsigned kind,
                 uint64_t now_ms) {
  int skip = link_policy(c, url, depth, true);
  if (skip == UC_SKIP_EXTENSION && KIND_OF(kind) == UC_KIND_SITEMAP)
    skip = -1; /* --accept/--reject extensions judge pages, not sitemap.xml */
  if (skip >= 0) {
    skipped(c, c->stats.skipped, url, skip);
    return 0;
  }
  int rc = c->visited(c->visited_ctx, url, strlen(url));
  if (rc <= 0) {
    c->stats.skipped[UC_SKIP_SEEN] += rc == 0;
    return rc;
  }
  return queue_link(c, url, parent, depth, kind, now_ms);
}

/*
 * Note: prefiltering runs outside the crawl's owner (a parse thread, a
 * worker), where the hosts that seeds redirected to are not visible. A
 * link out of the seeds' scope is therefore not dropped here but kept
 * after the accepted ones (links.urls[accepted..count)), for the owner to
 * judge whole in merge_links().
 */
int uc_crawl_prefilter(const uc_crawl *c, const uc_fetch *f, uc_parsed *parsed) {
  if (!parsed->parsed || parsed->rc != 0 || parsed->prefiltered)
    return 0;
  uc_links *links = &parsed->links;
  parsed->found = links->count;
  char **out_of_scope = NULL;
  size_t kept = 0, n_out = 0;
  int rc = 0;
  for (size_t i = 0; i < links->count; i++) {
    char *url = links->urls[i];
    int depth = parsed->sitemap_index ? f->item.depth : f->item.depth + 1;
    int skip = rc == 0 ? link_policy(c, url, depth, false) : UC_SKIP_SEEN;
    if (skip == UC_SKIP_EXTENSION && parsed->sitemap_index)
      skip = -1; /* as offer() */
    if (skip == UC_SKIP_SCOPE) {
      if (out_of_scope == NULL && (out_of_scope = malloc(links->count * sizeof *out_of_scope)) == NULL)
        rc = UC_ENOMEM;
      else {
        out_of_scope[n_out++] = url;
        continue;
      }
    }
    if (skip < 0) {
      int fresh = c->visited(c->visited_ctx, url, strlen(url));
      if (fresh < 0)
        rc = fresh;
      skip = fresh == 1 ? -1 : UC_SKIP_SEEN;
    }
    if (skip >= 0) {
      skipped(c, parsed->skipped, url, skip);
      free(url);
    } else {
      links->urls[kept++] = url;
    }
  }
  parsed->accepted = kept;
  for (size_t i = 0; i < n_out; i++)
    links->urls[kept++] = out_of_scope[i];
  free(out_of_scope);
  links->count = kept;
  parsed->prefiltered = true;
  return rc;
}

static int seed_kind(uc_crawl *c, const char *url, unsigned kind, uint64_t now_ms);

int uc_crawl_seed(uc_crawl *c, const char *url, uint64_t now_ms) {
  return seed_kind(c, url, UC_KIND_PAGE, now_ms);
}

int uc_crawl_seed_sitemap(uc_crawl *c, const char *url, uint64_t now_ms) {
  return seed_kind(c, url, UC_KIND_SITEMAP, now_ms);
}

static int seed_kind(uc_crawl *c, const char *url, unsigned kind, uint64_t now_ms) {
  char *norm = NULL;
  char host[256];
  int rc = uc_url_normalize(url, &norm);
  if (rc == 0)
    rc = uc_url_host(norm, host, sizeof host);
  if (rc == 0)
    rc = uc_policy_add_seed_host(c->policy, host);
  if (rc == 0 && (rc = c->visited(c->visited_ctx, norm, strlen(norm))) == 1)
    rc = push_url(c, norm, NULL, 0, kind, now_ms);
  free(norm);
  return rc < 0 ? rc : 0;
}

/* Format and write one record; a failed write is fatal for the crawl. */
static int write_record(uc_crawl *c, const uc_record *rec) {
  if (c->cfg->verbose && (rec->error != NULL || rec->status >= 400)) {
    char status[16];
    snprintf(status, sizeof status, "http %d", rec->status);
    say("fail", rec->url, rec->error != NULL ? rec->error : status, rec->cause);
  }
  uc_buf_reset(&c->line);
  int rc = uc_record_format(&c->line, rec);
  if (rc != 0)
    return rc;
  if (fwrite(c->line.data, 1, c->line.len, c->records) != c->line.len) {
    c->write_errno = errno;
    return UC_EIO;
  }
  return 0;
}

static void count_outcome(uc_stats *s, int status, uc_fail fail) {
  s->pages++;
  if (fail != UC_FAIL_NONE)
    s->failures[fail]++;
  else if (status >= 200 && status < 300)
    s->status_2xx++;
  else if (status >= 300 && status < 400)
    s->status_3xx++;
  else if (status >= 400 && status < 500)
    s->status_4xx++;
  else if (status >= 500)
    s->status_5xx++;
}

/* A URL refused before any request (robots.txt, Crawl-delay): its record.
 * A page held back because robots.txt could not be fetched says why. */
static int refuse(uc_crawl *c, uc_frontier_item *item, uc_fail why, uint64_t now_ms) {
  const host_info *h = uc_fhost_data(item->host);
  uc_record rec = {.url = item->url, .parent = item->parent, .depth = item->depth,
                   .links = -1, .new_links = -1, .error = uc_fail_name(why),
                   .engine = c->engine, .attempts = 0};
  if (why == UC_FAIL_ROBOTS && h->robots_cause[0] != '\0')
    rec.cause = h->robots_cause;
  count_outcome(&c->stats, 0, why);
  int rc = write_record(c, &rec);
  uc_frontier_done(c->frontier, item->host, now_ms);
  free(item->url);
  free(item->parent);
  return rc;
}

/* robots.txt is older than ROBOTS_TTL_MS: put the page back and fetch the
 * rules again in front of it (the token this pop took is not given back). */
static int refresh_robots(uc_crawl *c, uc_frontier_item *item, uint64_t now_ms) {
  host_info *h = uc_fhost_data(item->host);
  uc_buf url = UC_BUF_INIT;
  int rc = uc_frontier_push(c->frontier, item->host, item->url, item->parent, item->depth,
                            item->kind, item->attempts, true, now_ms);
  if (rc == 0)
    rc = uc_buf_printf(&url, "%s/robots.txt", uc_fhost_key(item->host));
  if (rc == 0)
    rc = uc_frontier_push(c->frontier, item->host, url.data, NULL, 0, UC_KIND_ROBOTS, 1, true,
                          now_ms);
  h->robots_state = ROBOTS_NONE;
  uc_frontier_done(c->frontier, item->host, now_ms);
  uc_buf_free(&url);
  free(item->url);
  free(item->parent);
  return rc;
}

/* Move the held-back links of the next level into the frontier. */
static int advance_level(uc_crawl *c, uint64_t now_ms) {
  pending_link *p = c->next_level;
  c->next_level = NULL;
  c->next_level_tail = &c->next_level;
  c->next_level_count = 0;
  c->level++;
  int rc = 0;
  for (pending_link *q = p; q != NULL && rc == 0; q = q->next)
    rc = push_url(c, q->url, q->parent, q->depth, 0, now_ms);
  free_pending(p);
  return rc;
}

/* Drop everything queued; returns how many URLs that was. */
static size_t drop_queue(uc_crawl *c) {
  size_t dropped = uc_frontier_clear(c->frontier) + c->next_level_count;
  free_pending(c->next_level);
  c->next_level = NULL;
  c->next_level_tail = &c->next_level;
  c->next_level_count = 0;
  return dropped;
}

int uc_crawl_next(uc_crawl *c, uint64_t now_ms, uc_fetch **out, uint64_t *wake_ms) {
  for (;;) {
    if (c->stopping)
      return UC_EEMPTY;
    uc_frontier_item item;
    int rc = uc_frontier_pop(c->frontier, now_ms, &item, wake_ms);
    if (rc == UC_EEMPTY && c->stats.inflight == 0 && c->next_level != NULL) {
      if ((rc = advance_level(c, now_ms)) != 0)
        return rc;
      continue;
    }
    if (rc != 0)
      return rc;
    host_info *h = uc_fhost_data(item.host);
    if (KIND_OF(item.kind) == UC_KIND_ROBOTS) {
      uc_frontier_hold(c->frontier, item.host);
      h->robots_state = ROBOTS_PENDING;
    } else if (h->robots_state == ROBOTS_DONE && now_ms - h->robots_at >= ROBOTS_TTL_MS) {
      if ((rc = refresh_robots(c, &item, now_ms)) != 0)
        return rc;
      continue;
    } else if (h->too_slow || h->unreachable != UC_FAIL_NONE) {
      uc_fail why = h->too_slow ? UC_FAIL_CRAWL_DELAY : h->unreachable;
      if ((rc = refuse(c, &item, why, now_ms)) != 0)
        return rc;
      continue;
    } else if (h->robots != NULL) {
      char *path = NULL;
      if (uc_url_path_query(item.url, &path) == 0 && !uc_robots_allowed(h->robots, path)) {
        free(path);
        if ((rc = refuse(c, &item, UC_FAIL_ROBOTS, now_ms)) != 0)
          return rc;
        continue;
      }
      free(path);
    }
    uc_fetch *f = calloc(1, sizeof *f);
    if (f == NULL) {
      uc_frontier_done(c->frontier, item.host, now_ms);
      free(item.url);
      free(item.parent);
      return UC_ENOMEM;
    }
    /* The parts an engine needs to connect. Note: a normalized URL can
     * still have a host too long to look up (over 255 bytes): that page
     * gets a "bad-url" record, and the crawl goes on. */
    f->item = item;
    rc = uc_url_host_port(item.url, f->host, sizeof f->host, &f->port);
    if (rc != 0) {
      free(f);
      if (rc == UC_ENOMEM || (rc = refuse(c, &item, UC_FAIL_BAD_URL, now_ms)) != 0)
        return rc;
      continue;
    }
    f->dispatched_ms = now_ms;
    if (++c->stats.inflight > c->stats.peak_inflight)
      c->stats.peak_inflight = c->stats.inflight;
    if (KIND_OF(item.kind) == UC_KIND_PAGE && c->cfg->max_pages > 0 &&
        ++c->dispatched_pages >= c->cfg->max_pages && !c->capped) {
      c->capped = true;
      c->stats.max_pages_reached = true;
      c->stats.skipped[UC_SKIP_MAX_PAGES] += drop_queue(c);
    }
    *out = f;
    return 0;
  }
}

/* HTML by Content-Type, or by a look at the first bytes when it is absent. */
static bool is_html(const char *content_type, const char *body, size_t len) {
  if (content_type != NULL && *content_type != '\0')
    return strncasecmp(content_type, "text/html", 9) == 0 ||
           strncasecmp(content_type, "application/xhtml+xml", 21) == 0;
  size_t i = 0;
  if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0)
    i = 3;
  while (i < len && strchr(" \t\r\n\f", body[i]) != NULL)
    i++;
  static const char *const openers[] = {"<!doctype html", "<html", "<head", "<body", "<a ",
                                        "<!--", "<p", "<div", "<title"};
  for (size_t k = 0; k < sizeof openers / sizeof *openers; k++) {
    size_t n = strlen(openers[k]);
    if (len - i >= n && strncasecmp(body + i, openers[k], n) == 0)
      return true;
  }
  return false;
}

bool uc_crawl_wants_parse(const uc_crawl *c, const uc_fetch *f, const uc_fetch_result *r) {
  bool sitemap = KIND_OF(f->item.kind) == UC_KIND_SITEMAP;
  return (KIND_OF(f->item.kind) == UC_KIND_PAGE || sitemap) && r->fail == UC_FAIL_NONE &&
         r->status >= 200 && r->status < 300 && r->body_len > 0 &&
         (c->cfg->depth < 0 || f->item.depth < c->cfg->depth) &&
         (sitemap || is_html(r->content_type, r->body, r->body_len));
}

/* A sitemap's URLs as the page's links; a file that is no sitemap has
 * none (it is recorded as fetched, with "links":0). */
static int parse_sitemap(const uc_fetch *f, const uc_fetch_result *r, uc_parsed *out) {
  uc_sitemap sm;
  int rc = uc_sitemap_parse(r->body, r->body_len, r->final_url != NULL ? r->final_url
                                                                        : f->item.url, &sm);
  if (rc == UC_ENOMEM)
    return rc;
  out->parsed = true;
  if (rc == 0) {
    out->links = sm.links;
    out->sitemap_index = sm.index;
  }
  return 0;
}

int uc_crawl_parse(const uc_fetch *f, const uc_fetch_result *r, uc_parsed *out) {
  memset(out, 0, sizeof *out);
  if (KIND_OF(f->item.kind) == UC_KIND_SITEMAP)
    return parse_sitemap(f, r, out);
  const char *base = r->final_url != NULL ? r->final_url : f->item.url;
  char *utf8 = NULL;
  size_t utf8_len = 0;
  if (uc_charset_to_utf8(r->content_type, r->body, r->body_len, &utf8, &utf8_len) != 0)
    return UC_ENOMEM;
  out->parsed = true;
  out->rc = utf8 != NULL ? uc_extract(utf8, utf8_len, base, NULL, &out->links)
                         : uc_extract(r->body, r->body_len, base, NULL, &out->links);
  free(utf8);
  return out->rc == UC_ENOMEM ? UC_ENOMEM : 0;
}

void uc_parsed_free(uc_parsed *p) {
  if (p != NULL && p->parsed)
    uc_links_free(&p->links);
}

static bool retryable(const uc_fetch_result *r);
static int retry(uc_crawl *c, uc_fetch *f, const uc_fetch_result *r, uint64_t now_ms);

/* --sitemaps on: the Sitemap: lines of a robots.txt, queued as sitemaps
 * at depth 0 (as seeds are) through the same policy and politeness as
 * pages; one on another host is out of a host scope, as the protocol
 * wants (a sitemap names URLs of its own host). */
static int offer_sitemaps(uc_crawl *c, uc_fetch *f, const uc_fetch_result *r, uint64_t now_ms) {
  uc_links links;
  const char *base = r->final_url != NULL ? r->final_url : f->item.url;
  int rc = uc_sitemap_from_robots(r->body != NULL ? r->body : "", r->body_len, base, &links);
  for (size_t i = 0; rc == 0 && i < links.count; i++) {
    int offered = offer(c, links.urls[i], f->item.url, 0, UC_KIND_SITEMAP, now_ms);
    rc = offered < 0 ? offered : 0;
  }
  uc_links_free(&links);
  return rc;
}

/* robots.txt came back: decide the host's rules and let its pages go. A
 * server error or a timeout is retried like a page (RFC 9309 2.3.1.4 allows
 * assuming "disallow all" only while it stays unreachable); the host's
 * pages wait meanwhile. */
static int robots_done(uc_crawl *c, uc_fetch *f, const uc_fetch_result *r, uint64_t now_ms) {
  host_info *h = uc_fhost_data(f->item.host);
  uc_robots *rules = NULL;
  int rc;
  c->stats.robots_fetches++;
  c->stats.bytes += r->bytes;
  if (!c->stopping && retryable(r) && f->item.attempts <= c->cfg->retries) {
    rc = retry(c, f, r, now_ms);
    uc_frontier_release(c->frontier, f->item.host, now_ms);
    return rc;
  }
  h->robots_cause[0] = '\0';
  if (r->fail == UC_FAIL_NONE && r->status >= 200 && r->status < 300) {
    rc = uc_robots_parse(&rules, r->body != NULL ? r->body : "", r->body_len, c->product_token);
  } else if (r->fail == UC_FAIL_NONE && r->status >= 400 && r->status < 500) {
    rc = uc_robots_new_allow_all(&rules); /* RFC 9309 2.3.1.3: unavailable */
  } else {
    rc = uc_robots_new_disallow_all(&rules); /* 2.3.1.4: unreachable */
    /* The pages' records say why: "robots" alone would hide it. */
    if (r->fail != UC_FAIL_NONE)
      snprintf(h->robots_cause, sizeof h->robots_cause, "%s", uc_fail_name(r->fail));
    else
      snprintf(h->robots_cause, sizeof h->robots_cause, "http-%d", r->status);
  }
  /* Note: when the name does not resolve or nothing listens, the pages
   * would fail the same way; record that cause instead of "robots". */
  if (r->fail == UC_FAIL_DNS || r->fail == UC_FAIL_REFUSED || r->fail == UC_FAIL_CONNECT)
    h->unreachable = r->fail;
  if (rc != 0)
    rules = NULL; /* out of memory: crawl the host without rules */
  uc_robots_free(h->robots);
  h->robots = rules;
  h->robots_state = ROBOTS_DONE;
  h->robots_at = now_ms;
  double delay = rules != NULL ? uc_robots_crawl_delay(rules) : -1.0;
  if (delay > c->cfg->max_crawl_delay_s) {
    h->too_slow = true;
  } else if (delay > 0) {
    double rate = 1.0 / delay;
    if (c->cfg->rate <= 0 || rate < c->cfg->rate)
      uc_frontier_set_rate(c->frontier, f->item.host, rate, 1.0, now_ms);
  }
  rc = 0;
  if (r->fail == UC_FAIL_NONE && r->status >= 200 && r->status < 300 && c->cfg->sitemaps &&
      !c->stopping)
    rc = offer_sitemaps(c, f, r, now_ms);
  uc_frontier_release(c->frontier, f->item.host, now_ms);
  return rc;
}

static bool retryable(const uc_fetch_result *r) {
  switch (r->fail) {
  case UC_FAIL_TIMEOUT:
  case UC_FAIL_RESET:
    return true;
  case UC_FAIL_NONE:
    return r->status == 429 || r->status >= 500;
  default:
    return false;
  }
}

/* Queue the same URL again at the front of its host, after a backoff. */
static int retry(uc_crawl *c, uc_fetch *f, const uc_fetch_result *r, uint64_t now_ms) {
  double wait_ms;
  if (r->retry_after_s >= 0) {
    wait_ms = fmin(r->retry_after_s, RETRY_AFTER_MAX_S) * 1000.0;
  } else {
    double jitter = 0.5 + (double)(next_random(&c->rng) >> 11) / 9007199254740992.0;
    wait_ms = fmin(RETRY_BASE_MS * ldexp(1.0, (int)f->item.attempts - 1), RETRY_MAX_MS) * jitter;
  }
  c->stats.retries++;
  int rc = uc_frontier_push(c->frontier, f->item.host, f->item.url, f->item.parent,
                            f->item.depth, f->item.kind, f->item.attempts + 1, true, now_ms);
  if (rc == 0)
    uc_frontier_defer(c->frontier, f->item.host, now_ms + (uint64_t)wait_ms, now_ms);
  return rc;
}

/* Queue the links of a parsed page; returns how many were new, or < 0. */
static long merge_links(uc_crawl *c, const uc_fetch *f, const uc_parsed *parsed,
                        uint64_t now_ms) {
  long fresh = 0;
  if (c->stopping)
    return 0;
  if (parsed->prefiltered)
    for (int k = 0; k < UC_SKIP_COUNT_; k++)
      c->stats.skipped[k] += parsed->skipped[k];
  /* A sitemap index lists sitemaps, at its own depth; anything else, pages. */
  unsigned kind = parsed->sitemap_index ? UC_KIND_SITEMAP : UC_KIND_PAGE;
  int depth = parsed->sitemap_index ? f->item.depth : f->item.depth + 1;
  for (size_t i = 0; i < parsed->links.count; i++) {
    const char *url = parsed->links.urls[i];
    int rc = parsed->prefiltered && i < parsed->accepted
                 ? queue_link(c, url, f->item.url, depth, kind, now_ms)
                 : offer(c, url, f->item.url, depth, kind, now_ms);
    if (rc < 0)
      return rc;
    fresh += rc;
  }
  return fresh;
}

/* A seed (or a seed's redirect) redirects: its target's host joins the
 * scope, as the seed's would (wget2 does the same). */
static int adopt_host(uc_crawl *c, const char *target) {
  char host[256];
  if (uc_url_host(target, host, sizeof host) != 0)
    return 0; /* offer() refuses it */
  return uc_policy_adopt_host(c->policy, host);
}

/* A page came back for good (no retry): merge, follow redirect, record. */
static int page_done(uc_crawl *c, uc_fetch *f, const uc_fetch_result *r, uc_parsed *parsed,
                     uint64_t now_ms) {
  uc_record rec = {.url = f->item.url, .final_url = r->final_url, .status = r->status,
                   .depth = f->item.depth, .parent = f->item.parent,
                   .content_type = r->content_type, .bytes = r->bytes, .fetch_ms = r->fetch_ms,
                   .links = -1, .new_links = -1, .error = uc_fail_name(r->fail),
                   .engine = c->engine, .attempts = f->item.attempts};
  if (c->cfg->record_headers && r->status > 0)
    rec.headers = r->headers;
  rec.http_version = r->http_version;
  rec.tls_version = r->tls_version;
  rec.tls_handshake = r->tls_handshake;
  rec.truncated = r->truncated;
  c->stats.truncated += r->truncated;
  uc_fail fail = r->fail;
  char *target = NULL;
  if (parsed != NULL && parsed->parsed && parsed->rc == 0) {
    long fresh = merge_links(c, f, parsed, now_ms);
    if (fresh < 0)
      return (int)fresh;
    size_t found = parsed->prefiltered ? parsed->found : parsed->links.count;
    rec.links = (long)found;
    rec.new_links = fresh;
    c->stats.links_found += found;
    c->stats.links_new += (uint64_t)fresh;
  }
  if (fail == UC_FAIL_NONE && r->status >= 300 && r->status < 400 && r->location != NULL &&
      uc_url_resolve(f->item.url, r->location, &target) == 0) {
    /* A redirect is a link at the same depth, deduped and scoped like one. */
    rec.final_url = target;
    unsigned hops = HOPS_OF(f->item.kind) + 1;
    if (hops > c->cfg->max_redirects) {
      fail = UC_FAIL_REDIRECTS;
      rec.error = uc_fail_name(fail);
    } else if (!c->stopping) {
      int rc = f->item.depth == 0 ? adopt_host(c, target) : 0;
      if (rc == 0)
        rc = offer(c, target, f->item.url, f->item.depth,
                   MAKE_KIND(KIND_OF(f->item.kind), hops), now_ms);
      if (rc < 0) {
        free(target);
        return rc;
      }
    }
  }
  count_outcome(&c->stats, r->status, fail);
  if (f->item.depth == 0 && fail == UC_FAIL_NONE && r->status > 0 && r->status < 400)
    c->stats.seeds_ok++;
  if (fail == UC_FAIL_NONE && r->status >= 200 && r->status < 300 &&
      is_html(r->content_type, r->body, r->body_len))
    c->stats.html_pages++;
  c->stats.bytes += r->bytes;
  int rc = write_record(c, &rec);
  free(target);
  return rc;
}

int uc_crawl_complete(uc_crawl *c, uc_fetch *f, const uc_fetch_result *r, uc_parsed *parsed,
                      uint64_t parse_ns, uint64_t now_ms) {
  int rc = 0;
  assert(c->stats.inflight > 0);
  c->stats.inflight--;
  if (r->fail != UC_FAIL_ABORTED)
    c->stats.requests++;
  if (r->tls_handshake != NULL) {
    c->stats.tls_handshakes++;
    c->stats.tls_resumed += strcmp(r->tls_handshake, "resumed") == 0;
  }
  if (parsed != NULL && parsed->parsed) {
    c->stats.parsed++;
    c->stats.parse_bytes += r->body_len;
    c->stats.parse_ns += parse_ns;
  }
  if (KIND_OF(f->item.kind) == UC_KIND_ROBOTS)
    rc = robots_done(c, f, r, now_ms);
  else if (!c->stopping && retryable(r) && f->item.attempts <= c->cfg->retries)
    rc = retry(c, f, r, now_ms);
  else
    rc = page_done(c, f, r, parsed, now_ms);
  uc_frontier_done(c->frontier, f->item.host, now_ms);
  free(f->item.url);
  free(f->item.parent);
  free(f);
  return rc;
}

bool uc_crawl_finished(const uc_crawl *c) {
  return c->stats.inflight == 0 && uc_frontier_queued(c->frontier) == 0 && c->next_level == NULL;
}

size_t uc_crawl_stop(uc_crawl *c) {
  size_t dropped = drop_queue(c);
  c->stopping = true;
  c->stats.unfetched += dropped;
  return dropped;
}

bool uc_crawl_stopping(const uc_crawl *c) { return c->stopping; }

const uc_stats *uc_crawl_stats(const uc_crawl *c) { return &c->stats; }

void uc_crawl_fail(uc_crawl *c, int err) {
  if (err == 0 || c->fatal != 0)
    return;
  c->fatal = err;
  if (!c->stopping)
    uc_crawl_stop(c);
}

int uc_crawl_fatal(const uc_crawl *c) { return c->fatal; }

int uc_crawl_write_errno(const uc_crawl *c) { return c->write_errno; }

bool uc_crawl_over(const uc_crawl *c, bool dispatching) {
  return c->stats.inflight == 0 && (!dispatching || c->fatal != 0 || uc_crawl_finished(c));
}

void uc_fetch_result_failed(uc_fetch_result *r, uc_fail why, double fetch_ms) {
  memset(r, 0, sizeof *r);
  r->fail = why;
  r->retry_after_s = -1.0;
  r->fetch_ms = fetch_ms;
}

size_t uc_crawl_queued(const uc_crawl *c) {
  return uc_frontier_queued(c->frontier) + c->next_level_count;
}
