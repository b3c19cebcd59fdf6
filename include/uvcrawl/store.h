/*
 * store - the crawl's state behind one interface: every URL the crawl has
 * taken in (queued, leased, done or failed), the per-host state that must
 * outlive a process (robots.txt as fetched and when), the hosts in scope,
 * and a few named values (seeds, options). The crawl core decides; a store
 * keeps. Scheduling (the frontier's ready list, heap and token buckets)
 * stays in memory in the core and is rebuilt from the store on resume.
 *
 * Backends (the model: libgit2's odb backends) fill a uc_store_ops table:
 *  - memory (src/store/memory.c): the default. It keeps counts and the
 *    state of each live URL, nothing on disk; a new one is always empty.
 *  - sqlite (src/store/sqlite.c): --state DIR. Writes are queued in memory
 *    and committed by a writer thread, so the crawl's thread never waits
 *    on the disk.
 *
 * Lease/ack: a URL is put QUEUED, LEASED when dispatched, and DONE (a
 * record with no error) or FAILED (a record with one) when its record has
 * been written. Writes are grouped: everything put between two
 * uc_store_commit() calls commits atomically or not at all. That is what
 * makes resume exact: the crawl puts a page's DONE and the links it found
 * in one group, so after any kill either both are in the store or neither
 * (and then the page is fetched again and finds its links again).
 *
 * Threads: every function but uc_store_durable() is called from one thread
 * at a time (the crawl's owner: the loop thread, or under the threads
 * engine's crawl lock). A backend may run threads of its own; the wake
 * function then runs on one of them (see uc_store_set_wake).
 */
#ifndef UVCRAWL_STORE_H
#define UVCRAWL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct uc_store uc_store;

/* A URL's state in the store. */
typedef enum uc_url_state {
  UC_URL_QUEUED = 0, /* waiting to be dispatched */
  UC_URL_LEASED = 1, /* dispatched; back to QUEUED if the crawl dies */
  UC_URL_DONE = 2,   /* its record is written, without an error */
  UC_URL_FAILED = 3, /* its record is written, with an error */
  UC_URL_STATE_COUNT_
} uc_url_state;

/** One URL as the store keeps it. Strings are borrowed for the call. */
typedef struct uc_store_url {
  uint64_t id;        /* the crawl's id, > 0, unique in the store */
  const char *url;    /* normalized */
  uint64_t parent_id; /* the page it was found on, 0 for a seed */
  const char *parent; /* that page's URL, or NULL (only filled by load) */
  uint64_t host_id;   /* the host it belongs to (uc_store_host.id) */
  int depth;
  unsigned kind;      /* the crawl's: what it is (page, sitemap) and the redirects to it */
  uc_url_state state; /* only filled by load */
  int status;         /* HTTP status of its record, 0 if none (load only) */
} uc_store_url;

/** A host's durable state. Strings and the body are borrowed for the call. */
typedef struct uc_store_host {
  uint64_t id;           /* the crawl's id, > 0 */
  const char *key;       /* "scheme://host:port", as the frontier keys it */
  bool robots_known;     /* robots.txt was decided (the fields below) */
  int64_t robots_at_ms;  /* when, wall-clock milliseconds since the epoch */
  int robots_status;     /* its HTTP status, 0 when no response came */
  int robots_fail;       /* uc_fail of its fetch, 0 if a response came */
  const char *robots_body; /* the body as received (at most 500 KiB), may be NULL */
  size_t robots_len;
} uc_store_host;

/** How many URLs are in each state, and how many hosts. */
typedef struct uc_store_counts {
  uint64_t urls[UC_URL_STATE_COUNT_];
  uint64_t hosts;
} uc_store_counts;

/**
 * What uc_store_load() calls back with, in this order: each scope host,
 * each host, every URL (by id: for the visited set and counts), then the
 * live URLs (QUEUED or LEASED, by id or by depth then id, with their
 * parent's URL).
 * A callback returning non-zero stops the load with that code; a NULL one
 * is skipped (and a NULL `live` skips that query). Strings are borrowed
 * for the call.
 */
