/* dns.c - c-ares driven by libuv, a TTL cache and --resolve pins (see dns.h). */
#include "dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "transfer.h"
#include "uvcrawl/error.h"

#define TTL_MIN_MS 30000u      /* hosts-file answers carry no TTL */
#define TTL_MAX_MS 3600000u
#define NEGATIVE_TTL_MS 10000u /* a failed name is asked again after this */

typedef enum entry_state { ENTRY_PENDING, ENTRY_OK, ENTRY_FAILED } entry_state;

/* One cached name. */
typedef struct dns_entry {
  struct dns_entry *next;       /* hash chain */
  struct dns_entry *next_ready; /* answered, waiters not yet told */
  entry_state state;
  bool in_ready;
  uint64_t expires_ms;
  char addr[LOOP_DNS_ADDR_MAX];
  loop_dns_waiter *waiters;     /* FIFO through waiters_tail */
  loop_dns_waiter **waiters_tail;
  loop_dns *dns;
  char name[];
} dns_entry;

/* One socket c-ares asked us to watch. */
typedef struct dns_socket {
  uv_poll_t poll;
  ares_socket_t fd;
  loop_dns *dns;
  struct dns_socket *next;
} dns_socket;

struct loop_dns {
  uv_loop_t *loop;
  ares_channel channel;
  bool channel_live;
  uv_timer_t timer;      /* ares timeouts */
  uv_idle_t deliver;     /* tells waiters, outside any c-ares callback */
  unsigned open_handles; /* timer + deliver; freed when both closed */
  const uc_config *cfg;
  uint64_t queries;      /* queries sent */
  uint64_t cache_hits;   /* answered from a pin or the cache */
  bool poll_failed;      /* a socket could not be watched (said once) */
  dns_entry **buckets;
  size_t nbuckets, nentries;
  dns_entry *ready;
  dns_socket *sockets;
  uint64_t now_ms;       /* loop time of the last call, for expiry */
};

static uint64_t name_hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static dns_entry *find_entry(loop_dns *d, const char *name) {
  for (dns_entry *e = d->buckets[name_hash(name) & (d->nbuckets - 1)]; e; e = e->next)
    if (strcmp(e->name, name) == 0)
      return e;
  return NULL;
}

/* Double the table when it is as full as it has buckets. */
static void maybe_grow(loop_dns *d) {
  if (d->nentries < d->nbuckets)
    return;
  size_t n = d->nbuckets * 2;
  dns_entry **b = calloc(n, sizeof *b);
  if (b == NULL)
    return; /* keep the longer chains; still correct */
  for (size_t i = 0; i < d->nbuckets; i++)
    for (dns_entry *e = d->buckets[i], *next; e; e = next) {
      next = e->next;
      size_t k = name_hash(e->name) & (n - 1);
      e->next = b[k];
      b[k] = e;
    }
  free(d->buckets);
  d->buckets = b;
  d->nbuckets = n;
}

static dns_entry *add_entry(loop_dns *d, const char *name) {
  size_t len = strlen(name);
  dns_entry *e = calloc(1, sizeof *e + len + 1);
  if (e == NULL)
    return NULL;
  memcpy(e->name, name, len + 1);
  e->dns = d;
  e->waiters_tail = &e->waiters;
  maybe_grow(d);
  size_t k = name_hash(name) & (d->nbuckets - 1);
  e->next = d->buckets[k];
  d->buckets[k] = e;
  d->nentries++;
  return e;
}

static void timeout_cb(uv_timer_t *t);

/* Re-arm the ares timeout timer for the channel's next deadline. */
static void arm_timer(loop_dns *d) {
  struct timeval tv;
  if (!d->channel_live || ares_timeout(d->channel, NULL, &tv) == NULL) {
    uv_timer_stop(&d->timer);
    return;
  }
  uint64_t ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)(tv.tv_usec + 999) / 1000;
  uv_timer_start(&d->timer, timeout_cb, ms, 0);
}

static void timeout_cb(uv_timer_t *t) {
  loop_dns *d = t->data;
  ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  arm_timer(d);
}

