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

#include "dns.h"
#include "uvcrawl/buf.h"
#include "uvcrawl/crawl.h"
#include "uvcrawl/trace.h"
#include "uvcrawl/transfer.h"

typedef enum loop_phase {
  PHASE_RUNNING,  /* dispatching */
  PHASE_DRAINING, /* first signal: no dispatch, transfers in flight finish */
  PHASE_ABORTING, /* second signal or drain timeout: transfers are cut */
  PHASE_CLOSING,  /* every transfer is done; handles are closing */
} loop_phase;

typedef struct loop_xfer loop_xfer;
typedef struct curl_sock curl_sock;

typedef struct loop_engine {
  uv_loop_t loop;
  const uc_config *cfg;
  uc_crawl *crawl;
  uc_stats *stats;     /* the crawl's live counters */
  CURLM *multi;
  loop_dns *dns;
  uv_timer_t curl_timer;     /* CURLMOPT_TIMERFUNCTION */
  uv_timer_t gate_timer;     /* the earliest moment a waiting host gets a token */
  uv_timer_t progress_timer; /* --progress line */
  uv_timer_t drain_timer;    /* bounds the drain after the first signal */
  uv_idle_t kick;            /* runs dispatch once per loop turn when asked */
  uv_signal_t sigint, sigterm;
  loop_phase phase;
  unsigned concurrency;
  unsigned max_connects;     /* curl's connection cache, within the fd limit */
  unsigned signals;          /* how many SIGINT/SIGTERM arrived */
  int fatal;                 /* a UC_E* code that ends the crawl with exit 1 */
  uint64_t start_ns;
  loop_xfer *xfers;          /* every live transfer, for abort */
  curl_sock *socks;          /* every socket curl asked us to watch */
  unsigned parsing;          /* transfers in the uv_work_t pool */
  bool progress_shown;
  uc_trace *trace;           /* --trace, or NULL (see trace.c in xfer.c) */
  uv_timer_t trace_timer;    /* samples counters and loop lag (only with --trace) */
  uint64_t trace_due_ns;     /* when trace_timer should fire */
  uint64_t loop_tid;         /* the loop thread's id, for parse spans */
} loop_engine;

/* Transfer states (one state machine per URL; see xfer.c). */
typedef enum xfer_state {
  XFER_RESOLVING, /* waiting for c-ares or the DNS cache */
  XFER_FETCHING,  /* an easy handle in the multi */
  XFER_FETCHED,   /* curl is done with it; decide whether to parse */
  XFER_PARSING,   /* body in the uv_work_t pool */
  XFER_DONE,      /* handed back to the crawl; about to be freed */
} xfer_state;

struct loop_xfer {
  loop_engine *eng;
  uc_fetch *fetch;       /* owned until handed back to the crawl */
  xfer_state state;
  loop_xfer *prev, *next; /* eng->xfers */
  loop_dns_waiter dns_wait;
  char addr[LOOP_DNS_ADDR_MAX];
  CURL *easy;
  uc_transfer transfer;  /* options, body, header cap: shared with the threads engine */
  uint64_t started_ns;
  uc_fetch_result result;
  uc_parsed parsed;
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

#endif /* UVCRAWL_LOOP_INT_H */