typedef struct uc_store_loader {
  bool live_by_depth; /* live URLs by depth then id (a --depth crawl), else by id */
  int (*scope)(void *ctx, const char *host, bool adopted);
  int (*host)(void *ctx, const uc_store_host *h);
  int (*url)(void *ctx, const uc_store_url *u);
  int (*live)(void *ctx, const uc_store_url *u);
} uc_store_loader;

/**
 * A refill's answer (uc_store_take_refills): the QUEUED URLs of host
 * `host_id` asked for, by id, with their parent's URL; n may be 0. Rows
 * and their strings are borrowed for the call. Non-zero stops the take.
 */
typedef int (*uc_store_refill_fn)(void *ctx, uint64_t host_id, const uc_store_url *rows,
                                  size_t n);

/** One commit of a backend's writer thread, for --trace. */
typedef struct uc_store_commit_info {
  uint64_t tid;              /* the writer thread's kernel id */
  uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC, the engines' clock */
  uint64_t ops;              /* writes and reads applied */
} uc_store_commit_info;

/* Called before each commit of a durable backend; see uc_store_set_hooks. */
typedef int (*uc_store_pre_commit_fn)(void *ctx, char *msg, size_t msglen);

/**
 * A backend. Each write function queues or applies one change; commit ends
 * a group. All return 0 or a negative UC_E* code unless said otherwise.
 */
typedef struct uc_store_ops {
  const char *name; /* "memory", "sqlite" */
  bool durable;     /* survives the process (can be loaded by a later run) */
  int (*put_url)(uc_store *s, const uc_store_url *u);
  int (*set_state)(uc_store *s, uint64_t id, uc_url_state state, int status, const char *error);
  int (*put_host)(uc_store *s, const uc_store_host *h);
  int (*put_scope)(uc_store *s, const char *host, bool adopted);
  int (*put_meta)(uc_store *s, const char *key, const char *value);
  int (*commit)(uc_store *s, uint64_t *seq);
  uint64_t (*durable_seq)(uc_store *s);
  int (*sync)(uc_store *s);
  int (*failed)(uc_store *s, char *msg, size_t msglen);
  int (*get_meta)(uc_store *s, const char *key, char **value);
  int (*load)(uc_store *s, const uc_store_loader *l, void *ctx);
  int (*counts)(uc_store *s, uc_store_counts *out);
  void (*set_hooks)(uc_store *s, void (*wake)(void *), uc_store_pre_commit_fn pre_commit,
                    void *ctx);
  int (*refill)(uc_store *s, uint64_t host_id, uint64_t after_id, int max_depth, size_t limit);
  int (*take_refills)(uc_store *s, uc_store_refill_fn fn, void *ctx);
  size_t (*take_commits)(uc_store *s, uc_store_commit_info *out, size_t max);
  void (*free)(uc_store *s);
} uc_store_ops;

/** The head of every backend's state: `struct my_store { uc_store base; ... }`. */
struct uc_store {
  const uc_store_ops *ops;
};

/** The backend's name ("memory", "sqlite"); borrowed, static. */
const char *uc_store_name(const uc_store *s);

/** Whether what the store keeps outlives the process. */
bool uc_store_is_durable(const uc_store *s);

/** Put a new URL, QUEUED. Its id must be new to the store. */
int uc_store_put_url(uc_store *s, const uc_store_url *u);

/**
 * Move URL `id` to `state`: QUEUED -> LEASED -> DONE or FAILED (LEASED may
 * also go back to QUEUED; a URL may be refused without a lease: QUEUED ->
 * FAILED). @param status, error  the record's status and error name (NULL
 * if none), kept for inspection with DONE and FAILED.
 * @return 0, UC_ENOTFOUND (no such live URL, memory backend), UC_ENOMEM.
 */
int uc_store_set_state(uc_store *s, uint64_t id, uc_url_state state, int status,
                       const char *error);

/** Put (insert or replace) a host's state. */
int uc_store_put_host(uc_store *s, const uc_store_host *h);

