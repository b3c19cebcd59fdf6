/*
 * crawl - the engine-independent crawl: seeds, the visited set, the
 * frontier and its gate, robots.txt, retries, redirects-as-links, policy,
 * records and stats. Engines only move bytes: they ask uc_crawl_next() for
 * a URL, fetch it however they like, optionally parse it (uc_crawl_parse(),
 * which is pure and may run on any thread), and hand the outcome back to
 * uc_crawl_complete().
 *
 * Life of a URL:
 *   seed/link --policy+dedup--> frontier --next()--> engine fetch
 *     --> [parse] --> complete(): record written, links merged, retry or done
 *
 * Not thread-safe: the loop engine calls it from its one thread; the
 * threaded engine holds its crawl lock around every call but
 * uc_crawl_parse().
 */
#ifndef UVCRAWL_CRAWL_H
#define UVCRAWL_CRAWL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "uvcrawl/config.h"
#include "uvcrawl/record.h"
#include "uvcrawl/extract.h"
#include "uvcrawl/frontier.h"
#include "uvcrawl/sink.h"
#include "uvcrawl/stats.h"
#include "uvcrawl/store.h"

typedef struct uc_crawl uc_crawl;

/* What a fetch is for (uc_frontier_item.kind). */
enum { UC_KIND_PAGE = 0, UC_KIND_ROBOTS = 1, UC_KIND_SITEMAP = 2 };
/* The kind of a uc_frontier_item.kind, whose higher bits count redirects. */
#define UC_KIND_OF(k) ((k) & 0xffu)

/** One URL handed to an engine; owned by the engine until complete(). */
typedef struct uc_fetch {
  uc_frontier_item item;  /* url, parent, depth, attempts, kind, host */
  char host[256];         /* host name to resolve, lower-case, no port */
  int port;               /* the port to connect to */
  uint64_t dispatched_ms; /* when next() handed it out */
} uc_fetch;

/** What came back from the network, as the engine saw it (all borrowed). */
typedef struct uc_fetch_result {
  int status;               /* HTTP status, 0 when no response arrived */
  uc_fail fail;             /* UC_FAIL_NONE when a complete response arrived */
  const char *final_url;    /* effective URL, NULL = the requested one */
  const char *location;     /* Location of a 3xx, NULL if none */
  const char *content_type; /* NULL if none */
  const char *body;         /* received body (may be cut at --max-body) */
  bool truncated;           /* the body was cut at its bound (not a failure) */
  size_t body_len;
  uint64_t bytes;           /* body bytes received */
  double fetch_ms;          /* transfer wall time */
  double retry_after_s;     /* Retry-After in seconds, < 0 if absent */
  /* --record-headers: the final response's headers of UC_RECORD_HEADERS
   * (record.h), NULL where absent; all NULL otherwise. */
  const char *headers[UC_RECORD_HEADER_COUNT];
  const char *http_version; /* "1.0", "1.1", "2", "3"; NULL when no response arrived */
  const char *tls_version;  /* "TLSv1.3", ...; NULL without TLS */
  const char *tls_handshake; /* "full" or "resumed" when this fetch opened a TLS
                                connection, NULL when it reused one (or had no TLS) */
  /* --warc: the exchange as it went over the wire, NULL when none was
   * captured or no complete response came (sinks keep it). */
  const uc_exchange *exchange;
  /* --parser libxml2: the page's body was fed to this extractor as it
   * arrived and is not held (body_len is 0 or its first bytes only);
   * uc_crawl_parse() finishes it. Borrowed from the engine's transfer.
   * NULL: parse body. */
  uc_extractor *extractor;
} uc_fetch_result;

/**
 * Fill `r` as a fetch that got no response: failure `why`, after
 * `fetch_ms` of wall time; no status, no body, no Retry-After.
 */
void uc_fetch_result_failed(uc_fetch_result *r, uc_fail why, double fetch_ms);

/** The outcome of parsing one page; filled by uc_crawl_parse(). */
typedef struct uc_parsed {
  bool parsed;    /* the body was HTML and went through the parser */
  int rc;         /* uc_extract's result when parsed */
  uc_links links; /* owned: free with uc_parsed_free() */
  /* Set by uc_crawl_prefilter(): links.urls then holds first the links
   * that passed policy and were new to the visited set ([0, accepted)),
   * then those out of the seeds' scope, which the crawl judges itself. */
  bool prefiltered;
  size_t accepted;
  size_t found;                      /* unique links before filtering */
  bool sitemap_index; /* a sitemap index: the links are sitemaps, at the same depth */
  uint64_t skipped[UC_SKIP_COUNT_];  /* filtered out, by reason */
} uc_parsed;

/**
 * A visited set the crawl uses instead of its own: insert-if-absent,
 * returning 1 if the URL was new, 0 if present, or a negative UC_E* code.
 * Must be safe to call from any thread if uc_crawl_prefilter() is used
 * outside the crawl's lock.
 */
