/*
 * admin.c - what runs before any loop: the --cluster URL, the owner of a
 * host, the start-up probe, and the --stop and --status commands (one
 * synchronous hiredis connection each; never on the crawl's loop).
 */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "cluster_int.h"
#include "uvcrawl/error.h"

static bool name_ok(const char *s) {
  if (*s == '\0')
    return false;
  for (; *s != '\0'; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '-' || *s == '_' || *s == '.'))
      return false;
  return true;
}

static int copy_part(char *dst, size_t cap, const char *src, size_t len) {
  if (len >= cap)
    return -1;
  memcpy(dst, src, len);
  dst[len] = '\0';
  return 0;
}

int uc_cluster_parse_url(const char *url, uc_cluster_addr *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "uvcrawl");
  const char *name = NULL;
  if (strncmp(url, "unix://", 7) == 0) {
    const char *path = url + 7, *q = strstr(path, "?name=");
    size_t len = q != NULL ? (size_t)(q - path) : strlen(path);
    if (*path != '/' || len < 2 || copy_part(out->path, sizeof out->path, path, len) != 0)
      goto bad;
    name = q != NULL ? q + 6 : NULL;
  } else if (strncmp(url, "redis://", 8) == 0) {
    const char *host = url + 8, *colon = strrchr(host, ':');
    if (colon == NULL || colon == host)
      goto bad;
    if (copy_part(out->host, sizeof out->host, host, (size_t)(colon - host)) != 0)
      goto bad;
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || port < 1 || port > 65535 || (*end != '\0' && *end != '/'))
      goto bad;
    out->port = (int)port;
    name = *end == '/' ? end + 1 : NULL;
  } else {
    goto bad;
  }
  if (name != NULL && (!name_ok(name) || copy_part(out->name, sizeof out->name, name,
                                                   strlen(name)) != 0))
    goto bad;
  return 0;
bad:
  snprintf(err, errlen, "bad value for --cluster: '%s' (redis://HOST:PORT/NAME or "
           "unix:///path/redis.sock?name=NAME)", url);
  return UC_EINVAL;
}

/* splitmix64's finalizer: spreads every input bit over the output. */
static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Rendezvous hashing: each agent's score for the host is a hash of both,
 * and the highest wins. Adding an agent moves only the hosts it wins
 * (1/N of them), unlike host-hash mod N, which moves almost all. */
unsigned uc_cluster_owner(const char *host, size_t len, unsigned agents) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)host[i]) * 0x100000001b3ull;
  unsigned best = 0;
  uint64_t best_score = 0;
  for (unsigned k = 0; k < agents; k++) {
    uint64_t score = mix64(h ^ mix64(k + 0x9e3779b97f4a7c15ull));
    if (k == 0 || score > best_score) {
      best = k;
      best_score = score;
    }
  }
  return best;
}

redisContext *cluster_connect_sync(const uc_cluster_addr *a, char *err, size_t errlen) {
  struct timeval tv = {.tv_sec = 2};
  redisContext *rc = a->path[0] != '\0' ? redisConnectUnixWithTimeout(a->path, tv)
                                        : redisConnectWithTimeout(a->host, a->port, tv);
  if (rc == NULL || rc->err != 0) {
    const char *why = rc != NULL ? rc->errstr : "out of memory";
    if (a->path[0] != '\0')
      snprintf(err, errlen, "cannot reach Redis at %s: %s", a->path, why);
    else
      snprintf(err, errlen, "cannot reach Redis at %s:%d: %s", a->host, a->port, why);
    redisFree(rc);
    return NULL;
  }
  redisSetTimeout(rc, tv);
  return rc;
}

int uc_cluster_probe(const uc_cluster_addr *a, char *err, size_t errlen) {
  redisContext *rc = cluster_connect_sync(a, err, errlen);
  if (rc == NULL)
    return UC_EIO;
  redisReply *r = redisCommand(rc, "PING");
  int ok = r != NULL && r->type == REDIS_REPLY_STATUS;
  if (!ok)
    snprintf(err, errlen, "Redis did not answer PING: %s",
             r != NULL && r->type == REDIS_REPLY_ERROR ? r->str : rc->errstr);
  freeReplyObject(r);
  redisFree(rc);
  return ok ? 0 : UC_EIO;
}

int uc_cluster_request_stop(const uc_cluster_addr *a, char *err, size_t errlen) {
  redisContext *rc = cluster_connect_sync(a, err, errlen);
  if (rc == NULL)
    return UC_EIO;
  redisReply *r = redisCommand(rc, "HSET uvcrawl:%s:ctl stop 1", a->name);
  int ok = r != NULL && r->type == REDIS_REPLY_INTEGER;
  if (!ok)
    snprintf(err, errlen, "Redis refused the stop: %s",
             r != NULL && r->type == REDIS_REPLY_ERROR ? r->str : rc->errstr);
  freeReplyObject(r);
  redisFree(rc);
  return ok ? 0 : UC_EIO;
}

/* A field of an HGETALL reply as a number (0 when absent). */
static uint64_t field_u64(const redisReply *r, const char *name) {
  for (size_t i = 0; i + 1 < r->elements; i += 2)
    if (strcmp(r->element[i]->str, name) == 0)
      return strtoull(r->element[i + 1]->str, NULL, 10);
  return 0;
}

static bool field_has(const redisReply *r, const char *name) {
  for (size_t i = 0; i + 1 < r->elements; i += 2)
    if (strcmp(r->element[i]->str, name) == 0)
      return true;
  return false;
}

int uc_cluster_print_status(const uc_cluster_addr *a, unsigned agents, FILE *out, char *err,
                            size_t errlen) {
  redisContext *rc = cluster_connect_sync(a, err, errlen);
  if (rc == NULL)
    return UC_EIO;
  redisReply *r = redisCommand(rc, "HGETALL uvcrawl:%s:ctl", a->name);
  if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
    snprintf(err, errlen, "Redis refused HGETALL: %s",
             r != NULL && r->type == REDIS_REPLY_ERROR ? r->str : rc->errstr);
    freeReplyObject(r);
    redisFree(rc);
    return UC_EIO;
  }
  uint64_t pages = 0, queued = 0, out_links = 0, in_links = 0;
  char key[64];
  fprintf(out, "cluster %s: %s\n", a->name,
          field_u64(r, "done") ? "done" : field_u64(r, "stop") ? "stopping" : "crawling");
  for (unsigned k = 0; k < agents; k++) {
    snprintf(key, sizeof key, "idle:%u", k);
    bool seen = field_has(r, key);
    bool idle = field_u64(r, key) == 1;
    uint64_t v[4];
    static const char *const names[4] = {"pages", "queued", "out", "in"};
    for (int i = 0; i < 4; i++) {
      snprintf(key, sizeof key, "%s:%u", names[i], k);
      v[i] = field_u64(r, key);
    }
    pages += v[0];
    queued += v[1];
    out_links += v[2];
    in_links += v[3];
    fprintf(out, "agent %u: %s, %" PRIu64 " pages, %" PRIu64 " queued, %" PRIu64
            " links handed out, %" PRIu64 " received\n",
            k, !seen ? "never seen" : idle ? "idle" : "busy", v[0], v[1], v[2], v[3]);
  }
  uint64_t sent = field_u64(r, "sent"), acked = field_u64(r, "acked");
  fprintf(out, "total: %" PRIu64 " pages, %" PRIu64 " queued, %" PRIu64
          " links handed over, %" PRIu64 " hand-over entries in transit\n",
          pages, queued, out_links, sent >= acked ? sent - acked : 0);
  freeReplyObject(r);
  redisFree(rc);
  return 0;
}
