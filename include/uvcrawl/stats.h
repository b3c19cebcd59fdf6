/*
 * stats - the counters of a crawl, shared by both engines, and the two ways
 * they are shown: a JSON object (--stats FILE) and a human summary.
 *
 * A uc_stats is plain data. The loop engine updates it from its one thread;
 * the threaded engine updates it under its crawl lock. Not thread-safe.
 */
#ifndef UVCRAWL_STATS_H
#define UVCRAWL_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "uvcrawl/buf.h"

/* Why a fetch failed without an HTTP status: X(name, record "error" value) */
#define UC_FAIL_MAP(X)              \
  X(DNS, "dns")                     \
  X(REFUSED, "refused")             \
  X(CONNECT, "connect")             \
  X(TIMEOUT, "timeout")             \
  X(RESET, "reset")                 \
  X(TLS, "tls")                     \
  X(CERT_UNKNOWN_CA, "cert-unknown-ca") \
  X(CERT_EXPIRED, "cert-expired")   \
  X(CERT_WRONG_NAME, "cert-wrong-name") \
  X(HEADERS, "headers-too-large")   \
  X(REDIRECTS, "too-many-redirects") \
  X(ROBOTS, "robots")               \
  X(CRAWL_DELAY, "crawl-delay")     \
  X(PROTOCOL, "protocol")           \
  X(REJECTED_TYPE, "rejected-type") \
  X(ABORTED, "aborted")             \
  X(BAD_URL, "bad-url")             \
  X(OTHER, "other")

typedef enum uc_fail {
  UC_FAIL_NONE = 0,
#define UC_FAIL_ENUM_(name, str) UC_FAIL_##name,
  UC_FAIL_MAP(UC_FAIL_ENUM_)
#undef UC_FAIL_ENUM_
  UC_FAIL_COUNT_
} uc_fail;

/* Why a discovered link was not queued: X(name, stats key) */
#define UC_SKIP_MAP(X)               \
  X(SEEN, "duplicate")               \
  X(SCOPE, "scope")                  \
  X(DEPTH, "depth")                  \
  X(PATTERN, "pattern")              \
  X(URL_LENGTH, "url_length")        \
  X(REPEATED_SEGMENT, "repeated_segment") \
  X(EXTENSION, "extension")          \
  X(MAX_PAGES, "max_pages")          \
  X(MAX_PAGES_PER_HOST, "max_pages_per_host")

typedef enum uc_skip {
#define UC_SKIP_ENUM_(name, str) UC_SKIP_##name,
  UC_SKIP_MAP(UC_SKIP_ENUM_)
#undef UC_SKIP_ENUM_
  UC_SKIP_COUNT_
} uc_skip;

/* Why a crawl ended (stats "ended"). */
typedef enum uc_end {
  UC_END_DONE = 0,   /* nothing left to fetch */
  UC_END_MAX_PAGES,  /* --max-pages reached */
  UC_END_INTERRUPTED, /* a signal */
  UC_END_FATAL,      /* a fatal condition (stderr said which) */
} uc_end;

typedef struct uc_stats {
  uint64_t pages;         /* records written, one per URL (any outcome) */
  uint64_t requests;      /* fetches that ran to an outcome: robots.txt and retries included,
                             aborted ones not */
  uint64_t html_pages;    /* 2xx responses that are HTML (parsed or not, by -d) */
  uint64_t seeds_ok;      /* depth-0 records with a status below 400 (redirect targets too) */
  uint64_t status_2xx, status_3xx, status_4xx, status_5xx;
  uint64_t failures[UC_FAIL_COUNT_]; /* records with an "error", by kind */
  uint64_t skipped[UC_SKIP_COUNT_];  /* links not queued, by reason */
  uint64_t bytes;         /* body bytes received, pages and robots.txt */
  uint64_t truncated;     /* records whose body was cut at --max-body */
  uint64_t links_found;   /* unique links on parsed pages */
  uint64_t links_new;     /* of those, queued */
  uint64_t parsed;        /* pages handed to the HTML parser */
  uint64_t parse_bytes;
  uint64_t parse_ns;      /* wall time spent in uc_extract */
  uint64_t robots_fetches;
  uint64_t retries;       /* extra attempts */
  uint64_t hosts;         /* distinct host keys */
  uint64_t inflight;      /* transfers in flight now */
  uint64_t peak_inflight;
  uint64_t dns_queries;   /* queries sent (loop engine's c-ares) */
  uint64_t dns_cache_hits;
  uint64_t tls_handshakes; /* TLS connections opened (full handshakes and resumed ones) */
  uint64_t tls_resumed;    /* of those, resumed from a cached session */
  uint64_t unfetched;     /* queued URLs dropped at shutdown */
  double elapsed_s;
  int interrupted;        /* 0, 1 (drained) or 2 (aborted) */
  uint64_t threads_started; /* threads engine: worker threads started (0 in the loop engine) */
  bool max_pages_reached; /* --max-pages stopped the dispatch */
  uc_end ended;           /* set by uc_run_end */
  struct {                /* a cluster agent's share (--cluster); agents 0: none */
    unsigned agent, agents;
    uint64_t links_out, links_in;     /* links handed to / received from other agents */
    uint64_t entries_out, entries_in; /* Redis stream entries (batches) added / read */
    uint64_t commands, reconnects;    /* Redis commands sent; connections lost */
    uint64_t spilled;                 /* links spilled to a file while Redis was away */
    uint64_t handover_ns;             /* loop-thread CPU time spent on hand-overs */
  } cluster;
} uc_stats;

/** The stats "ended" string: "done", "max-pages", "interrupted" or "fatal". */
const char *uc_end_name(uc_end e);

/** The record "error" string of a failure kind; NULL for UC_FAIL_NONE. */
const char *uc_fail_name(uc_fail f);

/** The stats key of a skip reason. */
const char *uc_skip_name(uc_skip s);

/**
 * Append the stats as one JSON object and '\n' to `out`.
 * @param engine  "loop" or "threads" (borrowed).
 * @return 0 or UC_ENOMEM (out->len is restored on failure).
 */
int uc_stats_format_json(uc_buf *out, const uc_stats *s, const char *engine);

/**
 * Write the human summary (a few lines) to `f`, e.g. stderr.
 * @return 0 or UC_EIO.
 */
int uc_stats_print_summary(FILE *f, const uc_stats *s, const char *engine);

#endif /* UVCRAWL_STATS_H */
