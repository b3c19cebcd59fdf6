/* frontier.c - per-host URL queues and the host scheduler (see frontier.h).
 *
 * State invariant (checked by uc_frontier_check):
 *   A host is *eligible* when it has a queued URL, is not held and has fewer
 *   than per_host transfers in flight. Every host is in exactly one state:
 *   - READY:   eligible, and at f->now it has a token and no deferral: on the
 *              ready list (intrusive, doubly linked, round-robin order).
 *   - WAITING: eligible, but needs time: in the min-heap at heap_idx, keyed
 *              by wake_at = max(next_token_at, defer_until) > the `now` it
 *              was scheduled at.
 *   - IDLE:    not eligible; on neither structure. Only an event (push, done,
 *              release, set_rate) can make it eligible, and each event calls
 *              reschedule().
 *   Every function that changes a host's queue, inflight count, hold flag,
 *   deferral or bucket calls reschedule() on it before returning, so the
 *   state never goes stale. Time passing only moves WAITING hosts towards
 *   READY, which pop() applies lazily from the heap top.
 */
#include "uvcrawl/frontier.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "uvcrawl/error.h"
#include "uvcrawl/seen.h"
#include "uvcrawl/tbucket.h"

enum host_state {
  HOST_IDLE,    /* not eligible: nothing queued, at cap, or held */
  HOST_READY,   /* on the ready list: can dispatch now */
  HOST_WAITING, /* in the heap: can dispatch at wake_at */
};

/* A queued URL. */
struct fitem {
  uint64_t id;  /* the caller's (the crawl's store id), 0 if none */
  char *url;    /* owned */
  char *parent; /* owned, may be NULL */
  int depth;
  unsigned attempts;
  unsigned kind;
  uint64_t queued_ms; /* push time */
};

struct uc_fhost {
  char *key;     /* owned, NUL-terminated */
  uint64_t hash; /* of key, kept for rehashing the map */
  /* FIFO as a ring (a deque, for front insertion). */
  struct fitem *ring; /* owned, `cap` slots */
  size_t head;        /* index of the first queued item */
  size_t len;         /* queued items */
  size_t cap;
  uc_tbucket bucket;
  unsigned inflight;
  bool held;
  enum host_state state;
  uint64_t defer_until;  /* no pops before this */
  uint64_t wake_at;      /* WAITING: heap key */
  size_t heap_idx;       /* WAITING: position in f->heap */
  uc_fhost *prev, *next; /* READY: ready list links */
  void *data;            /* engine's, borrowed */
  uint64_t pages;        /* kind-0 items popped */
  uint64_t wait_start;   /* WAITING: when it entered the heap */
  uint64_t waited_from, waited_until; /* its last wait, until the next pop */
};

struct uc_frontier {
  uc_frontier_opts opts;
  uint64_t now; /* latest now_ms seen by any call */
  /* Host map: open addressing, linear probing, never deletes. */
  uc_fhost **map; /* owned array of owned hosts, NULL = empty */
  size_t map_mask;
  size_t nhosts;
  /* Ready list. */
  uc_fhost *ready_head, *ready_tail;
  size_t nready;
  /* Waiting min-heap; capacity kept >= nhosts so inserts cannot fail. */
  uc_fhost **heap;
  size_t heap_len, heap_cap;
  size_t queued; /* sum of hosts' len */
  bool empty_start; /* new hosts' buckets start empty (uc_frontier_set_empty_start) */
};

/* Host names come from crawled pages. Note: with a fixed key, someone who
 * controls many names could aim them at one probe run; the cost is slower
 * lookups, never wrong answers. */
static const uint64_t host_hash_key[2] = {0x75766372617766ULL, 0x686f73746d6170ULL};

static void note_time(uc_frontier *f, uint64_t now_ms) {
  if (now_ms > f->now)
    f->now = now_ms;
}

/* ---- ready list ------------------------------------------------------------ */

static void ready_append(uc_frontier *f, uc_fhost *h) {
  h->prev = f->ready_tail;
  h->next = NULL;
  if (f->ready_tail)
    f->ready_tail->next = h;
  else
    f->ready_head = h;
  f->ready_tail = h;
  f->nready++;
  h->state = HOST_READY;
}