typedef int (*uc_visited_fn)(void *ctx, const char *url, size_t len);

/**
 * Another process's hosts (a cluster agent, src/cluster): the crawl asks
 * `owns` once per new host (its key, "scheme://host:port") and hands each
 * URL admitted for a host it does not own to `hand` instead of queueing it
 * (the URL is in the store, QUEUED, until uc_crawl_handed()). All NULL:
 * every host is the crawl's own. ctx is borrowed and outlives the crawl.
 */
typedef struct uc_crawl_peers {
  bool (*owns)(void *ctx, const char *host_key);
  /* url and parent (may be NULL) are borrowed for the call; returns 0 or UC_ENOMEM. */
  int (*hand)(void *ctx, uint64_t id, const char *url, const char *parent, int depth,
              unsigned kind);
  void *ctx;
} uc_crawl_peers;

/** How to make a crawl (see uc_crawl_new). */
typedef struct uc_crawl_opts {
  const uc_config *cfg;  /* borrowed; must outlive the crawl */
  uc_sinks *sinks;       /* where records and exchanges go (borrowed; not closed) */
  const char *engine;    /* "loop" or "threads" (borrowed static string) */
  uint64_t now_ms;       /* the engine's clock now */
  /* The visited set for every dedup decision, or NULL for the crawl's own
   * (a uc_seen, not thread-safe). The threads engine passes its locked or
   * lock-free set. visited_ctx is borrowed and must outlive the crawl. */
  uc_visited_fn visited;
  void *visited_ctx;
  /* The crawl's state (store.h), or NULL for none. Borrowed; must outlive
   * the crawl. With a durable store (--state) the crawl can be resumed. */
  uc_store *store;
  int64_t wall_ms;       /* the wall clock (ms since the epoch) at now_ms */
  uc_crawl_peers peers;  /* a cluster's other agents; zero: none */
} uc_crawl_opts;

/**
 * Create a crawl.
 * @param opts  read during the call (its pointers are kept, see above).
 * @param err   a one-line message on failure (e.g. a bad regex).
 * @return 0, UC_EINVAL or UC_ENOMEM.
 */
int uc_crawl_new(uc_crawl **out, const uc_crawl_opts *opts, char *err, size_t errlen);

/**
 * Filter a parse result's links before taking the crawl's lock: policy
 * (scope, patterns, depth, traps) and the visited set. Only reads the
 * crawl's configuration and calls the visited function, so with a
 * thread-safe visited set it may run on any thread, concurrently with
 * other calls. uc_crawl_complete() then queues the survivors as they are.
 * Note: policy runs before dedup, as in the crawl itself.
 * @return 0 or a negative UC_E* from the visited set.
 */
int uc_crawl_prefilter(const uc_crawl *c, const uc_fetch *f, uc_parsed *parsed);

/** Free the crawl and everything still queued; NULL is a no-op. */
void uc_crawl_free(uc_crawl *c);

/**
 * Queue a seed URL at depth 0 and add its host to the scope.
 * @return 0 (also when it was a duplicate), UC_EBADURL, UC_ESCHEME, UC_ENOMEM.
 */
int uc_crawl_seed(uc_crawl *c, const char *url, uint64_t now_ms);

/**
 * Queue a sitemap (--sitemap URL) at depth 0, as a seed: its host joins the
 * scope; its URLs are pages at depth 1, an index's sitemaps stay at 0.
 * @return as uc_crawl_seed().
 */
int uc_crawl_seed_sitemap(uc_crawl *c, const char *url, uint64_t now_ms);

/**
 * Take the next URL to fetch, if the gate allows one now.
 * robots.txt-denied URLs are recorded and skipped here, never handed out.
 * @param out      on 0, a fetch owned by the caller until uc_crawl_complete().
 * @param wake_ms  on UC_EAGAIN, the moment a waiting host gets its token.
 * @return 0, UC_EAGAIN, UC_EEMPTY (nothing dispatchable until a transfer
 *         ends), UC_ENOMEM.
 */
int uc_crawl_next(uc_crawl *c, uint64_t now_ms, uc_fetch **out, uint64_t *wake_ms);

/**
 * Whether this outcome should be parsed for links: a page (not robots.txt)
 * with a 2xx status, HTML by Content-Type or by sniffing, at a depth whose
 * links may still be followed. Pure; any thread.
 */
bool uc_crawl_wants_parse(const uc_crawl *c, const uc_fetch *f, const uc_fetch_result *r);

/**
 * Parse the body for links with the configured parser (cfg->parser). Pure:
 * reads only the crawl's configuration and its other arguments, so it may
 * run on a worker thread while the crawl is used elsewhere.
 * @return 0 or UC_ENOMEM (a malformed page is not an error: rc says so).
 */
int uc_crawl_parse(const uc_crawl *c, const uc_fetch *f, const uc_fetch_result *r,
                   uc_parsed *out);

/** Free a parse result's links; the struct itself is caller storage. */
void uc_parsed_free(uc_parsed *p);

