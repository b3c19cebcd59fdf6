/*
 * frontier - per-host FIFO queues of URLs and the scheduler that decides
 * which host may start a transfer next. This is the crawler's dispatch gate.
 *
 * A URL may be dispatched from a host when the host is not held, is under
 * its per-host cap of transfers in flight, has a queued URL, has a token in
 * its token bucket, and is not deferred. Picking one is O(log hosts): hosts
 * that can dispatch now sit on a round-robin ready list, hosts that only
 * wait for time (a token, or the end of a deferral) sit in a min-heap keyed
 * by that time, and the rest are idle until an event (push, done, release,
 * set_rate) reschedules them. Nothing scans all hosts (except
 * uc_frontier_clear and uc_frontier_check).
 *
 * Time comes in as now_ms; the frontier never reads a clock. Not
 * thread-safe: the threaded engine locks around it.
 */
#ifndef UVCRAWL_FRONTIER_H
#define UVCRAWL_FRONTIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct uc_frontier uc_frontier;

/* One per host key; owned by the frontier, valid until uc_frontier_free. */
typedef struct uc_fhost uc_fhost;

typedef struct uc_frontier_opts {
  double rate;       /* per-host tokens per second; <= 0 means unlimited */
  double burst;      /* per-host bucket capacity (values < 1 count as 1) */
  unsigned per_host; /* max transfers in flight per host, >= 1 */
} uc_frontier_opts;

typedef struct uc_frontier_item {
  uint64_t id;       /* as pushed: the crawl's store id, 0 for none */
  char *url;         /* owned by whoever holds the item: free() */
  char *parent;      /* owned, free(); may be NULL */
  int depth;         /* as pushed */
  unsigned attempts; /* as pushed */
  unsigned kind;     /* the caller's tag, e.g. page vs robots.txt; 0 counts as a page */
  uc_fhost *host;    /* borrowed, valid until uc_frontier_free */
  uint64_t queued_ms; /* the now_ms of its push */
  /* The last stretch, while it was queued, in which its host waited in the
   * heap for a token or the end of a deferral (for --trace); equal when
   * there was none. */
  uint64_t wait_from_ms, wait_until_ms;
} uc_frontier_item;

/**
 * Create an empty frontier.
 * @param out  receives it (owned by the caller, free with uc_frontier_free).
 * @param o    copied; NULL means rate 2, burst 2, per_host 2.
 * @return     0, UC_EINVAL (per_host == 0) or UC_ENOMEM.
 */
int uc_frontier_new(uc_frontier **out, const uc_frontier_opts *o, uint64_t now_ms);

/** Free the frontier, its hosts and every queued item; NULL is a no-op.
 *  Host data pointers (uc_fhost_set_data) are not freed. */
void uc_frontier_free(uc_frontier *f);

/**
 * Find a host by key (O(1) hash map), optionally creating it with the
 * default bucket (full) and per-host cap.
 * @param host_key  copied when a host is created.
 * @param created   may be NULL; set to whether this call created the host.
 * @return          the host (borrowed, valid until uc_frontier_free); NULL on
 *                  ENOMEM, or when create is false and the host is absent.
 */
uc_fhost *uc_frontier_host(uc_frontier *f, const char *host_key, bool create, bool *created);

/**
 * Queue a URL on host `h`: at the tail of its FIFO, or at its head if
 * `front` (e.g. a robots.txt fetch, or a retry that should go first).
 * @param id      the caller's id for it (the crawl's store id), handed back
 *                with the item; 0 for none.
 * @param url     copied.
 * @param parent  copied; may be NULL.
 * @return        0 or UC_ENOMEM (nothing queued).
 */
int uc_frontier_push(uc_frontier *f, uc_fhost *h, uint64_t id, const char *url, const char *parent,
                     int depth, unsigned kind, unsigned attempts, bool front, uint64_t now_ms);

/**
 * Take the next dispatchable URL, round-robin over the hosts that can
 * dispatch at now_ms. Takes a token from the host's bucket and counts one
 * more transfer in flight on it; call uc_frontier_done() when it ends.
 * @param item     filled on success; the caller owns item->url and
 *                 item->parent (free()).
 * @param wake_ms  may be NULL; on UC_EAGAIN, the earliest time (> now_ms) at
 *                 which a waiting host gets a token or its deferral ends.
 * @return 0; UC_EAGAIN when hosts are only waiting for time; UC_EEMPTY when
 *         no host can become ready by time alone (nothing queued, or every
 *         host with queued URLs is at its cap or held).
 */
int uc_frontier_pop(uc_frontier *f, uint64_t now_ms, uc_frontier_item *item, uint64_t *wake_ms);

/** A popped transfer of host `h` ended: frees one of its slots. */
void uc_frontier_done(uc_frontier *f, uc_fhost *h, uint64_t now_ms);

/** No pops from `h` until uc_frontier_release (e.g. robots.txt pending).
 *  A flag, not a count: one release undoes any number of holds. */
void uc_frontier_hold(uc_frontier *f, uc_fhost *h);

/** Undo uc_frontier_hold. */
void uc_frontier_release(uc_frontier *f, uc_fhost *h, uint64_t now_ms);

/**
 * No pops from `h` before until_ms (Retry-After, backoff). Deferrals do not
 * shorten each other: the host waits until the latest until_ms given.
 */
void uc_frontier_defer(uc_frontier *f, uc_fhost *h, uint64_t until_ms, uint64_t now_ms);

/** Change `h`'s bucket (e.g. robots.txt Crawl-delay); see uc_tbucket_set_rate. */
void uc_frontier_set_rate(uc_frontier *f, uc_fhost *h, double rate, double burst, uint64_t now_ms);

/** The host's key (borrowed, valid until uc_frontier_free). */
const char *uc_fhost_key(const uc_fhost *h);

/** The engine's per-host pointer (robots state, DNS, ...); NULL at first.
 *  Borrowed: the frontier never frees it. */
void *uc_fhost_data(const uc_fhost *h);
void uc_fhost_set_data(uc_fhost *h, void *data);

/** Transfers of `h` popped and not yet done. */
unsigned uc_fhost_inflight(const uc_fhost *h);
/** URLs queued on `h`. */
size_t uc_fhost_queued(const uc_fhost *h);
/** Items of kind 0 (pages) ever popped from `h`. */
uint64_t uc_fhost_pages(const uc_fhost *h);

/** URLs queued on all hosts. */
size_t uc_frontier_queued(const uc_frontier *f);
/**
 * From now on, hosts made by uc_frontier_host() start with an empty bucket
 * (`on`), or full (the default). A resumed crawl turns it on: a host that
 * the killed run had just used up gets no second burst, so the rate bound
 * holds across the restart (burst + rate * t over any window).
 */
void uc_frontier_set_empty_start(uc_frontier *f, bool on);

/** Hosts created so far. */
size_t uc_frontier_host_count(const uc_frontier *f);

/** Drop every queued item (shutdown). @return how many were dropped. */
size_t uc_frontier_clear(uc_frontier *f);

/**
 * Debug check of the scheduler's invariants (see frontier.c), O(hosts).
 * @return 0 if they hold, else a positive number naming the broken one.
 */
int uc_frontier_check(const uc_frontier *f);

#endif /* UVCRAWL_FRONTIER_H */
