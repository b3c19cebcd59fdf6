/*
 * loop_int.h - the event-loop engine's private types, shared by engine.c
 * (the loop, the gate, signals, shutdown) and xfer.c (curl on libuv and the
 * per-transfer state machine). Loop thread only: nothing here is locked.
 */
#ifndef UVCRAWL_LOOP_INT_H
#define UVCRAWL_LOOP_INT_H

#include <curl/curl.h>
#include <stdbool.h>
#include <uv.h>

#include "cluster.h"
#include "dns.h"
#include "uvcrawl/buf.h"
#include "uvcrawl/crawl.h"
#include "uvcrawl/run.h"
#include "uvcrawl/trace.h"
#include "transfer.h"

typedef enum loop_phase {
  PHASE_RUNNING,  /* dispatching */
  PHASE_DRAINING, /* first signal: no dispatch, transfers in flight finish */
  PHASE_ABORTING, /* second signal or drain timeout: transfers are cut */
  PHASE_CLOSING,  /* every transfer is done; handles are closing */
} loop_phase;

typedef struct loop_xfer loop_xfer;
typedef struct loop_sock loop_sock;

/* Idle easy handles kept for reuse: enough for the transfers that end in
 * one loop turn before the next ones start. */
#define LOOP_IDLE_EASY 64

typedef struct loop_engine {
  uv_loop_t loop;
  const uc_config *cfg;
  const uc_run_env *env; /* records, trace writer, early signals (borrowed) */
  uc_crawl *crawl;
  const uc_stats *stats; /* the crawl's live counters (read-only) */
  CURLM *multi;
  /* TLS sessions shared by every transfer's easy handle (one thread: no
   * lock callbacks). Note: measured with curl 7.88, a multi alone keeps no
   * session between easy handles: 16 full handshakes and no resumption on
   * 4 hosts over HTTP/1.1, where the share resumes all but the first. */
  CURLSH *tls_share;
  /* Easy handles of finished transfers, for the next ones: a reused handle
   * saves curl_easy_init and curl_easy_cleanup (about 12,000 instructions
   * a transfer, callgrind); uc_transfer_setup resets its options. */
  CURL *idle_easy[LOOP_IDLE_EASY];
  unsigned n_idle_easy;
  loop_dns *dns;
  uv_timer_t curl_timer;     /* CURLMOPT_TIMERFUNCTION */
  uv_timer_t gate_timer;     /* the earliest moment a waiting host gets a token */
  uv_timer_t progress_timer; /* --progress line */
  uv_timer_t drain_timer;    /* bounds the drain after the first signal */
  uv_idle_t kick;            /* runs dispatch once per loop turn when asked */
  uv_signal_t sigint, sigterm;
  uv_async_t store_async;    /* the store's writer: groups became durable (with a store) */
  loop_phase phase;
  unsigned concurrency;
  unsigned max_connects;     /* curl's connection cache, within the fd limit */
  unsigned signals;          /* how many SIGINT/SIGTERM arrived */
  int interrupted;           /* 0, 1 (drained) or 2 (aborted), for the summary */
  uint64_t dns_queries, dns_cache_hits; /* the resolver's counts, read at close */
  uint64_t start_ns;
  loop_xfer *xfers;          /* every live transfer, for abort */
  loop_sock *socks;          /* every socket curl asked us to watch */
  int sock_error;            /* the last libuv error watching one, for the message */
  unsigned parsing;          /* transfers in the uv_work_t pool */
  bool progress_shown;
  uc_trace *trace;           /* --trace, or NULL (see trace.c in xfer.c) */
  uv_timer_t trace_timer;    /* samples counters and loop lag (only with --trace) */
  uint64_t trace_due_ns;     /* when trace_timer should fire */
  uint64_t loop_tid;         /* the loop thread's id, for parse spans */
  uint64_t store_tid;        /* the store writer's id, once named in the trace */
  uc_cluster *cluster;       /* --cluster: this agent, or NULL */
} loop_engine;

/* Transfer states (one state machine per URL; see xfer.c for the legal
 * transitions). Each state's function runs when the transfer enters it. */
typedef enum xfer_state {
  XFER_NEW,       /* made by loop_xfer_start, not started */
  XFER_RESOLVING, /* waiting for c-ares (or about to ask the cache) */
  XFER_RESOLVED,  /* the lookup answered (or failed): start curl or give up */
  XFER_FETCHING,  /* an easy handle in the multi; curl drives it */
  XFER_FETCHED,   /* curl is done with it (or it was cut): parse or not */
  XFER_PARSING,   /* body in the uv_work_t pool */
  XFER_DONE,      /* handed back to the crawl and freed */
  XFER_STATE_COUNT_
} xfer_state;

struct loop_xfer {
  loop_engine *eng;
  uc_fetch *fetch;       /* owned until handed back to the crawl */
  xfer_state state;
  loop_xfer *prev, *next; /* eng->xfers */
  loop_dns_waiter dns_wait;
  int dns_rc;            /* the lookup's result: 0, or a UC_E* code */
  char addr[LOOP_DNS_ADDR_MAX];
  CURL *easy;
  uc_transfer transfer;  /* options, body, header cap: shared with the threads engine */
  uint64_t started_ns;
  uc_fetch_result result;
  uc_parsed parsed;
  int parse_rc;          /* uc_crawl_parse's result: 0 or UC_ENOMEM */
  uint64_t parse_ns;
  uv_work_t work;
  struct {                 /* --trace only: when each phase ended (uv_hrtime) */
    uint64_t dns_end_ns, curl_end_ns, parse_start_ns, parse_tid;
    uc_trace_curl curl;
  } tr;
};

/* engine.c */
uint64_t loop_now_ms(loop_engine *eng);
void loop_kick(loop_engine *eng);

/* xfer.c */
int loop_curl_init(loop_engine *eng);
void loop_curl_close(loop_engine *eng);
void loop_xfer_start(loop_engine *eng, uc_fetch *fetch);
void loop_xfer_abort_all(loop_engine *eng);
/* Whether a transfer may go from one state to the other (asserted). */
bool loop_xfer_transition_ok(xfer_state from, xfer_state to);

#endif /* UVCRAWL_LOOP_INT_H */