static void ready_remove(uc_frontier *f, uc_fhost *h) {
  if (h->prev)
    h->prev->next = h->next;
  else
    f->ready_head = h->next;
  if (h->next)
    h->next->prev = h->prev;
  else
    f->ready_tail = h->prev;
  h->prev = h->next = NULL;
  f->nready--;
  h->state = HOST_IDLE;
}

/* ---- waiting heap ---------------------------------------------------------- */

static void heap_set(uc_frontier *f, size_t i, uc_fhost *h) {
  f->heap[i] = h;
  h->heap_idx = i;
}

static void heap_up(uc_frontier *f, size_t i) {
  uc_fhost *h = f->heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (f->heap[parent]->wake_at <= h->wake_at)
      break;
    heap_set(f, i, f->heap[parent]);
    i = parent;
  }
  heap_set(f, i, h);
}

static void heap_down(uc_frontier *f, size_t i) {
  uc_fhost *h = f->heap[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= f->heap_len)
      break;
    if (child + 1 < f->heap_len && f->heap[child + 1]->wake_at < f->heap[child]->wake_at)
      child++;
    if (h->wake_at <= f->heap[child]->wake_at)
      break;
    heap_set(f, i, f->heap[child]);
    i = child;
  }
  heap_set(f, i, h);
}

static void heap_insert(uc_frontier *f, uc_fhost *h, uint64_t wake_at) {
  assert(f->heap_len < f->heap_cap);
  h->wake_at = wake_at;
  h->state = HOST_WAITING;
  heap_set(f, f->heap_len++, h);
  heap_up(f, h->heap_idx);
}

static void heap_remove(uc_frontier *f, uc_fhost *h) {
  size_t i = h->heap_idx;
  uc_fhost *last = f->heap[--f->heap_len];
  if (last != h) {
    heap_set(f, i, last);
    heap_up(f, i);
    heap_down(f, last->heap_idx);
  }
  h->state = HOST_IDLE;
}

static void heap_rekey(uc_frontier *f, uc_fhost *h, uint64_t wake_at) {
  uint64_t old = h->wake_at;
  h->wake_at = wake_at;
  if (wake_at < old)
    heap_up(f, h->heap_idx);
  else
    heap_down(f, h->heap_idx);
}

/* ---- scheduling ------------------------------------------------------------ */

static void unlink_host(uc_frontier *f, uc_fhost *h) {
  if (h->state == HOST_READY)
    ready_remove(f, h);
  else if (h->state == HOST_WAITING)
    heap_remove(f, h);
}

static bool eligible(const uc_frontier *f, const uc_fhost *h) {
  return h->len > 0 && !h->held && h->inflight < f->opts.per_host;
}

/* When an eligible host can dispatch: its next token, or the end of its
 * deferral, whichever is later. */
static uint64_t ready_at(const uc_fhost *h, uint64_t now_ms) {
  uint64_t t = uc_tbucket_next_token_at(&h->bucket, now_ms);
  return t > h->defer_until ? t : h->defer_until;
}

/* Put `h` in the state its fields call for at now_ms. A host that is READY
 * and stays READY keeps its place in the round-robin order. */
static void reschedule(uc_frontier *f, uc_fhost *h, uint64_t now_ms) {
  if (!eligible(f, h)) {
    unlink_host(f, h);
    return;
  }
  uint64_t t = ready_at(h, now_ms);
  if (t <= now_ms) {
    if (h->state != HOST_READY) {
      unlink_host(f, h);
      ready_append(f, h);
    }
  } else if (h->state == HOST_WAITING) {
    if (t != h->wake_at)
      heap_rekey(f, h, t);
  } else {
    unlink_host(f, h);
    h->wait_start = now_ms;
    heap_insert(f, h, t);
  }
}

/* ---- host map ------------------------------------------------------------- */

static size_t map_probe(uc_fhost *const *map, size_t mask, uint64_t hash, const char *key) {
  size_t i = (size_t)hash & mask;
  while (map[i] != NULL && !(map[i]->hash == hash && strcmp(map[i]->key, key) == 0))
    i = (i + 1) & mask;
  return i;
}

