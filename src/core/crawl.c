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
#include "uvcrawl/policy.h"
#include "uvcrawl/record.h"
#include "uvcrawl/sitemap.h"
#include "uvcrawl/robots.h"
#include "uvcrawl/seen.h"
#include "uvcrawl/store.h"
#include "uvcrawl/url.h"

/* A frontier item's kind carries the redirect hops that led to it. */
#define KIND_OF(k) UC_KIND_OF(k)
#define HOPS_OF(k) ((k) >> 8)
#define MAKE_KIND(kind, hops) ((kind) | ((hops) << 8))

/* RFC 9309 2.4: a cached robots.txt is used for at most 24 hours. */
#define ROBOTS_TTL_MS (24ull * 3600 * 1000)

/* A host's queue in memory with a durable store: refilled from the store
 * once it is under half of this. */
#define HOST_WINDOW 32

#define RETRY_BASE_MS 1000.0
#define RETRY_MAX_MS 30000.0
#define RETRY_AFTER_MAX_S 60.0

typedef enum robots_state { ROBOTS_NONE, ROBOTS_PENDING, ROBOTS_DONE } robots_state;

/* What the crawl knows of one host key, beside the frontier's queue. */
typedef struct host_info {
  uc_fhost *fhost;
  uint64_t id;           /* the store's host id */
  uc_robots *robots;     /* NULL until robots.txt is known (or robots off) */
  robots_state robots_state;
  uint64_t robots_at;    /* when robots.txt was last decided */
  bool too_slow;         /* Crawl-delay above --max-crawl-delay: skip the host */
  uc_fail unreachable;   /* robots.txt failed by DNS or connection: so would pages */
  char robots_cause[24]; /* why robots.txt was unreachable ("tls", "http-503"), or "" */
  uint64_t pages_queued; /* for --max-pages-per-host */
  bool robots_queued;    /* a robots.txt fetch is queued or in flight */
  /* With a durable store, the frontier holds a window of the host's queue
   * (HOST_WINDOW URLs); the rest, `backlog`, is only in the store, and
   * comes back by id, after `cursor` (the largest id queued here). */
  uint64_t backlog;
  uint64_t cursor;
  bool refilling;        /* a refill is asked for and not answered */
  bool foreign;          /* another agent owns it: its URLs are handed over (peers) */
  /* The name and port to connect to, read from the host key at the first
   * dispatch (one parse per host, not per URL); name_rc is that parse's
   * result (a name too long to look up fails every URL of the host). */
  bool name_known;
  int name_rc;
  int port;
  char name[256];
  struct host_info *next;
} host_info;

/* A link held back for the next depth level (see advance_level). */
typedef struct pending_link {
  struct host_info *host; /* its host, made when it was admitted */
  uint64_t id;   /* its store id */
  unsigned kind; /* page or sitemap, and redirect hops */
  char *url;
  char *parent;
  int depth;
  struct pending_link *next;
} pending_link;

struct uc_crawl {
  const uc_config *cfg;
  uc_sinks *sinks;
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
  char product_token[64];
  /* The store (borrowed; NULL: none) and the ids the crawl gives out. */
  uc_store *store;
  bool durable;             /* the store outlives the process (--state) */
  uint64_t last_url_id, last_host_id;
  int64_t wall_minus_now;   /* wall-clock ms minus the engine's now_ms */
  /* Pages whose record is written but whose store group is not durable
   * yet, by group number (a FIFO ring): they hold their -c slot, so that
   * a kill refetches at most -c pages (uc_crawl_busy). */
  uint64_t *unsynced;
  size_t unsynced_head, unsynced_len, unsynced_cap;
  host_info **host_by_id;   /* by store id, for refills and restore */
  size_t host_by_id_len;
  size_t window;            /* HOST_WINDOW with a durable store, else 0: all in memory */
  uint64_t backlog_total;   /* the hosts' backlogs: queued in the store only */
  unsigned refills_pending; /* refills asked and not answered */
  uint64_t now;             /* the latest now_ms the crawl was given */
  uc_crawl_peers peers;     /* a cluster's other agents (all NULL: none) */
  uc_buf origin;            /* scratch: a link's host key (owner only) */
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
  c->sinks = o->sinks;
  c->engine = o->engine;
  c->store = o->store;
  c->durable = o->store != NULL && uc_store_is_durable(o->store);
  c->wall_minus_now = o->wall_ms - (int64_t)o->now_ms;
  c->window = c->durable ? HOST_WINDOW : 0;
  c->now = o->now_ms;
  c->peers = o->peers;
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
  free(c->unsynced);
  free(c->host_by_id);
  uc_buf_free(&c->origin);
  uc_frontier_free(c->frontier);
  uc_policy_free(c->policy);
  uc_seen_free(c->seen);
  free(c);
}

/* ---- the store ----------------------------------------------------------
 * Every write is a no-op without a store. A write that fails (out of
 * memory, or a backend that has failed) is returned up, and is fatal. */

static int store_url(uc_crawl *c, uint64_t id, const char *url, uint64_t parent_id,
                     const host_info *h, int depth, unsigned kind) {
  if (c->store == NULL)
    return 0;
  uc_store_url u = {.id = id, .url = url, .parent_id = parent_id, .host_id = h->id,
                    .depth = depth, .kind = kind};
  return uc_store_put_url(c->store, &u);
}

static int store_state(uc_crawl *c, uint64_t id, uc_url_state st, int status, const char *error) {
  return c->store != NULL && id > 0 ? uc_store_set_state(c->store, id, st, status, error) : 0;
}