/**
 * Hand back a fetch: retries it (later, through the gate) or writes its
 * record, merges its links, follows a redirect as a link, and frees `f`.
 * @param parsed     may be NULL (not parsed).
 * @param parse_ns   time the parse took, for the stats.
 * @return 0, UC_EIO (the record could not be written: a fatal condition),
 *         UC_ENOMEM.
 */
int uc_crawl_complete(uc_crawl *c, uc_fetch *f, const uc_fetch_result *r, uc_parsed *parsed,
                      uint64_t parse_ns, uint64_t now_ms);

/** What uc_crawl_restore() found in the store. */
typedef struct uc_crawl_restored {
  uint64_t live;   /* URLs queued again (queued or leased when the last run ended) */
  uint64_t done;   /* URLs with a record already: never fetched again */
  uint64_t hosts;  /* hosts known */
  uint64_t robots; /* hosts whose robots.txt is fresh enough to be used again */
} uc_crawl_restored;

/**
 * Take up a crawl from its store (a later run with --state): the scope,
 * each host with its robots.txt (if under 24 hours old), every URL into
 * the visited set, and the live ones into the frontier (by depth, so a
 * --depth crawl goes on at its level). Call once, before any seed.
 * Nothing happens without a store, or with a new one.
 * @return 0, UC_ENOMEM, UC_EIO (the store could not be read), or a
 *         visited set's error.
 */
int uc_crawl_restore(uc_crawl *c, uint64_t now_ms, uc_crawl_restored *out);

/**
 * End a group of store writes now (after the seeds); a completion ends
 * its own. @return 0 or the store's error.
 */
int uc_crawl_commit(uc_crawl *c);

/**
 * Transfers the engine must count against -c: those in flight, and pages
 * whose record is written but whose store group is not durable yet (so
 * that a kill refetches at most -c pages). Checks the store first, and
 * stops the crawl if the store has failed.
 */
uint64_t uc_crawl_busy(uc_crawl *c);

/** True when nothing is queued and nothing is in flight: the crawl is over. */
bool uc_crawl_finished(const uc_crawl *c);

/**
 * Stop dispatching (first signal or --max-pages): drop the queue and count
 * it as unfetched; links found from now on are counted, not queued.
 * @return how many queued URLs were dropped.
 */
size_t uc_crawl_stop(uc_crawl *c);

/** True once uc_crawl_stop() ran. */
bool uc_crawl_stopping(const uc_crawl *c);

/**
 * A fatal condition: the crawl cannot go on (records cannot be written,
 * out of memory, a library refused a call). Remembers the first code and
 * stops the crawl (uc_crawl_stop) if it was not stopping yet; the engine
 * lets what is in flight finish and ends with exit 1.
 * @param err  a negative UC_E* code; 0 is ignored.
 */
void uc_crawl_fail(uc_crawl *c, int err);

/** The first code given to uc_crawl_fail(), or 0. */
int uc_crawl_fatal(const uc_crawl *c);

/** errno of the first record write that failed (EPIPE, ENOSPC, ...), or 0. */
int uc_crawl_write_errno(const uc_crawl *c);

/**
 * Whether an engine's run is over: nothing is in flight and either the
 * engine no longer dispatches (a signal or a fatal condition) or the
 * crawl is finished. Never earlier, so no work is lost.
 * Pages waiting for their store group count as work (uc_crawl_busy).
 * @param dispatching  the engine still hands out work.
 */
bool uc_crawl_over(uc_crawl *c, bool dispatching);

/**
 * A URL handed over by another agent (peers): a seed (depth 0, no parent)
 * joins the scope as uc_crawl_seed() would; anything else was judged by the
 * sender's policy and is only deduplicated here, then queued. The caller
 * commits the store's group afterwards (uc_store_commit).
 * @param parent  the page it was found on (borrowed), or NULL.
 * @return 1 if queued, 0 if a duplicate (or the crawl is stopping), or a
 *         negative UC_E* code.
 */
int uc_crawl_receive(uc_crawl *c, const char *url, const char *parent, int depth,
                     unsigned kind, uint64_t now_ms);

/**
 * URLs given to `peers.hand` are now with their owner: the store marks
 * them DONE (error "handed-over") and commits. @return 0 or the store's error.
 */
int uc_crawl_handed(uc_crawl *c, const uint64_t *ids, size_t n);

/** The live counters (borrowed, read-only; valid until uc_crawl_free). */
const uc_stats *uc_crawl_stats(const uc_crawl *c);

/** URLs queued now. */
size_t uc_crawl_queued(const uc_crawl *c);

/**
 * The product token of a user agent for robots.txt matching: the text
 * before the first '/' or space ("uvcrawl" for "uvcrawl/0.1 (+url)").
 * Written into buf (truncated to fit).
 */
void uc_crawl_product_token(const char *user_agent, char *buf, size_t buflen);

#endif /* UVCRAWL_CRAWL_H */
