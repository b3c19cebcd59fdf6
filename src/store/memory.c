/* memory.c - the memory store (see store_memory.h). */
#include "uvcrawl/store_memory.h"

#include <stdlib.h>
#include <string.h>

#include "uvcrawl/error.h"

/* An id -> state map: open addressing, linear probing, backward-shift
 * deletion (no tombstones), so a crawl's churn of ids never degrades it.
 * Slot key 0 is empty (ids are > 0). */
typedef struct id_map {
  uint64_t *keys;
  uint8_t *vals;
  size_t mask; /* capacity - 1, or 0 before the first insert */
  size_t count;
} id_map;

typedef struct meta_entry {
  char *key, *value;
  struct meta_entry *next;
} meta_entry;

typedef struct memory_store {
  uc_store base;
  id_map live;  /* live URLs: id -> UC_URL_QUEUED or UC_URL_LEASED */
  id_map hosts; /* host ids seen (value unused) */
  uint64_t counts[UC_URL_STATE_COUNT_];
  meta_entry *meta;
  uint64_t seq; /* groups committed, all durable at once */
} memory_store;

static size_t slot_of(const id_map *m, uint64_t id) {
  uint64_t h = id * 0x9e3779b97f4a7c15ull; /* Fibonacci hashing spreads sequential ids */
  return (size_t)(h >> 17) & m->mask;
}

static size_t map_find(const id_map *m, uint64_t id) {
  if (m->mask == 0)
    return SIZE_MAX;
  for (size_t i = slot_of(m, id);; i = (i + 1) & m->mask) {
    if (m->keys[i] == id)
      return i;
    if (m->keys[i] == 0)
      return SIZE_MAX;
  }
}

static int map_grow(id_map *m) {
  size_t cap = m->mask == 0 ? 64 : (m->mask + 1) * 2;
  id_map bigger = {.keys = calloc(cap, sizeof(uint64_t)), .vals = calloc(cap, 1),
                   .mask = cap - 1, .count = m->count};
  if (bigger.keys == NULL || bigger.vals == NULL) {
    free(bigger.keys);
    free(bigger.vals);
    return UC_ENOMEM;
  }
  for (size_t i = 0; m->mask != 0 && i <= m->mask; i++) {
    if (m->keys[i] == 0)
      continue;
    size_t j = slot_of(&bigger, m->keys[i]);
    while (bigger.keys[j] != 0)
      j = (j + 1) & bigger.mask;
    bigger.keys[j] = m->keys[i];
    bigger.vals[j] = m->vals[i];
  }
  free(m->keys);
  free(m->vals);
  *m = bigger;
  return 0;
}

/* Insert a new id; 1 if inserted, 0 if present, or UC_ENOMEM. */
static int map_insert(id_map *m, uint64_t id, uint8_t val) {
  if (map_find(m, id) != SIZE_MAX)
    return 0;
  if ((m->count + 1) * 4 > (m->mask + 1) * 3 && map_grow(m) != 0)
    return UC_ENOMEM;
  size_t i = slot_of(m, id);
  while (m->keys[i] != 0)
    i = (i + 1) & m->mask;
  m->keys[i] = id;
  m->vals[i] = val;
  m->count++;
  return 1;
}

/* Remove slot i, shifting back the entries of its probe run. */
static void map_remove_at(id_map *m, size_t i) {
  size_t j = i;
  for (;;) {
    j = (j + 1) & m->mask;
    if (m->keys[j] == 0)
      break;
    size_t home = slot_of(m, m->keys[j]);
    /* Entry j may move to i if its home is not in (i, j] (cyclically). */
    bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays)
      continue;
    m->keys[i] = m->keys[j];
    m->vals[i] = m->vals[j];
    i = j;
  }
  m->keys[i] = 0;
  m->count--;
}

static void map_free(id_map *m) {
  free(m->keys);
  free(m->vals);
}

static int mem_put_url(uc_store *s, const uc_store_url *u) {
  memory_store *ms = (memory_store *)s;
  int rc = map_insert(&ms->live, u->id, UC_URL_QUEUED);
  if (rc < 0)
    return rc;
  if (rc == 0)
    return UC_EINVAL; /* an id put twice */
  ms->counts[UC_URL_QUEUED]++;
  return 0;
}

/* The legal moves of a live URL (store.h). */
static bool legal(uc_url_state from, uc_url_state to) {
  if (from == UC_URL_QUEUED)
    return to == UC_URL_LEASED || to == UC_URL_FAILED;
  return from == UC_URL_LEASED && to != UC_URL_LEASED;
}