/* A host's robots.txt as decided (known) or just its key (not yet). */
static int store_host(uc_crawl *c, const host_info *h, bool known, int status, uc_fail fail,
                      const char *body, size_t len, uint64_t now_ms) {
  if (c->store == NULL)
    return 0;
  uc_store_host sh = {.id = h->id, .key = uc_fhost_key(h->fhost), .robots_known = known,
                      .robots_at_ms = (int64_t)now_ms + c->wall_minus_now,
                      .robots_status = status, .robots_fail = (int)fail, .robots_body = body,
                      .robots_len = len};
  return uc_store_put_host(c->store, &sh);
}

/* End a group of store writes. `hold`: a page's record is in it, so the
 * page keeps its slot until the group is durable (uc_crawl_busy). */
static int store_commit(uc_crawl *c, bool hold) {
  if (c->store == NULL)
    return 0;
  uint64_t seq = 0;
  int rc = uc_store_commit(c->store, &seq);
  if (rc != 0 || !hold || uc_store_durable(c->store) >= seq)
    return rc;
  if (c->unsynced_len == c->unsynced_cap) {
    size_t cap = c->unsynced_cap == 0 ? 64 : c->unsynced_cap * 2;
    uint64_t *ring = malloc(cap * sizeof *ring);
    if (ring == NULL)
      return UC_ENOMEM;
    for (size_t i = 0; i < c->unsynced_len; i++)
      ring[i] = c->unsynced[(c->unsynced_head + i) % c->unsynced_cap];
    free(c->unsynced);
    c->unsynced = ring;
    c->unsynced_cap = cap;
    c->unsynced_head = 0;
  }
  c->unsynced[(c->unsynced_head + c->unsynced_len) % c->unsynced_cap] = seq;
  c->unsynced_len++;
  return 0;
}

/* Let go of the slots of pages whose group became durable; a failed store
 * stops the crawl (nothing more will be durable: no slot waits for it). */
static int refilled(void *ctx, uint64_t host_id, const uc_store_url *rows, size_t n);

static void store_settle(uc_crawl *c) {
  if (c->refills_pending > 0) {
    int rc = uc_store_take_refills(c->store, refilled, c);
    if (rc != 0)
      uc_crawl_fail(c, rc);
  }
  if (c->store == NULL || c->unsynced_len == 0)
    return;
  if (uc_store_failed(c->store, NULL, 0) != 0) {
    c->unsynced_len = 0;
    uc_crawl_fail(c, UC_EIO);
    return;
  }
  uint64_t durable = uc_store_durable(c->store);
  while (c->unsynced_len > 0 && c->unsynced[c->unsynced_head] <= durable) {
    c->unsynced_head = (c->unsynced_head + 1) % c->unsynced_cap;
    c->unsynced_len--;
  }
}

/* ---- hosts and queues ------------------------------------------------- */

/* A host by its store id, or NULL. */
static host_info *host_by_id(const uc_crawl *c, uint64_t id) {
  return id < c->host_by_id_len ? c->host_by_id[id] : NULL;
}

/* The host_info of a frontier host made now, with the store's host id. */
static host_info *new_host(uc_crawl *c, uc_fhost *fh, uint64_t id) {
  if (id >= c->host_by_id_len) {
    size_t len = (size_t)id * 2 + 16;
    host_info **map = realloc(c->host_by_id, len * sizeof *map);
    if (map == NULL)
      return NULL;
    memset(map + c->host_by_id_len, 0, (len - c->host_by_id_len) * sizeof *map);
    c->host_by_id = map;
    c->host_by_id_len = len;
  }
  host_info *h = calloc(1, sizeof *h);
  if (h == NULL)
    return NULL;
  c->host_by_id[id] = h;
  h->fhost = fh;
  h->id = id;
  h->foreign = c->peers.owns != NULL && !c->peers.owns(c->peers.ctx, uc_fhost_key(fh));
  if (id > c->last_host_id)
    c->last_host_id = id;
  h->next = c->hosts;
  c->hosts = h;
  uc_fhost_set_data(fh, h);
  c->stats.hosts++;
  return h;
}

/* The frontier host of a URL with parts `p` (its origin is the key), or
 * NULL when absent and not `create`d, or on ENOMEM (*rc says which). */
static uc_fhost *fhost_of(uc_crawl *c, const char *url, const uc_url_parts *p, bool create,
                          bool *created, int *rc) {
  uc_buf_reset(&c->origin);
  if ((*rc = uc_url_parts_origin(url, p, &c->origin)) != 0)
    return NULL;
  uc_fhost *fh = uc_frontier_host(c->frontier, c->origin.data, create, created);
  *rc = fh == NULL && create ? UC_ENOMEM : 0;
  return fh;
}

/* The host of a URL (with parts `p`), made (and stored) on first sight. */
static int host_for(uc_crawl *c, const char *url, const uc_url_parts *p, uint64_t now_ms,
                    host_info **out) {
  bool created = false;
  int rc;
  uc_fhost *fh = fhost_of(c, url, p, true, &created, &rc);
  if (fh == NULL)
    return rc;
  host_info *h = uc_fhost_data(fh);
  if (created) {
    if ((h = new_host(c, fh, c->last_host_id + 1)) == NULL)
      return UC_ENOMEM;
    rc = store_host(c, h, false, 0, UC_FAIL_NONE, NULL, 0, now_ms);
  }
  *out = h;
  return rc;
}

/* Queue robots.txt in front of everything on host `h`. */
static int push_robots(uc_crawl *c, host_info *h, uint64_t now_ms) {
  uc_buf url = UC_BUF_INIT;
  int rc = uc_buf_printf(&url, "%s/robots.txt", uc_fhost_key(h->fhost));
  if (rc == 0)
    rc = uc_frontier_push(c->frontier, h->fhost, 0, url.data, NULL, 0, UC_KIND_ROBOTS, 1, true,
                          now_ms);
  uc_buf_free(&url);
  h->robots_queued = rc == 0;
  return rc;
}

/* Put a page (or sitemap: `kind`) into its host's queue; a host whose
 * robots.txt is not known (and not on its way) gets it queued in front. */