static int map_grow(uc_frontier *f) {
  size_t slots = (f->map_mask + 1) * 2;
  uc_fhost **map = calloc(slots, sizeof(*map));
  if (map == NULL)
    return UC_ENOMEM;
  for (size_t i = 0; i <= f->map_mask; i++) {
    uc_fhost *h = f->map[i];
    if (h == NULL)
      continue;
    size_t j = (size_t)h->hash & (slots - 1);
    while (map[j] != NULL)
      j = (j + 1) & (slots - 1);
    map[j] = h;
  }
  free(f->map);
  f->map = map;
  f->map_mask = slots - 1;
  return 0;
}

/* Room for every host in the heap, so that reschedule() never allocates. */
static int heap_reserve(uc_frontier *f, size_t n) {
  if (n <= f->heap_cap)
    return 0;
  size_t cap = f->heap_cap ? f->heap_cap * 2 : 16;
  while (cap < n)
    cap *= 2;
  uc_fhost **heap = realloc(f->heap, cap * sizeof(*heap));
  if (heap == NULL)
    return UC_ENOMEM;
  f->heap = heap;
  f->heap_cap = cap;
  return 0;
}

uc_fhost *uc_frontier_host(uc_frontier *f, const char *host_key, bool create, bool *created) {
  if (created)
    *created = false;
  uint64_t hash = uc_siphash24(host_hash_key, host_key, strlen(host_key));
  size_t i = map_probe(f->map, f->map_mask, hash, host_key);
  if (f->map[i] != NULL)
    return f->map[i];
  if (!create)
    return NULL;

  size_t slots = f->map_mask + 1;
  if (f->nhosts + 1 > slots - slots / 4) {
    if (map_grow(f) != 0)
      return NULL;
    i = map_probe(f->map, f->map_mask, hash, host_key);
  }
  if (heap_reserve(f, f->nhosts + 1) != 0)
    return NULL;
  uc_fhost *h = calloc(1, sizeof(*h));
  if (h == NULL)
    return NULL;
  h->key = strdup(host_key);
  if (h->key == NULL) {
    free(h);
    return NULL;
  }
  h->hash = hash;
  h->state = HOST_IDLE;
  uc_tbucket_init(&h->bucket, f->opts.rate, f->opts.burst, f->now);
  if (f->empty_start)
    h->bucket.tokens = 0;
  f->map[i] = h;
  f->nhosts++;
  if (created)
    *created = true;
  return h;
}

void uc_frontier_set_empty_start(uc_frontier *f, bool on) { f->empty_start = on; }

/* ---- queues -------------------------------------------------------------- */

static int ring_grow(uc_fhost *h) {
  size_t cap = h->cap ? h->cap * 2 : 4;
  struct fitem *ring = malloc(cap * sizeof(*ring));
  if (ring == NULL)
    return UC_ENOMEM;
  for (size_t i = 0; i < h->len; i++)
    ring[i] = h->ring[(h->head + i) % h->cap];
  free(h->ring);
  h->ring = ring;
  h->cap = cap;
  h->head = 0;
  return 0;
}

static void free_items(uc_fhost *h) {
  for (size_t i = 0; i < h->len; i++) {
    struct fitem *it = &h->ring[(h->head + i) % h->cap];
    free(it->url);
    free(it->parent);
  }
  h->head = 0;
  h->len = 0;
}

int uc_frontier_push(uc_frontier *f, uc_fhost *h, uint64_t id, const char *url, const char *parent,
                     int depth, unsigned kind, unsigned attempts, bool front, uint64_t now_ms) {
  note_time(f, now_ms);
  if (h->len == h->cap && ring_grow(h) != 0)
    return UC_ENOMEM;
  struct fitem it = {.id = id, .depth = depth, .attempts = attempts, .kind = kind, .queued_ms = now_ms};
  it.url = strdup(url);
  it.parent = parent ? strdup(parent) : NULL;
  if (it.url == NULL || (parent != NULL && it.parent == NULL)) {
    free(it.url);
    free(it.parent);
    return UC_ENOMEM;
  }
  if (front) {
    h->head = (h->head + h->cap - 1) % h->cap;
    h->ring[h->head] = it;
  } else {
    h->ring[(h->head + h->len) % h->cap] = it;
  }
  h->len++;
  f->queued++;
  reschedule(f, h, now_ms);
  return 0;
}

