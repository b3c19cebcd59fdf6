/*
 * config - the crawl's settings, shared by the command line and both engines.
 *
 * The CLI fills a uc_config from argv (src/cli/options.c); engines read it
 * and never change it. Strings and arrays point into storage owned by
 * whoever filled the struct (argv, or the CLI's seed list) and stay valid
 * for the whole crawl. Settings only: the runtime objects an engine is
 * started with (outputs, the trace writer) are in uc_run_env (run.h).
 */
#ifndef UVCRAWL_CONFIG_H
#define UVCRAWL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uvcrawl/extract.h"

/* Limits both engines put on every transfer. */
#define UC_MAX_HEADER_BYTES (64 * 1024) /* all response headers of one response */
#define UC_LOW_SPEED_BYTES 256          /* slower than this ... */
#define UC_LOW_SPEED_SECONDS 10         /* ... for this long: cut off */
#define UC_FD_RESERVE 64 /* files beside the transfers: DNS, outputs, spare connections */

typedef enum uc_engine_kind { UC_ENGINE_LOOP, UC_ENGINE_THREADS } uc_engine_kind;

typedef enum uc_seen_kind {
  UC_SEEN_MUTEX,    /* threads engine: striped mutexes around uc_seen sets */
  UC_SEEN_LOCKFREE, /* threads engine: open addressing with compare-and-swap */
} uc_seen_kind;

typedef enum uc_sync_kind {
  UC_SYNC_PTHREAD, /* threads engine: pthreads' mutexes and condition variables */
  UC_SYNC_FUTEX,   /* threads engine: the hand-built ones of sync.h */
} uc_sync_kind;

typedef enum uc_scope {
  UC_SCOPE_HOST,   /* follow links to the seeds' hosts only */
  UC_SCOPE_DOMAIN, /* ... to hosts under the seeds' registrable domains */
  UC_SCOPE_ANY,    /* follow every http(s) link */
} uc_scope;

/* --http1.1 / --http2: the HTTP version curl asks for. */
typedef enum uc_http_version {
  UC_HTTP_AUTO, /* what ALPN gives over TLS (HTTP/2 or 1.1), HTTP/1.1 in clear */
  UC_HTTP_1_1,  /* HTTP/1.1 only */
  UC_HTTP_2,    /* HTTP/2: ALPN over TLS, an h2c upgrade in clear */
} uc_http_version;

typedef struct uc_config {
  uc_engine_kind engine;
  unsigned concurrency;      /* transfers in flight (loop) / workers (threads) */
  int depth;                 /* -1: unlimited */
  uint64_t max_pages;        /* 0: unlimited */
  uint64_t max_pages_per_host; /* 0: unlimited */
  double rate;               /* per-host requests per second; <= 0: unlimited */
  double burst;              /* per-host bucket capacity, >= 1 */
  unsigned per_host;         /* per-host transfers in flight */
  uc_scope scope;
  const char *const *allow;  /* POSIX extended regexes; a link must match one */
  size_t n_allow;
  const char *const *deny;   /* ... and none of these */
  size_t n_deny;
  unsigned parse_threads;    /* loop engine: 0 parses on the loop thread */
  uc_parser parser;          /* --parser: the HTML parser (default gumbo) */
  const char *user_agent;
  bool robots;
  double max_crawl_delay_s;  /* hosts asking more are skipped */
  double timeout_s;          /* whole transfer */
  double connect_timeout_s;
  double drain_timeout_s;    /* after the first signal */
  uint64_t max_body;         /* bytes; larger bodies are cut and flagged */
  unsigned retries;
  unsigned max_redirects;
  size_t max_url_length;
  const char *const *resolve; /* "HOST:PORT:ADDR" pins; HOST may be "*.suffix" */
  size_t n_resolve;
  const char *dns_server;    /* "ADDR[:PORT]" or NULL for resolv.conf */
  const char *output;        /* NULL or "-": stdout */
  const char *stats_path;    /* NULL: no stats file */
  const char *trace_path;    /* --trace: NULL: no trace */
  const char *state_dir;     /* --state: NULL: the crawl's state lives in memory */
  bool progress;
  bool quiet;
  bool verbose;              /* one stderr line per URL refused or failed */
  bool record_headers;       /* a few response headers in each record */
  const char *warc_prefix;   /* --warc: NULL: no archive, and bodies kept only for parsing */
  const char *warc_cdx;      /* --warc-cdx: NULL: no index */
  uint64_t warc_max_size;    /* --warc-max-size: rotate past this many bytes */
  bool warc_dedup;           /* --warc-dedup: revisit records for payloads seen before */
  const char *const *seeds;  /* URLs as given; normalized by the crawl */
  size_t n_seeds;
  uint64_t seen_key[2];      /* key of the visited set's hash */
  uc_seen_kind seen;         /* the threads engine's visited set (--seen) */
  uc_sync_kind sync;         /* the threads engine's locks (--sync) */
  uint64_t max_files;        /* the open-files limit the crawl runs under; 0: none */
  /* TLS, HTTP version, request headers and proxy (issue 14). */
  const char *ca_cert;       /* --ca-cert: PEM file of trusted CAs; NULL: the system's */
  bool insecure;             /* --insecure: no certificate or host name check */
  uc_http_version http_version;
  const char *const *headers; /* --header "Name: value" lines, sent with every request */
  size_t n_headers;
  const char *proxy;         /* --proxy URL, or NULL: curl's default (no proxy unless the
                                environment names one) */
  /* --accept / --reject items: a file extension ("pdf", no dot) judges a
   * link before it is queued; a Content-Type ("text/html", or "image/" and
   * a star for every image type) judges a response once its headers arrive. */
  const char *const *accept;
  size_t n_accept;
  const char *const *reject;
  size_t n_reject;
  bool sitemaps;             /* --sitemaps on: follow robots.txt's Sitemap: lines */
  const char *const *sitemap_seeds; /* --sitemap URL: sitemaps to start from */
  size_t n_sitemap_seeds;
  /* --cluster (issue 12): this agent and how many share the crawl;
   * agents 0: no cluster. */
  const char *cluster;       /* the --cluster URL as given, or NULL */
  unsigned agent, agents;
} uc_config;

/** Fill `cfg` with the polite defaults of DESIGN.md (no seeds). */
void uc_config_defaults(uc_config *cfg);

#endif /* UVCRAWL_CONFIG_H */