static void socket_closed_cb(uv_handle_t *h) { free(h->data); }

static void socket_poll_cb(uv_poll_t *p, int status, int events) {
  dns_socket *s = p->data;
  loop_dns *d = s->dns;
  ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;
  /* Note: on a poll error let c-ares read and write: it then sees the
   * socket's error itself and fails over to the next server. */
  if (status < 0 || (events & UV_READABLE))
    rfd = s->fd;
  if (status < 0 || (events & UV_WRITABLE))
    wfd = s->fd;
  ares_process_fd(d->channel, rfd, wfd);
  arm_timer(d);
}

static dns_socket *find_socket(loop_dns *d, ares_socket_t fd, dns_socket ***link) {
  for (dns_socket **pp = &d->sockets; *pp; pp = &(*pp)->next)
    if ((*pp)->fd == fd) {
      *link = pp;
      return *pp;
    }
  return NULL;
}

/* A DNS socket that cannot be watched: its queries time out, so the
 * names fail as "dns"; say why once, with libuv's own error. */
static void poll_failed(loop_dns *d, int uv_err) {
  if (!d->poll_failed)
    fprintf(stderr, "uvcrawl: cannot watch a DNS socket: %s\n", uv_strerror(uv_err));
  d->poll_failed = true;
}

/* c-ares tells which sockets to watch. Note: it calls this with 0, 0
 * before it closes a socket, so the poll handle stops before the fd goes. */
static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable) {
  loop_dns *d = data;
  dns_socket **link = NULL;
  dns_socket *s = find_socket(d, fd, &link);
  if (!readable && !writable) {
    if (s != NULL) {
      *link = s->next;
      uv_poll_stop(&s->poll);
      uv_close((uv_handle_t *)&s->poll, socket_closed_cb);
    }
    return;
  }
  if (s == NULL) {
    s = calloc(1, sizeof *s);
    int rc = s == NULL ? UV_ENOMEM : uv_poll_init_socket(d->loop, &s->poll, fd);
    if (rc != 0) {
      free(s); /* c-ares times the query out; the waiters see a failure */
      poll_failed(d, rc);
      return;
    }
    s->fd = fd;
    s->dns = d;
    s->poll.data = s;
    s->next = d->sockets;
    d->sockets = s;
  }
  int rc = uv_poll_start(&s->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0),
                         socket_poll_cb);
  if (rc != 0)
    poll_failed(d, rc); /* the query times out like a lost answer */
}

static void deliver_cb(uv_idle_t *idle) {
  loop_dns *d = idle->data;
  uv_idle_stop(idle);
  while (d->ready != NULL) {
    dns_entry *e = d->ready;
    d->ready = e->next_ready;
    e->in_ready = false;
    loop_dns_waiter *w = e->waiters;
    e->waiters = NULL;
    e->waiters_tail = &e->waiters;
    int status = e->state == ENTRY_OK ? 0 : e->state == ENTRY_FAILED ? UC_ENOTFOUND : UC_ECLOSED;
    if (e->state == ENTRY_PENDING)
      e->state = ENTRY_FAILED, e->expires_ms = 0; /* cancelled: ask again next time */
    while (w != NULL) {
      loop_dns_waiter *next = w->next;
      w->cb(w->arg, status, e->addr);
      w = next;
    }
  }
}

/* Queue an entry's waiters for delivery from the idle handle. */
static void mark_ready(dns_entry *e) {
  loop_dns *d = e->dns;
  if (!e->in_ready) {
    e->in_ready = true;
    e->next_ready = d->ready;
    d->ready = e;
  }
  uv_idle_start(&d->deliver, deliver_cb);
}

/* The first address of `family` among the nodes, as CURLOPT_RESOLVE
 * wants it ("[v6]" or "v4") appended to `out` after a comma if not first.
 * Returns the node, or NULL if there is none of that family. */