/* ---- dispatch ------------------------------------------------------------ */

int uc_frontier_pop(uc_frontier *f, uint64_t now_ms, uc_frontier_item *item, uint64_t *wake_ms) {
  note_time(f, now_ms);
  /* Hosts whose time has come join the ready list's tail. */
  while (f->heap_len > 0 && f->heap[0]->wake_at <= now_ms) {
    uc_fhost *h = f->heap[0];
    heap_remove(f, h);
    h->waited_from = h->wait_start;
    h->waited_until = h->wake_at;
    reschedule(f, h, now_ms);
  }

  while (f->ready_head != NULL) {
    uc_fhost *h = f->ready_head;
    ready_remove(f, h);
    /* Note: a READY host can lack a token only if this call's now_ms is
     * earlier than the one it was made ready at (a clock that went back);
     * send it to the heap rather than dispatching early. */
    if (h->defer_until > now_ms || !uc_tbucket_take(&h->bucket, now_ms)) {
      uint64_t t = ready_at(h, now_ms);
      h->wait_start = now_ms;
      heap_insert(f, h, t > now_ms ? t : now_ms + 1);
      continue;
    }
    struct fitem *it = &h->ring[h->head];
    h->head = (h->head + 1) % h->cap;
    h->len--;
    f->queued--;
    h->inflight++;
    if (it->kind == 0)
      h->pages++;
    *item = (uc_frontier_item){.id = it->id,
                               .url = it->url,
                               .parent = it->parent,
                               .depth = it->depth,
                               .attempts = it->attempts,
                               .kind = it->kind,
                               .host = h,
                               .queued_ms = it->queued_ms};
    /* Only the wait this URL sat through; the next pop starts afresh. */
    item->wait_from_ms = h->waited_from > it->queued_ms ? h->waited_from : it->queued_ms;
    item->wait_until_ms =
        h->waited_until > item->wait_from_ms ? h->waited_until : item->wait_from_ms;
    h->waited_from = h->waited_until = 0;
    reschedule(f, h, now_ms); /* to the ready tail if it still can go */
    return 0;
  }

  if (f->heap_len > 0) {
    if (wake_ms)
      *wake_ms = f->heap[0]->wake_at;
    return UC_EAGAIN;
  }
  return UC_EEMPTY;
}

void uc_frontier_done(uc_frontier *f, uc_fhost *h, uint64_t now_ms) {
  note_time(f, now_ms);
  assert(h->inflight > 0);
  if (h->inflight > 0)
    h->inflight--;
  reschedule(f, h, now_ms);
}

void uc_frontier_hold(uc_frontier *f, uc_fhost *h) {
  h->held = true;
  unlink_host(f, h);
}

void uc_frontier_release(uc_frontier *f, uc_fhost *h, uint64_t now_ms) {
  note_time(f, now_ms);
  h->held = false;
  reschedule(f, h, now_ms);
}

void uc_frontier_defer(uc_frontier *f, uc_fhost *h, uint64_t until_ms, uint64_t now_ms) {
  note_time(f, now_ms);
  if (until_ms > h->defer_until)
    h->defer_until = until_ms;
  reschedule(f, h, now_ms);
}

void uc_frontier_set_rate(uc_frontier *f, uc_fhost *h, double rate, double burst, uint64_t now_ms) {
  note_time(f, now_ms);
  uc_tbucket_set_rate(&h->bucket, rate, burst, now_ms);
  reschedule(f, h, now_ms);
}

/* ---- lifecycle and accessors --------------------------------------------- */

