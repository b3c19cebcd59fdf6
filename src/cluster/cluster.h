/*
 * cluster - N uvcrawl agents share one crawl through Redis (docs/cluster.md).
 *
 * Agent K owns the hosts that a rendezvous (highest-random-weight) hash of
 * the host name gives it; the crawl hands every URL of another agent's
 * host to uc_cluster_hand(), which batches them per owner and XADDs each
 * batch to the owner's stream. Each agent reads its own stream with a
 * consumer group, puts the links into its crawl and store, and XACKs an
 * entry only once the store group that holds its links is durable.
 * Termination is decided in Redis by one atomic script (see cluster.c).
 *
 * Loop thread only: hiredis runs on the engine's uv loop (its libuv
 * adapter); nothing here blocks but the start-up probe and the admin
 * commands (--stop, --status), which run before any loop exists.
 */
#ifndef UVCRAWL_CLUSTER_H
#define UVCRAWL_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "uvcrawl/crawl.h"
#include "uvcrawl/store.h"

/** Where Redis is and the crawl's name, from --cluster. */
typedef struct uc_cluster_addr {
  char host[256]; /* "" for a unix socket */
  int port;
  char path[256]; /* the unix socket's path, or "" */
  char name[128]; /* the crawl's name: every key is "uvcrawl:NAME:..." */
} uc_cluster_addr;

/**
 * Parse `redis://HOST:PORT[/NAME]` or `unix:///path/redis.sock[?name=NAME]`
 * (NAME defaults to "uvcrawl"; letters, digits, '-', '_', '.').
 * @return 0 or UC_EINVAL (err says why, one line).
 */
int uc_cluster_parse_url(const char *url, uc_cluster_addr *out, char *err, size_t errlen);

/** The agent in [0, agents) that owns `host` (a lower-case host name, no
 *  port): the highest of agents scores of (host, agent). Pure. */
unsigned uc_cluster_owner(const char *host, size_t len, unsigned agents);

/**
 * Connect once, synchronously, and PING (the start-up check, and --stop,
 * --status). @return 0, or UC_EIO with a one-line reason in err.
 */
int uc_cluster_probe(const uc_cluster_addr *a, char *err, size_t errlen);

/** --stop: ask every agent of the crawl to drain. @return 0 or UC_EIO. */
int uc_cluster_request_stop(const uc_cluster_addr *a, char *err, size_t errlen);

/** --status: the crawl's totals and each agent's share, from Redis, to `out`.
 *  @return 0 or UC_EIO. */
int uc_cluster_print_status(const uc_cluster_addr *a, unsigned agents, FILE *out, char *err,
                            size_t errlen);

typedef struct uc_cluster uc_cluster;

typedef struct uc_cluster_opts {
  const uc_cluster_addr *addr; /* copied */
  unsigned agent, agents;      /* this agent, and how many share the crawl */
  uv_loop_t *loop;             /* borrowed; the engine's */
  void (*kick)(void *ctx);     /* new work came, or the crawl is over: run the gate */
  void (*drain)(void *ctx);    /* --stop was asked: drain as on SIGINT */
  void *ctx;
  bool verbose;                /* say what the termination checks see */
} uc_cluster_opts;

/**
 * Make an agent. Nothing connects until uc_cluster_start(); hand-overs
 * made before (seeds, a resumed store) wait in memory.
 * @return 0 or UC_ENOMEM.
 */
int uc_cluster_new(uc_cluster **out, const uc_cluster_opts *o);

/** The crawl's peers hooks (crawl.h) for this agent; ctx is the cluster. */
uc_crawl_peers uc_cluster_peers(uc_cluster *cl);

/** Connect to Redis on the loop; links received go into `crawl` and `store`
 *  (both borrowed until uc_cluster_close; store may be NULL). */
int uc_cluster_start(uc_cluster *cl, uc_crawl *crawl, uc_store *store);

/**
 * The engine's gate ran: flush hand-overs, acknowledge what became durable,
 * and say whether the engine may close.
 * @param local_over  nothing in flight and nothing queued here
 *                    (uc_crawl_over); with `draining`, the run is ending.
 * @return true once the whole cluster is done (or, draining, once what
 *         this agent owed Redis is out or Redis is unreachable).
 */
bool uc_cluster_step(uc_cluster *cl, bool local_over, bool draining);

/** A few words for the progress line ("agent 1/3, 12 out, 40 in, redis up"). */
void uc_cluster_progress(const uc_cluster *cl, char *buf, size_t len);

/** This agent's counters for --stats. */
typedef struct uc_cluster_stats {
  unsigned agent, agents;
  uint64_t links_out;   /* links handed to other agents (confirmed by Redis) */
  uint64_t links_in;    /* links received from other agents (incl. duplicates) */
  uint64_t batches_out; /* stream entries added */
  uint64_t entries_in;  /* stream entries read */
  uint64_t commands;    /* Redis commands sent */
  uint64_t reconnects;
  uint64_t links_spilled; /* links written to the spill file while Redis was away */
  uint64_t handover_ns; /* CPU spent batching, sending and ingesting hand-overs */
} uc_cluster_stats;

void uc_cluster_get_stats(const uc_cluster *cl, uc_cluster_stats *out);

/** Close the connections and timers (the loop then runs out). */
void uc_cluster_close(uc_cluster *cl);

/** Free, after the loop ran out; NULL is a no-op. */
void uc_cluster_free(uc_cluster *cl);

#endif /* UVCRAWL_CLUSTER_H */