/** Add a host name to the crawl's scope: a seed's host, or (`adopted`) one
 *  that a seed redirected to (uc_policy_adopt_host). */
int uc_store_put_scope(uc_store *s, const char *host, bool adopted);

/** Set a named value (seeds, options). Both strings are copied. */
int uc_store_put_meta(uc_store *s, const char *key, const char *value);

/**
 * End a group: everything put since the last commit becomes durable
 * together, or (after a crash) not at all. Never waits for the disk.
 * @param seq  receives the group's number (increasing from 1); the group
 *             is durable once uc_store_durable() reaches it. An empty group
 *             (nothing put since the last commit) may get the number of
 *             the group before it: it is durable with that one. May be NULL.
 * @return 0, UC_ENOMEM, or UC_EIO once the backend has failed.
 */
int uc_store_commit(uc_store *s, uint64_t *seq);

/** The highest group number known durable. Thread-safe. */
uint64_t uc_store_durable(uc_store *s);

/** Wait until every group committed so far is durable (the end of a run).
 *  @return 0 or UC_EIO (see uc_store_failed). */
int uc_store_sync(uc_store *s);

/**
 * Whether the backend has failed (a full disk, an I/O error): from then on
 * nothing more becomes durable. @param msg  a one-line reason (may be NULL).
 * @return 0 or UC_EIO.
 */
int uc_store_failed(uc_store *s, char *msg, size_t msglen);

/**
 * Read a named value. @param value  receives a copy (free()), or NULL when
 * absent. Call before the crawl starts writing.
 */
int uc_store_get_meta(uc_store *s, const char *key, char **value);

/** Replay what the store holds (see uc_store_loader); nothing for a new store. */
int uc_store_load(uc_store *s, const uc_store_loader *l, void *ctx);

/** URLs by state and hosts, as committed so far (durable backends) or now. */
int uc_store_count(uc_store *s, uc_store_counts *out);

/**
 * Functions the backend calls from its own thread, if it has one:
 * `wake(ctx)` after groups became durable or the backend failed (the
 * engine wakes its dispatcher), and `pre_commit(ctx, msg, msglen)` before
 * each commit (the records are flushed first, so that a URL is never DONE
 * in the store without its record on disk; non-zero fails the commit, and
 * `msg` then says which output failed and why, for uc_store_failed).
 * Setting NULLs returns only once no call to the old functions runs.
 * Neither runs while the backend holds a lock the caller of a uc_store_*
 * write may hold.
 */
void uc_store_set_hooks(uc_store *s, void (*wake)(void *), uc_store_pre_commit_fn pre_commit,
                        void *ctx);

/**
 * Ask for up to `limit` QUEUED URLs of host `host_id` with an id above
 * `after_id` (and a depth at most `max_depth`, unless it is negative), by
 * id: a host's window of its queue refilled from a store that keeps the
 * rest (--state). Queued like a write: it sees every write put before it,
 * once the group it is in is committed; the answer comes back through
 * uc_store_take_refills() after a wake. Durable backends only.
 * @return 0, UC_ENOMEM, UC_EINVAL (the backend keeps no queue), UC_EIO.
 */
int uc_store_refill(uc_store *s, uint64_t host_id, uint64_t after_id, int max_depth,
                    size_t limit);

/** Hand every refill answered so far to `fn`, in the order asked. */
int uc_store_take_refills(uc_store *s, uc_store_refill_fn fn, void *ctx);

/**
 * The commits made since the last call, oldest first, at most `max` (the
 * backend keeps the last few hundred; older ones are dropped). Thread-safe.
 * @return how many were copied into `out`; 0 for a backend with no writer.
 */
size_t uc_store_take_commits(uc_store *s, uc_store_commit_info *out, size_t max);

/** Close the store: commit what is queued, wait, free. NULL is a no-op. */
void uc_store_free(uc_store *s);

/** The name of a state ("queued", "leased", "done", "failed"); static. */
const char *uc_url_state_name(uc_url_state st);

#endif /* UVCRAWL_STORE_H */