static int push_url(uc_crawl *c, host_info *h, uint64_t id, const char *url, const char *parent,
                    int depth, unsigned kind, uint64_t now_ms) {
  if (h->foreign) /* its owner queues it (cluster) */
    return c->peers.hand(c->peers.ctx, id, url, parent, depth, kind);
  if (c->cfg->robots && h->robots_state == ROBOTS_NONE && !h->robots_queued) {
    int rc = push_robots(c, h, now_ms);
    if (rc != 0)
      return rc;
  }
  return uc_frontier_push(c->frontier, h->fhost, id, url, parent, depth, kind, 1, false, now_ms);
}

/* A URL that passed policy and dedup joins the crawl: its host, an id, a
 * place in the store (QUEUED), and a count against its host's page cap. */
static int admit(uc_crawl *c, const char *url, const uc_url_parts *p, uint64_t parent_id,
                 int depth, unsigned kind, uint64_t now_ms, host_info **h, uint64_t *id) {
  int rc = host_for(c, url, p, now_ms, h);
  if (rc != 0)
    return rc;
  *id = ++c->last_url_id;
  (*h)->pages_queued += KIND_OF(kind) == UC_KIND_PAGE;
  return store_url(c, *id, url, parent_id, *h, depth, kind);
}

/* Hold a link for the next level (--depth crawls go level by level). */
static int defer_to_next_level(uc_crawl *c, host_info *h, uint64_t id, const char *url,
                               const char *parent, int depth, unsigned kind) {
  pending_link *p = calloc(1, sizeof *p);
  if (p == NULL)
    return UC_ENOMEM;
  p->host = h;
  p->id = id;
  p->kind = kind;
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

/* Queue an admitted URL now, or at its level (--depth), or leave it in
 * the store while its host's window is full (it comes back by refill). */
static int enqueue(uc_crawl *c, host_info *h, uint64_t id, const char *url, const char *parent,
                   int depth, unsigned kind, uint64_t now_ms) {
  if (h->foreign)
    return push_url(c, h, id, url, parent, depth, kind, now_ms);
  if (c->cfg->depth >= 0 && depth > c->level)
    return defer_to_next_level(c, h, id, url, parent, depth, kind);
  if (c->window > 0 && (h->backlog > 0 || uc_fhost_queued(h->fhost) >= c->window)) {
    h->backlog++;
    c->backlog_total++;
    return 0;
  }
  int rc = push_url(c, h, id, url, parent, depth, kind, now_ms);
  if (rc == 0 && id > h->cursor)
    h->cursor = id;
  return rc;
}

/* Ask the store for the next of host h's queue once its window is under
 * half full. The answer comes with a later uc_crawl_busy/over (refilled). */
static int maybe_refill(uc_crawl *c, host_info *h) {
  if (c->window == 0 || h->backlog == 0 || h->refilling || c->stopping || c->capped)
    return 0;
  size_t queued = uc_fhost_queued(h->fhost);
  if (queued * 2 >= c->window)
    return 0;
  int rc = uc_store_refill(c->store, h->id, h->cursor, c->cfg->depth >= 0 ? c->level : -1,
                           c->window - queued);
  if (rc == 0)
    rc = store_commit(c, false);
  if (rc == 0) {
    h->refilling = true;
    c->refills_pending++;
  }
  return rc;
}

/* A refill's answer: the host's next queued URLs, into its window. */
static int refilled(void *ctx, uint64_t host_id, const uc_store_url *rows, size_t n) {
  uc_crawl *c = ctx;
  host_info *h = host_by_id(c, host_id);
  if (h == NULL)
    return 0;
  h->refilling = false;
  c->refills_pending--;
  if (c->stopping || c->capped)
    return 0; /* they stay queued in the store */
  for (size_t i = 0; i < n; i++) {
    if (rows[i].id <= h->cursor)
      continue; /* already here (cannot happen: asked after the cursor) */
    int rc = push_url(c, h, rows[i].id, rows[i].url, rows[i].parent, rows[i].depth,
                      rows[i].kind, c->now);
    if (rc != 0)
      return rc;
    h->cursor = rows[i].id;
    if (h->backlog > 0) {
      h->backlog--;
      c->backlog_total--;
    }
  }
  if (n == 0) { /* the store has no more: the count was off; never wait for it */
    c->backlog_total -= h->backlog;
    h->backlog = 0;
  }
  return maybe_refill(c, h);
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
static int link_policy(const uc_crawl *c, const char *url, const uc_url_parts *p, int depth,
                       bool owner) {
  char host[256];
  if (p->host_len >= sizeof host)
    return UC_SKIP_PATTERN;
  memcpy(host, url + p->host_off, p->host_len);
  host[p->host_len] = '\0';
  return owner ? uc_policy_check_owner(c->policy, url, host, depth)
               : uc_policy_check(c->policy, url, host, depth);
}

/* Queue a link that passed policy and dedup, found on page `from` (NULL
 * for a seed); the per-host page cap and --max-pages still apply. Past
 * --max-pages or after a stop, a durable store still keeps it (QUEUED),
 * for a later run. Returns 1 if queued, 0 if not, or < 0. */
static int queue_link(uc_crawl *c, const char *url, const uc_url_parts *p,
                      const uc_frontier_item *from, int depth, unsigned kind, uint64_t now_ms) {
  if (c->stopping && !c->durable)
    return 0;
  if (c->cfg->max_pages_per_host > 0) {
    int rc;
    uc_fhost *fh = fhost_of(c, url, p, false, NULL, &rc);
    host_info *h = fh != NULL ? uc_fhost_data(fh) : NULL;
    if (rc != 0)
      return rc;
    if (h != NULL && h->pages_queued >= c->cfg->max_pages_per_host) {
      skipped(c, c->stats.skipped, url, UC_SKIP_MAX_PAGES_PER_HOST);
      return 0;
    }
  }
  if (c->capped && !c->durable) {
    skipped(c, c->stats.skipped, url, UC_SKIP_MAX_PAGES);
    return 0;
  }
  host_info *h;
  uint64_t id;
  const char *parent = from != NULL ? from->url : NULL;
  int rc = admit(c, url, p, from != NULL ? from->id : 0, depth, kind, now_ms, &h, &id);
  if (rc != 0)
    return rc;
  if (c->capped) {
    skipped(c, c->stats.skipped, url, UC_SKIP_MAX_PAGES);
    return 0;
  }
  if (c->stopping)
    return 0;
  rc = enqueue(c, h, id, url, parent, depth, kind, now_ms);
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
static int offer(uc_crawl *c, const char *url, const uc_url_parts *p,
                 const uc_frontier_item *from, int depth, unsigned kind, uint64_t now_ms) {
  int skip = link_policy(c, url, p, depth, true);
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
  return queue_link(c, url, p, from, depth, kind, now_ms);
}

/* offer() for a normalized URL that came without its parts (a redirect
 * target): one parse, for its parts. */
static int offer_url(uc_crawl *c, const char *url, const uc_frontier_item *from, int depth,
                     unsigned kind, uint64_t now_ms) {
  uc_url_parts p;
  int rc = uc_url_parts_of(url, &p);
  if (rc == UC_ENOMEM)
    return rc;
  if (rc != 0) { /* cannot happen: a URL this module made */
    skipped(c, c->stats.skipped, url, UC_SKIP_PATTERN);
    return 0;
  }
  return offer(c, url, &p, from, depth, kind, now_ms);
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
  struct {
    char *url;
    uc_url_parts parts;
  } *out_of_scope = NULL; /* moved out of links, put back after the kept ones */
  size_t kept = 0, n_out = 0;
  int rc = 0;
  for (size_t i = 0; i < links->count; i++) {
    char *url = links->urls[i];
    int depth = parsed->sitemap_index ? f->item.depth : f->item.depth + 1;
    int skip = rc == 0 ? link_policy(c, url, &links->parts[i], depth, false) : UC_SKIP_SEEN;
    if (skip == UC_SKIP_EXTENSION && parsed->sitemap_index)
      skip = -1; /* as offer() */
    if (skip == UC_SKIP_SCOPE) {
      if (out_of_scope == NULL && (out_of_scope = malloc(links->count * sizeof *out_of_scope)) == NULL)
        rc = UC_ENOMEM;
      else {
        out_of_scope[n_out].url = url;
        out_of_scope[n_out++].parts = links->parts[i];
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
      links->parts[kept] = links->parts[i];
      links->urls[kept++] = url;
    }
  }
  parsed->accepted = kept;
  for (size_t i = 0; i < n_out; i++) {
    links->parts[kept] = out_of_scope[i].parts;
    links->urls[kept++] = out_of_scope[i].url;
  }
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
  uc_url_parts p;
  int rc = uc_url_resolve_at(NULL, url, &norm, &p);
  if (rc == 0 && p.host_len >= sizeof host)
    rc = UC_ETOOLONG; /* as uc_url_host() */
  if (rc == 0) {
    memcpy(host, norm + p.host_off, p.host_len);
    host[p.host_len] = '\0';
  }
  if (rc == 0)
    rc = uc_policy_add_seed_host(c->policy, host);
  if (rc == 0 && c->store != NULL)
    rc = uc_store_put_scope(c->store, host, false);
  if (rc == 0 && (rc = c->visited(c->visited_ctx, norm, strlen(norm))) == 1)
    rc = queue_link(c, norm, &p, NULL, 0, kind, now_ms);
  free(norm);
  return rc < 0 ? rc : 0;
}

/* ---- a cluster's hand-overs (src/cluster) ------------------------------ */

int uc_crawl_receive(uc_crawl *c, const char *url, const char *parent, int depth,
                     unsigned kind, uint64_t now_ms) {
  c->now = now_ms;
  uc_url_parts p;
  int rc = uc_url_parts_of(url, &p); /* the sender normalized it: one parse */
  if (rc != 0)
    return rc == UC_ENOMEM ? rc : 0;
  if (depth == 0 && parent == NULL) { /* a seed given to another agent */
    char host[256];
    if (p.host_len >= sizeof host)
      return 0;
    memcpy(host, url + p.host_off, p.host_len);
    host[p.host_len] = '\0';
    rc = uc_policy_add_seed_host(c->policy, host);
    if (rc == 0 && c->store != NULL)
      rc = uc_store_put_scope(c->store, host, false);
    if (rc != 0)
      return rc == UC_ENOMEM ? rc : 0;
  }
  rc = c->visited(c->visited_ctx, url, strlen(url));
  if (rc <= 0)
    return rc;
  uc_frontier_item from = {.url = (char *)parent};
  return queue_link(c, url, &p, parent != NULL ? &from : NULL, depth, kind, now_ms);
}

int uc_crawl_handed(uc_crawl *c, const uint64_t *ids, size_t n) {
  int rc = 0;
  /* Leased to its owner, and done here (a URL goes QUEUED -> LEASED -> DONE). */
  for (size_t i = 0; i < n && rc == 0; i++) {
    rc = store_state(c, ids[i], UC_URL_LEASED, 0, NULL);
    if (rc == 0)
      rc = store_state(c, ids[i], UC_URL_DONE, 0, "handed-over");
  }
  return rc == 0 && n > 0 ? store_commit(c, false) : rc;
}

static int to_sinks(uc_crawl *c, const uc_record *rec, const uc_exchange *ex) {
  uc_sink_entry e = {.record = rec, .exchange = ex};
  int rc = uc_sinks_write(c->sinks, &e);
  if (rc == UC_EIO)
    c->write_errno = errno;
  return rc;
}

/* Hand one record (and the exchange behind it, if any) to the sinks; a
 * failed write is fatal for the crawl. */
static int write_record(uc_crawl *c, const uc_record *rec, const uc_exchange *ex) {
  if (c->cfg->verbose && (rec->error != NULL || rec->status >= 400)) {
    char status[16];
    snprintf(status, sizeof status, "http %d", rec->status);
    say("fail", rec->url, rec->error != NULL ? rec->error : status, rec->cause);
  }
  return to_sinks(c, rec, ex);
}

/* A fetch that makes no record (robots.txt, a try that is retried) still
 * goes to the archives if a response came. */
static int archive_only(uc_crawl *c, const uc_fetch_result *r) {
  return r->exchange != NULL ? to_sinks(c, NULL, r->exchange) : 0;
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
  int rc = write_record(c, &rec, NULL);
  if (rc == 0)
    rc = store_state(c, item->id, UC_URL_FAILED, 0, rec.error);
  uc_frontier_done(c->frontier, item->host, now_ms);
  free(item->url);
  free(item->parent);
  return rc;
}

/* robots.txt is older than ROBOTS_TTL_MS: put the page back and fetch the
 * rules again in front of it (the token this pop took is not given back). */
static int refresh_robots(uc_crawl *c, uc_frontier_item *item, uint64_t now_ms) {
  host_info *h = uc_fhost_data(item->host);
  int rc = uc_frontier_push(c->frontier, item->host, item->id, item->url, item->parent,
                            item->depth, item->kind, item->attempts, true, now_ms);
  if (rc == 0)
    rc = push_robots(c, h, now_ms);
  h->robots_state = ROBOTS_NONE;
  uc_frontier_done(c->frontier, item->host, now_ms);
  free(item->url);
  free(item->parent);
  return rc;
}

/* The name and port of host h (its key parsed once, at the first call)
 * into buf, as uc_url_host_port() of any of its URLs gives them. */
static int host_name(host_info *h, char *buf, size_t buflen, int *port) {
  if (!h->name_known) {
    h->name_rc = uc_url_host_port(uc_fhost_key(h->fhost), h->name, sizeof h->name, &h->port);
    h->name_known = h->name_rc != UC_ENOMEM; /* out of memory: try again */
  }
  if (h->name_rc != 0)
    return h->name_rc;
  size_t len = strlen(h->name);
  if (len >= buflen)
    return UC_ETOOLONG;
  memcpy(buf, h->name, len + 1);
  *port = h->port;
  return 0;
}

/* Whether host h's robots.txt rules allow the item. Its "/path?query" is
 * what follows the host key in the URL (a normalized URL starts with its
 * origin unless it holds user info; that rare one is parsed). */
static bool robots_allow(const host_info *h, const uc_frontier_item *item) {
  const char *key = uc_fhost_key(h->fhost);
  size_t key_len = strlen(key);
  if (strncmp(item->url, key, key_len) == 0 && item->url[key_len] == '/')
    return uc_robots_allowed(h->robots, item->url + key_len);
  char *path = NULL;
  bool allowed = uc_url_path_query(item->url, &path) != 0 || uc_robots_allowed(h->robots, path);
  free(path);
  return allowed;
}

/* Move the held-back links of the next level into the frontier. */
static int advance_level(uc_crawl *c, uint64_t now_ms) {
  pending_link *p = c->next_level;
  c->next_level = NULL;
  c->next_level_tail = &c->next_level;
  c->next_level_count = 0;
  c->level++;
  int rc = 0;
  for (pending_link *q = p; q != NULL && rc == 0; q = q->next) {
    host_info *h = q->host;
    rc = push_url(c, h, q->id, q->url, q->parent, q->depth, q->kind, now_ms);
    if (rc == 0 && q->id > h->cursor)
      h->cursor = q->id; /* a refill asks after it: not these again */
  }
  free_pending(p);
  return rc;
}

/* Drop everything queued; returns how many URLs that was. */
static size_t drop_queue(uc_crawl *c) {
  size_t dropped = uc_frontier_clear(c->frontier) + c->next_level_count + c->backlog_total;
  for (host_info *h = c->hosts; h != NULL && c->backlog_total > 0; h = h->next)
    h->backlog = 0; /* they stay queued in the store, for a later run */
  c->backlog_total = 0;
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
    c->now = now_ms;
    int rc = uc_frontier_pop(c->frontier, now_ms, &item, wake_ms);
    if (rc == UC_EEMPTY && c->backlog_total > 0 && c->refills_pending == 0) {
      /* Note: every pop asks for its host's refill, so this should not
       * happen; were a count off, a scan here keeps the crawl from waiting
       * for nothing. */
      for (host_info *h = c->hosts; h != NULL && rc == UC_EEMPTY; h = h->next)
        if (h->backlog > 0 && (rc = maybe_refill(c, h)) == 0)
          rc = UC_EEMPTY;
      if (rc != UC_EEMPTY)
        return rc;
    }
    if (rc == UC_EEMPTY && c->stats.inflight == 0 && c->next_level != NULL &&
        c->backlog_total == 0 && c->refills_pending == 0) {
      if ((rc = advance_level(c, now_ms)) != 0)
        return rc;
      continue;
    }
    if (rc != 0)
      return rc;
    host_info *h = uc_fhost_data(item.host);
    if (item.id > 0 && (rc = maybe_refill(c, h)) != 0) {
      uc_frontier_done(c->frontier, item.host, now_ms);
      free(item.url);
      free(item.parent);
      return rc;
    }
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
    } else if (h->robots != NULL && !robots_allow(h, &item)) {
      if ((rc = refuse(c, &item, UC_FAIL_ROBOTS, now_ms)) != 0)
        return rc;
      continue;
    }
    uc_fetch *f = NULL;
    if (item.id > 0) /* a page or sitemap (robots.txt is not a stored URL) */
      rc = store_state(c, item.id, UC_URL_LEASED, 0, NULL);
    if (rc != 0 || (f = calloc(1, sizeof *f)) == NULL) {
      uc_frontier_done(c->frontier, item.host, now_ms);
      free(item.url);
      free(item.parent);
      return rc != 0 ? rc : UC_ENOMEM;
    }
    /* The parts an engine needs to connect. Note: a normalized URL can
     * still have a host too long to look up (over 255 bytes): that page
     * gets a "bad-url" record, and the crawl goes on. */
    f->item = item;
    rc = host_name(h, f->host, sizeof f->host, &f->port);
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
         r->status >= 200 && r->status < 300 && (r->body_len > 0 || r->extractor != NULL) &&
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

int uc_crawl_parse(const uc_crawl *c, const uc_fetch *f, const uc_fetch_result *r,
                   uc_parsed *out) {
  memset(out, 0, sizeof *out);
  if (KIND_OF(f->item.kind) == UC_KIND_SITEMAP)
    return parse_sitemap(f, r, out);
  if (r->extractor != NULL) { /* the body went to the parser as it came */
    out->parsed = true;
    out->rc = uc_extractor_finish(r->extractor, &out->links);
    return out->rc == UC_ENOMEM ? UC_ENOMEM : 0;
  }
  const char *base = r->final_url != NULL ? r->final_url : f->item.url;
  char *utf8 = NULL;
  size_t utf8_len = 0;
  if (uc_charset_to_utf8(r->content_type, r->body, r->body_len, &utf8, &utf8_len) != 0)
    return UC_ENOMEM;
  out->parsed = true;
  uc_extract_opts opts = {.parser = c->cfg->parser};
  out->rc = utf8 != NULL ? uc_extract(utf8, utf8_len, base, &opts, &out->links)
                         : uc_extract(r->body, r->body_len, base, &opts, &out->links);
  free(utf8);
  return out->rc == UC_ENOMEM ? UC_ENOMEM : 0;
}

void uc_parsed_free(uc_parsed *p) {
  if (p != NULL && p->parsed)
    uc_links_free(&p->links);
}

static bool retryable(const uc_fetch_result *r);
static int retry(uc_crawl *c, uc_fetch *f, const uc_fetch_result *r, uint64_t now_ms);

/* Decide a host's rules from its robots.txt fetch (RFC 9309): the body of
 * a 2xx, allow-all for a 4xx, disallow-all while unreachable; Crawl-delay
 * lowers the host's rate. Also used on resume, with what the store kept. */
static void robots_decide(uc_crawl *c, host_info *h, int status, uc_fail fail, const char *body,
                          size_t len, uint64_t now_ms) {
  uc_robots *rules = NULL;
  int rc;
  h->robots_cause[0] = '\0';
  if (fail == UC_FAIL_NONE && status >= 200 && status < 300) {
    rc = uc_robots_parse(&rules, body != NULL ? body : "", len, c->product_token);
  } else if (fail == UC_FAIL_NONE && status >= 400 && status < 500) {
    rc = uc_robots_new_allow_all(&rules); /* RFC 9309 2.3.1.3: unavailable */
  } else {
    rc = uc_robots_new_disallow_all(&rules); /* 2.3.1.4: unreachable */
    /* The pages' records say why: "robots" alone would hide it. */
    if (fail != UC_FAIL_NONE)
      snprintf(h->robots_cause, sizeof h->robots_cause, "%s", uc_fail_name(fail));
    else
      snprintf(h->robots_cause, sizeof h->robots_cause, "http-%d", status);
  }
  /* Note: when the name does not resolve or nothing listens, the pages
   * would fail the same way; record that cause instead of "robots". */
  if (fail == UC_FAIL_DNS || fail == UC_FAIL_REFUSED || fail == UC_FAIL_CONNECT)
    h->unreachable = fail;
  if (rc != 0)
    rules = NULL; /* out of memory: crawl the host without rules */
  uc_robots_free(h->robots);
  h->robots = rules;
  h->robots_state = ROBOTS_DONE;
  h->robots_queued = false;
  h->robots_at = now_ms;
  double delay = rules != NULL ? uc_robots_crawl_delay(rules) : -1.0;
  if (delay > c->cfg->max_crawl_delay_s) {
    h->too_slow = true;
  } else if (delay > 0) {
    double rate = 1.0 / delay;
    if (c->cfg->rate <= 0 || rate < c->cfg->rate)
      uc_frontier_set_rate(c->frontier, h->fhost, rate, 1.0, now_ms);
  }
}

/* --sitemaps on: the Sitemap: lines of a robots.txt, queued as sitemaps
 * at depth 0 (as seeds are) through the same policy and politeness as
 * pages; one on another host is out of a host scope, as the protocol
 * wants (a sitemap names URLs of its own host). */
static int offer_sitemaps(uc_crawl *c, uc_fetch *f, const uc_fetch_result *r, uint64_t now_ms) {
  uc_links links;
  const char *base = r->final_url != NULL ? r->final_url : f->item.url;
  int rc = uc_sitemap_from_robots(r->body != NULL ? r->body : "", r->body_len, base, &links);
  for (size_t i = 0; rc == 0 && i < links.count; i++) {
    int offered = offer(c, links.urls[i], &links.parts[i], &f->item, 0, UC_KIND_SITEMAP, now_ms);
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
  int rc;
  c->stats.robots_fetches++;
  c->stats.bytes += r->bytes;
  if (!c->stopping && retryable(r) && f->item.attempts <= c->cfg->retries) {
    rc = retry(c, f, r, now_ms);
    uc_frontier_release(c->frontier, f->item.host, now_ms);
    return rc;
  }
  bool ok = r->fail == UC_FAIL_NONE && r->status >= 200 && r->status < 300;
  robots_decide(c, h, r->status, r->fail, ok ? r->body : NULL, ok ? r->body_len : 0, now_ms);
  rc = store_host(c, h, true, r->status, r->fail, ok ? r->body : NULL, ok ? r->body_len : 0,
                  now_ms);
  if (rc == 0 && ok && c->cfg->sitemaps && (!c->stopping || c->durable))
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
  int rc = store_state(c, f->item.id, UC_URL_QUEUED, 0, NULL); /* leased -> queued */
  if (rc == 0)
    rc = uc_frontier_push(c->frontier, f->item.host, f->item.id, f->item.url, f->item.parent,
                            f->item.depth, f->item.kind, f->item.attempts + 1, true, now_ms);
  if (rc == 0)
    uc_frontier_defer(c->frontier, f->item.host, now_ms + (uint64_t)wait_ms, now_ms);
  return rc;
}

/* Queue the links of a parsed page; returns how many were new, or < 0. */
static long merge_links(uc_crawl *c, const uc_fetch *f, const uc_parsed *parsed,
                        uint64_t now_ms) {
  long fresh = 0;
  if (c->stopping && !c->durable)
    return 0; /* a durable store would keep them for the next run */
  if (parsed->prefiltered)
    for (int k = 0; k < UC_SKIP_COUNT_; k++)
      c->stats.skipped[k] += parsed->skipped[k];
  /* A sitemap index lists sitemaps, at its own depth; anything else, pages. */
  unsigned kind = parsed->sitemap_index ? UC_KIND_SITEMAP : UC_KIND_PAGE;
  int depth = parsed->sitemap_index ? f->item.depth : f->item.depth + 1;
  for (size_t i = 0; i < parsed->links.count; i++) {
    const char *url = parsed->links.urls[i];
    int rc = parsed->prefiltered && i < parsed->accepted
                 ? queue_link(c, url, &parsed->links.parts[i], &f->item, depth, kind, now_ms)
                 : offer(c, url, &parsed->links.parts[i], &f->item, depth, kind, now_ms);
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
  int rc = uc_policy_adopt_host(c->policy, host);
  if (rc == 0 && c->store != NULL)
    rc = uc_store_put_scope(c->store, host, true);
  return rc;
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
    } else if (!c->stopping || c->durable) {
      int rc = f->item.depth == 0 ? adopt_host(c, target) : 0;
      if (rc == 0)
        rc = offer_url(c, target, &f->item, f->item.depth, MAKE_KIND(KIND_OF(f->item.kind), hops),
                   now_ms);
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
  int rc = write_record(c, &rec, r->exchange);
  /* Note: an aborted transfer (a second signal) was never really fetched;
   * its record says "aborted", and the store puts it back in the queue so
   * that a resumed crawl fetches it. */
  uc_url_state st = fail == UC_FAIL_ABORTED ? UC_URL_QUEUED
                    : rec.error != NULL     ? UC_URL_FAILED
                                            : UC_URL_DONE;
  if (rc == 0)
    rc = store_state(c, f->item.id, st, r->status, rec.error);
  free(target);
  return rc;
}

int uc_crawl_complete(uc_crawl *c, uc_fetch *f, const uc_fetch_result *r, uc_parsed *parsed,
                      uint64_t parse_ns, uint64_t now_ms) {
  int rc = 0;
  assert(c->stats.inflight > 0);
  c->stats.inflight--;
  c->now = now_ms;
  if (r->fail != UC_FAIL_ABORTED)
    c->stats.requests++;
  if (r->tls_handshake != NULL) {
    c->stats.tls_handshakes++;
    c->stats.tls_resumed += strcmp(r->tls_handshake, "resumed") == 0;
  }
  if (parsed != NULL && parsed->parsed) {
    c->stats.parsed++;
    c->stats.parse_bytes += r->extractor != NULL ? r->bytes : r->body_len;
    c->stats.parse_ns += parse_ns;
  }
  /* One store group a completion: a page's record state and the links it
   * found commit together (store.h). */
  if (KIND_OF(f->item.kind) == UC_KIND_ROBOTS) {
    rc = archive_only(c, r);
    if (rc == 0)
      rc = robots_done(c, f, r, now_ms);
    if (rc == 0)
      rc = store_commit(c, false);
  } else if (!c->stopping && retryable(r) && f->item.attempts <= c->cfg->retries) {
    rc = archive_only(c, r);
    if (rc == 0)
      rc = retry(c, f, r, now_ms);
  } else {
    rc = page_done(c, f, r, parsed, now_ms);
    if (rc == 0)
      rc = store_commit(c, true);
  }
  uc_frontier_done(c->frontier, f->item.host, now_ms);
  free(f->item.url);
  free(f->item.parent);
  free(f);
  return rc;
}

bool uc_crawl_finished(const uc_crawl *c) {
  return c->stats.inflight == 0 && uc_frontier_queued(c->frontier) == 0 && c->next_level == NULL &&
         c->backlog_total == 0 && c->refills_pending == 0;
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

bool uc_crawl_over(uc_crawl *c, bool dispatching) {
  store_settle(c);
  return c->stats.inflight == 0 && c->unsynced_len == 0 &&
         (!dispatching || c->fatal != 0 || uc_crawl_finished(c));
}

uint64_t uc_crawl_busy(uc_crawl *c) {
  store_settle(c);
  return c->stats.inflight + c->unsynced_len;
}

int uc_crawl_commit(uc_crawl *c) { return store_commit(c, false); }

void uc_fetch_result_failed(uc_fetch_result *r, uc_fail why, double fetch_ms) {
  memset(r, 0, sizeof *r);
  r->fail = why;
  r->retry_after_s = -1.0;
  r->fetch_ms = fetch_ms;
}

size_t uc_crawl_queued(const uc_crawl *c) {
  return uc_frontier_queued(c->frontier) + c->next_level_count + c->backlog_total;
}

/* ---- resume ------------------------------------------------------------- */

typedef struct restore_ctx {
  uc_crawl *c;
  uint64_t now_ms;
  bool any_live;
  bool backlog_only; /* live URLs count as backlog; refills bring the windows */
  uc_crawl_restored *out;
} restore_ctx;

static int restore_scope(void *ctx, const char *host, bool adopted) {
  uc_crawl *c = ((restore_ctx *)ctx)->c;
  return adopted ? uc_policy_adopt_host(c->policy, host) : uc_policy_add_seed_host(c->policy, host);
}

/* A stored host: made again, with its robots.txt if it is still fresh
 * (RFC 9309 2.4: 24 hours, counted in wall-clock time across runs). */
static int restore_host(void *ctx, const uc_store_host *sh) {
  restore_ctx *rc = ctx;
  uc_crawl *c = rc->c;
  bool created = false;
  uc_fhost *fh = uc_frontier_host(c->frontier, sh->key, true, &created);
  if (fh == NULL)
    return UC_ENOMEM;
  host_info *h = created ? new_host(c, fh, sh->id) : uc_fhost_data(fh);
  if (h == NULL)
    return UC_ENOMEM;
  if (!sh->robots_known || !c->cfg->robots)
    return 0;
  int64_t age = (int64_t)rc->now_ms + c->wall_minus_now - sh->robots_at_ms;
  if (age < 0)
    age = 0; /* the wall clock went back: take it as fetched now */
  if ((uint64_t)age >= ROBOTS_TTL_MS || (uint64_t)age > rc->now_ms)
    return 0; /* stale: fetched again before the host's next page */
  robots_decide(c, h, sh->robots_status, (uc_fail)sh->robots_fail, sh->robots_body,
                sh->robots_len, rc->now_ms);
  h->robots_at = rc->now_ms - (uint64_t)age;
  rc->out->robots++;
  return 0;
}

/* Every stored URL: into the visited set, and counted. */
static int restore_url(void *ctx, const uc_store_url *u) {
  restore_ctx *rc = ctx;
  uc_crawl *c = rc->c;
  int fresh = c->visited(c->visited_ctx, u->url, strlen(u->url));
  if (fresh < 0)
    return fresh;
  if (u->id > c->last_url_id)
    c->last_url_id = u->id;
  host_info *h = host_by_id(c, u->host_id);
  if (h != NULL)
    h->pages_queued += KIND_OF(u->kind) == UC_KIND_PAGE;
  if (h != NULL && rc->backlog_only && (u->state == UC_URL_QUEUED || u->state == UC_URL_LEASED)) {
    h->backlog++; /* the window is filled by refills once the load is done */
    c->backlog_total++;
    rc->out->live++;
  }
  if (u->state == UC_URL_DONE || u->state == UC_URL_FAILED) {
    rc->out->done++;
    c->dispatched_pages++;
    if (u->depth == 0 && u->state == UC_URL_DONE && u->status > 0 && u->status < 400)
      c->stats.seeds_ok++;
  }
  return 0;
}

/* A URL queued or leased when the last run ended: queued again. */
static int restore_live(void *ctx, const uc_store_url *u) {
  restore_ctx *rc = ctx;
  uc_crawl *c = rc->c;
  host_info *h = host_by_id(c, u->host_id);
  if (h == NULL)
    return UC_EIO; /* a URL of no stored host: not a state this crawl wrote */
  if (!rc->any_live && c->cfg->depth >= 0)
    c->level = u->depth; /* live URLs come by depth: the first is the level */
  rc->any_live = true;
  rc->out->live++;
  return enqueue(c, h, u->id, u->url, u->parent, u->depth, u->kind, rc->now_ms);
}

int uc_crawl_restore(uc_crawl *c, uint64_t now_ms, uc_crawl_restored *out) {
  memset(out, 0, sizeof *out);
  if (c->store == NULL)
    return 0;
  /* Note: without -d, the live URLs need not come in whole: one pass over
   * every URL (the visited set needs it anyway) counts each host's, and a
   * refill a host brings its first window, parents joined for those alone.
   * A 10-million-URL state loaded whole took 31 s to its first fetch. With
   * -d the live ones are read in, by depth, for the level they are at. */
  bool by_depth = c->cfg->depth >= 0;
  restore_ctx ctx = {.c = c, .now_ms = now_ms, .out = out,
                     .backlog_only = c->window > 0 && !by_depth};
  uc_store_loader loader = {.live_by_depth = by_depth, .scope = restore_scope,
                            .host = restore_host, .url = restore_url,
                            .live = ctx.backlog_only ? NULL : restore_live};
  /* Note: the run that was killed may have just spent a host's burst; a
   * full bucket now would allow burst twice in one window. Every host of
   * a resumed crawl starts empty (those made later too: one made just
   * before the kill may not be in the store yet). */
  uc_frontier_set_empty_start(c->frontier, true);
  int rc = uc_store_load(c->store, &loader, &ctx);
  if (rc == 0 && c->stats.hosts == 0)
    uc_frontier_set_empty_start(c->frontier, false); /* a new crawl: nothing to resume */
  for (host_info *h = c->hosts; h != NULL && rc == 0 && c->backlog_total > 0; h = h->next)
    rc = maybe_refill(c, h);
  out->hosts = c->stats.hosts;
  if (rc == 0 && c->cfg->max_pages > 0 && c->dispatched_pages >= c->cfg->max_pages) {
    c->capped = true;
    c->stats.max_pages_reached = true;
    c->stats.skipped[UC_SKIP_MAX_PAGES] += drop_queue(c);
  }
  return rc;
}