int uc_frontier_new(uc_frontier **out, const uc_frontier_opts *o, uint64_t now_ms) {
  *out = NULL;
  uc_frontier_opts opts = {.rate = 2, .burst = 2, .per_host = 2};
  if (o != NULL)
    opts = *o;
  if (opts.per_host == 0)
    return UC_EINVAL;
  uc_frontier *f = calloc(1, sizeof(*f));
  if (f == NULL)
    return UC_ENOMEM;
  f->opts = opts;
  f->now = now_ms;
  f->map_mask = 15;
  f->map = calloc(f->map_mask + 1, sizeof(*f->map));
  if (f->map == NULL) {
    free(f);
    return UC_ENOMEM;
  }
  *out = f;
  return 0;
}

void uc_frontier_free(uc_frontier *f) {
  if (f == NULL)
    return;
  for (size_t i = 0; i <= f->map_mask; i++) {
    uc_fhost *h = f->map[i];
    if (h == NULL)
      continue;
    free_items(h);
    free(h->ring);
    free(h->key);
    free(h);
  }
  free(f->map);
  free(f->heap);
  free(f);
}

size_t uc_frontier_clear(uc_frontier *f) {
  size_t dropped = f->queued;
  for (size_t i = 0; i <= f->map_mask; i++) {
    uc_fhost *h = f->map[i];
    if (h == NULL || h->len == 0)
      continue;
    free_items(h);
    unlink_host(f, h); /* nothing queued: IDLE */
  }
  f->queued = 0;
  return dropped;
}

const char *uc_fhost_key(const uc_fhost *h) {
  return h->key;
}

void *uc_fhost_data(const uc_fhost *h) {
  return h->data;
}

void uc_fhost_set_data(uc_fhost *h, void *data) {
  h->data = data;
}

unsigned uc_fhost_inflight(const uc_fhost *h) {
  return h->inflight;
}

size_t uc_fhost_queued(const uc_fhost *h) {
  return h->len;
}

uint64_t uc_fhost_pages(const uc_fhost *h) {
  return h->pages;
}

size_t uc_frontier_queued(const uc_frontier *f) {
  return f->queued;
}

size_t uc_frontier_host_count(const uc_frontier *f) {
  return f->nhosts;
}

/* ---- invariant check ------------------------------------------------------ */

int uc_frontier_check(const uc_frontier *f) {
  size_t hosts = 0, queued = 0, ready = 0, waiting = 0;
  for (size_t i = 0; i <= f->map_mask; i++) {
    const uc_fhost *h = f->map[i];
    if (h == NULL)
      continue;
    hosts++;
    queued += h->len;
    if (map_probe(f->map, f->map_mask, h->hash, h->key) != i)
      return 1; /* map: host not where lookup finds it */
    if (h->len > h->cap || h->inflight > f->opts.per_host)
      return 2; /* queue or in-flight count out of range */
    bool want = eligible(f, h);
    switch (h->state) {
    case HOST_IDLE:
      if (want)
        return 3; /* eligible host left idle */
      break;
    case HOST_READY:
      if (!want)
        return 4; /* ineligible host on the ready list */
      if (ready_at(h, f->now) > f->now)
        return 5; /* ready host without a token, or deferred */
      ready++;
      break;
    case HOST_WAITING:
      if (!want)
        return 6; /* ineligible host in the heap */
      if (h->heap_idx >= f->heap_len || f->heap[h->heap_idx] != h)
        return 7; /* heap index wrong */
      if (h->wake_at > f->now && h->wake_at != ready_at(h, f->now))
        return 8; /* heap key stale */
      waiting++;
      break;
    default:
      return 9;
    }
  }
  if (hosts != f->nhosts || queued != f->queued)
    return 10; /* counters */
  if (waiting != f->heap_len || f->heap_len > f->heap_cap || f->heap_cap < f->nhosts)
    return 11; /* heap size */
  for (size_t i = 1; i < f->heap_len; i++)
    if (f->heap[(i - 1) / 2]->wake_at > f->heap[i]->wake_at)
      return 12; /* heap order */
  size_t n = 0;
  const uc_fhost *prev = NULL;
  for (const uc_fhost *h = f->ready_head; h != NULL; prev = h, h = h->next) {
    if (h->state != HOST_READY || h->prev != prev || ++n > ready)
      return 13; /* ready list links */
  }
  if (prev != f->ready_tail || n != ready || n != f->nready)
    return 14; /* ready list length */
  return 0;
}
