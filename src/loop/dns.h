/*
 * dns - c-ares on the engine's libuv loop, with a per-host cache.
 *
 * One ares channel; its sockets are watched by uv_poll_t handles (through
 * the socket state callback) and its timeouts by one uv_timer_t. Answers are
 * cached per host name for their TTL (clamped), failures for a short while;
 * one query is in flight per name however many transfers wait for it.
 * --resolve pins (HOST:PORT:ADDR, HOST may be *.suffix) answer without DNS.
 * Loop thread only.
 */
#ifndef UVCRAWL_LOOP_DNS_H
#define UVCRAWL_LOOP_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "uvcrawl/config.h"

#define LOOP_DNS_ADDR_MAX 64 /* "[v6],v4" fits: 41 + 1 + 15 (= UC_ADDR_MAX) */

typedef struct loop_dns loop_dns;

/**
 * A later answer: status 0 with the address (borrowed for the call), or
 * UC_ENOTFOUND (no such name or no answer), or UC_ECLOSED (cancelled).
 */
typedef void (*loop_dns_cb)(void *arg, int status, const char *addr);

/** A transfer waiting for a name; caller storage, linked by the cache. */
typedef struct loop_dns_waiter {
  struct loop_dns_waiter *next;
  loop_dns_cb cb;
  void *arg;
} loop_dns_waiter;

/**
 * Create the resolver.
 * @param cfg    borrowed (dns_server, resolve pins); must outlive it.
 * @param err    a one-line message on failure.
 * @return 0, UC_EINVAL (bad --dns-server) or UC_ENOMEM / UC_EIO.
 */
int loop_dns_new(loop_dns **out, uv_loop_t *loop, const uc_config *cfg, char *err,
                 size_t errlen);

/**
 * Resolve `host` for a connection to `port`.
 * @return 0 with the answer in addr (from a pin or the cache, or the host
 *         itself when it is an address literal such as "[::1]"; no callback;
 *         a lookup gives one address a family, IPv6 first: "[::1],127.0.0.1",
 *         as CURLOPT_RESOLVE takes it, for curl's happy eyeballs),
 *         UC_ENOTFOUND (a cached failure, no callback), UC_ENOMEM (no
 *         room for a cache entry, no callback), or UC_EAGAIN: `w`
 *         is queued and w->cb will be called exactly once, later, from the
 *         loop (never from inside this call).
 */
int loop_dns_resolve(loop_dns *d, const char *host, int port, char addr[LOOP_DNS_ADDR_MAX],
                     loop_dns_waiter *w, loop_dns_cb cb, void *arg, uint64_t now_ms);

/** How many queries were sent, and how many lookups a pin or the cache answered. */
void loop_dns_counts(const loop_dns *d, uint64_t *queries, uint64_t *cache_hits);

/** Cancel every query; each waiter's callback runs with UC_ECLOSED. */
void loop_dns_cancel_all(loop_dns *d);

/**
 * Destroy the channel and close the handles; memory is freed in the last
 * close callback, so uv_run() must run afterwards. No waiter may remain.
 */
void loop_dns_close(loop_dns *d);

/** "c-ares X.Y.Z" (static string). */
const char *loop_dns_version(void);

#endif /* UVCRAWL_LOOP_DNS_H */