static const struct ares_addrinfo_node *add_first(const struct ares_addrinfo *res, int family,
                                                  char *out, size_t outlen) {
  for (const struct ares_addrinfo_node *n = res != NULL ? res->nodes : NULL; n; n = n->ai_next) {
    if (n->ai_family != family)
      continue;
    char text[INET6_ADDRSTRLEN];
    const void *a = family == AF_INET
                        ? (const void *)&((struct sockaddr_in *)n->ai_addr)->sin_addr
                        : (const void *)&((struct sockaddr_in6 *)n->ai_addr)->sin6_addr;
    inet_ntop(family, a, text, sizeof text);
    size_t len = strlen(out);
    snprintf(out + len, outlen - len, family == AF_INET ? "%s%s" : "%s[%s]", len ? "," : "",
             text);
    return n;
  }
  return NULL;
}

/* Note: both families go to curl, IPv6 first ("[v6],v4"): curl's happy
 * eyeballs (RFC 8305) then connects to whichever answers, so a host whose
 * AAAA leads nowhere still gets its IPv4, and one reachable over IPv6
 * only (its A record stale) gets its IPv6. One address of each family is
 * enough for that and fits LOOP_DNS_ADDR_MAX. */
static void addrinfo_cb(void *arg, int status, int timeouts, struct ares_addrinfo *res) {
  dns_entry *e = arg;
  loop_dns *d = e->dns;
  char list[LOOP_DNS_ADDR_MAX] = "";
  const struct ares_addrinfo_node *v6 = NULL, *v4 = NULL;
  if (status == ARES_SUCCESS) {
    v6 = add_first(res, AF_INET6, list, sizeof list);
    v4 = add_first(res, AF_INET, list, sizeof list);
  }
  const struct ares_addrinfo_node *pick = v4 != NULL ? v4 : v6;
  if (status == ARES_ECANCELLED || status == ARES_EDESTRUCTION) {
    e->state = ENTRY_PENDING; /* deliver_cb reports UC_ECLOSED */
  } else if (status == ARES_SUCCESS && pick != NULL) {
    memcpy(e->addr, list, sizeof e->addr);
    uint64_t ttl = (uint64_t)(pick->ai_ttl > 0 ? pick->ai_ttl : 0) * 1000;
    ttl = ttl < TTL_MIN_MS ? TTL_MIN_MS : ttl > TTL_MAX_MS ? TTL_MAX_MS : ttl;
    e->state = ENTRY_OK;
    e->expires_ms = d->now_ms + ttl;
  } else {
    e->state = ENTRY_FAILED;
    e->expires_ms = d->now_ms + NEGATIVE_TTL_MS;
  }
  if (res != NULL)
    ares_freeaddrinfo(res);
  mark_ready(e);
}

/* An address literal as the URL has it: "[::1]" or "127.0.0.1". */
static bool is_literal(const char *host) {
  unsigned char buf[sizeof(struct in6_addr)];
  size_t len = strlen(host);
  if (len < 3 || len >= LOOP_DNS_ADDR_MAX || host[0] != '[')
    return inet_pton(AF_INET, host, buf) == 1;
  char v6[LOOP_DNS_ADDR_MAX];
  memcpy(v6, host + 1, len - 2);
  v6[len - 2] = '\0';
  return host[len - 1] == ']' && inet_pton(AF_INET6, v6, buf) == 1;
}

int loop_dns_resolve(loop_dns *d, const char *host, int port, char addr[LOOP_DNS_ADDR_MAX],
                     loop_dns_waiter *w, loop_dns_cb cb, void *arg, uint64_t now_ms) {
  d->now_ms = now_ms;
  if (uc_transfer_pin(d->cfg, host, port, addr)) {
    d->cache_hits++;
    return 0;
  }
  /* Note: a literal must not reach c-ares, which cannot look up "[::1]";
   * the address is the host itself, and curl connects to it directly. */
  if (is_literal(host)) {
    snprintf(addr, LOOP_DNS_ADDR_MAX, "%s", host);
    return 0;
  }
  dns_entry *e = find_entry(d, host);
  if (e != NULL && e->state != ENTRY_PENDING && e->expires_ms > now_ms && !e->in_ready) {
    d->cache_hits++;
    if (e->state == ENTRY_FAILED)
      return UC_ENOTFOUND;
    memcpy(addr, e->addr, LOOP_DNS_ADDR_MAX);
    return 0;
  }
  if (e == NULL && (e = add_entry(d, host)) == NULL)
    return UC_ENOMEM;
  w->next = NULL;
  w->cb = cb;
  w->arg = arg;
  *e->waiters_tail = w;
  e->waiters_tail = &w->next;
  if (e->state == ENTRY_PENDING && e->waiters != w)
    return UC_EAGAIN; /* a query for this name is already in flight */
  if (e->in_ready)
    return UC_EAGAIN; /* answered; the idle handle tells everyone soon */
  e->state = ENTRY_PENDING;
  d->queries++;
  struct ares_addrinfo_hints hints = {.ai_flags = ARES_AI_NOSORT, .ai_family = AF_UNSPEC};
  ares_getaddrinfo(d->channel, host, NULL, &hints, addrinfo_cb, e);
  arm_timer(d);
  return UC_EAGAIN;
}