static int mem_set_state(uc_store *s, uint64_t id, uc_url_state state, int status,
                         const char *error) {
  memory_store *ms = (memory_store *)s;
  size_t i = map_find(&ms->live, id);
  if (i == SIZE_MAX)
    return UC_ENOTFOUND;
  uc_url_state from = (uc_url_state)ms->live.vals[i];
  if (!legal(from, state))
    return UC_EINVAL;
  ms->counts[from]--;
  ms->counts[state]++;
  if (state == UC_URL_DONE || state == UC_URL_FAILED)
    map_remove_at(&ms->live, i);
  else
    ms->live.vals[i] = (uint8_t)state;
  return 0;
}

static int mem_put_host(uc_store *s, const uc_store_host *h) {
  memory_store *ms = (memory_store *)s;
  int rc = map_insert(&ms->hosts, h->id, 0);
  return rc < 0 ? rc : 0;
}

static int mem_put_scope(uc_store *s, const char *host, bool adopted) { return 0; }

static meta_entry *meta_find(memory_store *ms, const char *key) {
  for (meta_entry *e = ms->meta; e != NULL; e = e->next)
    if (strcmp(e->key, key) == 0)
      return e;
  return NULL;
}

static int mem_put_meta(uc_store *s, const char *key, const char *value) {
  memory_store *ms = (memory_store *)s;
  char *copy = strdup(value);
  if (copy == NULL)
    return UC_ENOMEM;
  meta_entry *e = meta_find(ms, key);
  if (e == NULL) {
    if ((e = calloc(1, sizeof *e)) == NULL || (e->key = strdup(key)) == NULL) {
      free(e);
      free(copy);
      return UC_ENOMEM;
    }
    e->next = ms->meta;
    ms->meta = e;
  }
  free(e->value);
  e->value = copy;
  return 0;
}

static int mem_get_meta(uc_store *s, const char *key, char **value) {
  meta_entry *e = meta_find((memory_store *)s, key);
  if (e == NULL)
    return 0;
  return (*value = strdup(e->value)) != NULL ? 0 : UC_ENOMEM;
}

static int mem_commit(uc_store *s, uint64_t *seq) {
  *seq = ++((memory_store *)s)->seq;
  return 0;
}

static uint64_t mem_durable_seq(uc_store *s) { return ((memory_store *)s)->seq; }

static int mem_sync(uc_store *s) { return 0; }

static int mem_failed(uc_store *s, char *msg, size_t msglen) { return 0; }

/* A memory store is new with its process: there is never anything to load. */
static int mem_load(uc_store *s, const uc_store_loader *l, void *ctx) { return 0; }

static int mem_counts(uc_store *s, uc_store_counts *out) {
  memory_store *ms = (memory_store *)s;
  memcpy(out->urls, ms->counts, sizeof out->urls);
  out->hosts = ms->hosts.count;
  return 0;
}

static void mem_set_hooks(uc_store *s, void (*wake)(void *), uc_store_pre_commit_fn pre_commit,
                          void *ctx) {
  /* Commits are durable when made: nothing to wake, nothing to flush first. */
}

/* The crawl keeps a memory store's whole queue in its frontier. */
static int mem_refill(uc_store *s, uint64_t host_id, uint64_t after_id, int max_depth,
                      size_t limit) {
  return UC_EINVAL;
}

static int mem_take_refills(uc_store *s, uc_store_refill_fn fn, void *ctx) { return 0; }

/* Nothing is committed anywhere: no commits to show. */
static size_t mem_take_commits(uc_store *s, uc_store_commit_info *out, size_t max) { return 0; }

static void mem_free(uc_store *s) {
  memory_store *ms = (memory_store *)s;
  map_free(&ms->live);
  map_free(&ms->hosts);
  for (meta_entry *e = ms->meta, *next; e != NULL; e = next) {
    next = e->next;
    free(e->key);
    free(e->value);
    free(e);
  }
  free(ms);
}

static const uc_store_ops memory_ops = {
    .name = "memory", .durable = false,
    .put_url = mem_put_url, .set_state = mem_set_state, .put_host = mem_put_host,
    .put_scope = mem_put_scope, .put_meta = mem_put_meta, .commit = mem_commit,
    .durable_seq = mem_durable_seq, .sync = mem_sync, .failed = mem_failed,
    .get_meta = mem_get_meta, .load = mem_load, .counts = mem_counts,
    .set_hooks = mem_set_hooks, .refill = mem_refill, .take_refills = mem_take_refills,
    .take_commits = mem_take_commits,
    .free = mem_free,
};

int uc_store_memory_new(uc_store **out) {
  memory_store *ms = calloc(1, sizeof *ms);
  if (ms == NULL)
    return UC_ENOMEM;
  ms->base.ops = &memory_ops;
  *out = &ms->base;
  return 0;
}