int loop_dns_new(loop_dns **out, uv_loop_t *loop, const uc_config *cfg, char *err,
                 size_t errlen) {
  loop_dns *d = calloc(1, sizeof *d);
  if (d == NULL || (d->buckets = calloc(64, sizeof *d->buckets)) == NULL) {
    free(d);
    return UC_ENOMEM;
  }
  d->nbuckets = 64;
  d->loop = loop;
  d->cfg = cfg;
  struct ares_options opts = {.sock_state_cb = sock_state_cb, .sock_state_cb_data = d,
                              .timeout = 2000, .tries = 2};
  int rc = ares_library_init(ARES_LIB_INIT_ALL);
  if (rc == ARES_SUCCESS)
    rc = ares_init_options(&d->channel, &opts,
                           ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
  if (rc != ARES_SUCCESS) {
    snprintf(err, errlen, "cannot start the resolver: %s", ares_strerror(rc));
    free(d->buckets);
    free(d);
    return UC_EIO;
  }
  d->channel_live = true;
  if (cfg->dns_server != NULL) {
    /* ADDR[:PORT]; an IPv6 address with a port needs brackets. */
    rc = ares_set_servers_ports_csv(d->channel, cfg->dns_server);
    if (rc != ARES_SUCCESS) {
      snprintf(err, errlen, "bad --dns-server '%s': %s", cfg->dns_server, ares_strerror(rc));
      ares_destroy(d->channel);
      ares_library_cleanup();
      free(d->buckets);
      free(d);
      return UC_EINVAL;
    }
  }
  uv_timer_init(loop, &d->timer);
  uv_idle_init(loop, &d->deliver);
  d->timer.data = d->deliver.data = d;
  d->open_handles = 2;
  *out = d;
  return 0;
}

void loop_dns_cancel_all(loop_dns *d) {
  if (d->channel_live)
    ares_cancel(d->channel);
  arm_timer(d);
}

static void handle_closed_cb(uv_handle_t *h) {
  loop_dns *d = h->data;
  if (--d->open_handles > 0)
    return;
  for (size_t i = 0; i < d->nbuckets; i++)
    for (dns_entry *e = d->buckets[i], *next; e; e = next) {
      next = e->next;
      free(e);
    }
  free(d->buckets);
  free(d);
}

void loop_dns_close(loop_dns *d) {
  /* ares_destroy ends pending queries (their waiters must be gone) and
   * closes its sockets, calling sock_state_cb(0, 0) for each. */
  ares_destroy(d->channel);
  d->channel_live = false;
  ares_library_cleanup();
  while (d->sockets != NULL) {
    dns_socket *s = d->sockets;
    d->sockets = s->next;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, socket_closed_cb);
  }
  d->ready = NULL;
  uv_close((uv_handle_t *)&d->timer, handle_closed_cb);
  uv_close((uv_handle_t *)&d->deliver, handle_closed_cb);
}

void loop_dns_counts(const loop_dns *d, uint64_t *queries, uint64_t *cache_hits) {
  *queries = d->queries;
  *cache_hits = d->cache_hits;
}

const char *loop_dns_version(void) {
  static char text[32];
  snprintf(text, sizeof text, "c-ares %s", ares_version(NULL));
  return text;
}
