/*
 * xfer.c - libcurl's multi-socket API on libuv, and the state machine of
 * one transfer:
 *
 *   NEW -> RESOLVING -> RESOLVED -> FETCHING -> FETCHED -> [PARSING] -> DONE
 *                          \------------------------------------------^
 *                          (the lookup failed, or curl would not take it)
 *
 * Every libuv, curl or c-ares callback finds its transfer, records what
 * happened and calls go(), which moves the transfer (set_state asserts the
 * move is legal) and runs the new state's function (step). Nothing here
 * calls into curl from inside a curl callback: curl's socket and timer
 * callbacks only (re)arm libuv handles, and finished transfers are drained
 * with curl_multi_info_read() after curl_multi_socket_action() returned.
 *
 * Ownership: the engine owns a transfer from loop_xfer_start until it
 * enters DONE; done() hands the fetch back to the crawl and frees the
 * transfer. Note: so go(x, XFER_DONE) frees x, and no caller may touch x
 * after any go() that can lead there.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "loop_int.h"
#include "uvcrawl/error.h"

/* One socket curl asked us to watch. Note: each socket gets a fresh
 * context; a closed one is freed only in its close callback, so a new
 * socket that reuses the fd number never meets a closing uv_poll_t. */
struct loop_sock {
  uv_poll_t poll;
  curl_socket_t fd;
  loop_engine *eng;
  struct loop_sock *prev, *next;
};

static void step(loop_xfer *x);
static void trace_state(loop_xfer *x, xfer_state s);

/* The legal moves, one bit per target state. */
static const unsigned legal_next[XFER_STATE_COUNT_] = {
    [XFER_NEW] = 1u << XFER_RESOLVING,
    [XFER_RESOLVING] = 1u << XFER_RESOLVED,
    [XFER_RESOLVED] = 1u << XFER_FETCHING | 1u << XFER_DONE,
    [XFER_FETCHING] = 1u << XFER_FETCHED,
    [XFER_FETCHED] = 1u << XFER_PARSING | 1u << XFER_DONE,
    [XFER_PARSING] = 1u << XFER_DONE,
    [XFER_DONE] = 0,
};

bool loop_xfer_transition_ok(xfer_state from, xfer_state to) {
  return from < XFER_STATE_COUNT_ && to < XFER_STATE_COUNT_ && (legal_next[from] >> to & 1u);
}

static void set_state(loop_xfer *x, xfer_state s) {
  assert(loop_xfer_transition_ok(x->state, s));
  if (x->eng->trace != NULL)
    trace_state(x, s);
  x->state = s;
}

/* Move to `s` and run its function. Note: may free x (see the top). */
static void go(loop_xfer *x, xfer_state s) {
  set_state(x, s);
  step(x);
}

static uint64_t now_ms(loop_xfer *x) { return loop_now_ms(x->eng); }

static double elapsed_ms(const loop_xfer *x) {
  return (double)(uv_hrtime() - x->started_ns) / 1e6;
}

/* A library call failed in a way that no retry mends: say which, once,
 * and stop the crawl (what is in flight still finishes). */
static void multi_failed(loop_engine *eng, const char *call, CURLMcode mc) {
  if (uc_crawl_fatal(eng->crawl) == 0) {
    if (eng->sock_error != 0)
      fprintf(stderr, "uvcrawl: %s: %s (%s)\n", call, curl_multi_strerror(mc),
              uv_strerror(eng->sock_error));
    else
      fprintf(stderr, "uvcrawl: %s: %s\n", call, curl_multi_strerror(mc));
  }
  uc_crawl_fail(eng->crawl, mc == CURLM_OUT_OF_MEMORY ? UC_ENOMEM : UC_ELIB);
  loop_kick(eng);
}

/* ---- curl on libuv ---------------------------------------------------- */

static void sock_closed_cb(uv_handle_t *h) { free(h->data); }

static void close_sock(loop_sock *cs) {
  if (cs->prev)
    cs->prev->next = cs->next;
  else
    cs->eng->socks = cs->next;
  if (cs->next)
    cs->next->prev = cs->prev;
  uv_poll_stop(&cs->poll);
  uv_close((uv_handle_t *)&cs->poll, sock_closed_cb);
}

/* Hand finished transfers back to their state machines. */
static void drain_done(loop_engine *eng) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(eng->multi, &left)) != NULL) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    loop_xfer *x = NULL;
    CURLcode code = msg->data.result;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
    curl_multi_remove_handle(eng->multi, msg->easy_handle);
    uc_transfer_collect(&x->transfer, code, elapsed_ms(x), &x->result);
    go(x, XFER_FETCHED);
  }
}

/* Let curl act on a socket (or on its timeout), then take what finished. */
static void socket_action(loop_engine *eng, curl_socket_t fd, int flags) {
  int running;
  CURLMcode mc = curl_multi_socket_action(eng->multi, fd, flags, &running);
  /* Note: CURLM_BAD_SOCKET is no fault: one loop turn can carry an event
   * for a socket that curl closed while handling an earlier event of the
   * same turn. Anything else means curl cannot go on. */
  if (mc != CURLM_OK && mc != CURLM_BAD_SOCKET)
    multi_failed(eng, "curl_multi_socket_action", mc);
  drain_done(eng);
}

static void poll_cb(uv_poll_t *p, int status, int events) {
  loop_sock *cs = p->data;
  int flags = status < 0 ? CURL_CSELECT_ERR
                         : ((events & UV_READABLE) ? CURL_CSELECT_IN : 0) |
                               ((events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0);
  socket_action(cs->eng, cs->fd, flags);
}

/* CURLMOPT_SOCKETFUNCTION: watch, re-watch or forget one socket. Only
 * libuv and curl_multi_assign are called here. Returning -1 makes curl
 * abort its transfers and curl_multi_socket_action fail; the libuv error
 * is kept for the message. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  loop_engine *eng = userp;
  loop_sock *cs = socketp;
  if (what == CURL_POLL_REMOVE) {
    if (cs != NULL) {
      curl_multi_assign(eng->multi, fd, NULL);
      close_sock(cs); /* stops polling before curl closes the fd */
    }
    return 0;
  }
  if (cs == NULL) {
    cs = calloc(1, sizeof *cs);
    int rc = cs == NULL ? UV_ENOMEM : uv_poll_init_socket(&eng->loop, &cs->poll, fd);
    if (rc != 0) {
      free(cs);
      eng->sock_error = rc;
      return -1;
    }
    cs->fd = fd;
    cs->eng = eng;
    cs->poll.data = cs;
    cs->next = eng->socks;
    if (eng->socks)
      eng->socks->prev = cs;
    eng->socks = cs;
    curl_multi_assign(eng->multi, fd, cs);
  }
  int events = ((what & CURL_POLL_IN) ? UV_READABLE : 0) | ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
  int rc = uv_poll_start(&cs->poll, events, poll_cb);
  if (rc != 0) {
    eng->sock_error = rc;
    return -1;
  }
  return 0;
}

static void multi_timeout_cb(uv_timer_t *t) { socket_action(t->data, CURL_SOCKET_TIMEOUT, 0); }

/* CURLMOPT_TIMERFUNCTION. Note: a 0 ms timeout means "soon", and is run
 * from the timer, never from inside this callback (curl forbids it). */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
  loop_engine *eng = userp;
  if (timeout_ms < 0)
    uv_timer_stop(&eng->curl_timer);
  else
    uv_timer_start(&eng->curl_timer, multi_timeout_cb, (uint64_t)timeout_ms, 0);
  return 0;
}

int loop_curl_init(loop_engine *eng) {
  eng->multi = curl_multi_init();
  if (eng->multi == NULL)
    return UC_ENOMEM;
  uv_timer_init(&eng->loop, &eng->curl_timer);
  eng->curl_timer.data = eng;
  CURLM *m = eng->multi;
  CURLMcode mc = curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, socket_cb);
  if (mc == CURLM_OK)
    mc = curl_multi_setopt(m, CURLMOPT_SOCKETDATA, eng);
  if (mc == CURLM_OK)
    mc = curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, timer_cb);
  if (mc == CURLM_OK)
    mc = curl_multi_setopt(m, CURLMOPT_TIMERDATA, eng);
  /* The gate already holds --per-host; this is a second fence. */
  if (mc == CURLM_OK)
    mc = curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)eng->cfg->per_host);
  /* Note: a connection cache smaller than the number of hosts in play makes
   * curl close and reopen connections all the time (measured: 3,132
   * connections for 3,200 requests to 200 hosts at -c 100, and half the
   * throughput); its default, 4x the transfers added, could outgrow the
   * open-files limit at high -c, so the engine sizes it. */
  if (mc == CURLM_OK)
    mc = curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)eng->max_connects);
  CURLSHcode sc = CURLSHE_OK;
  if (mc == CURLM_OK && (eng->tls_share = curl_share_init()) == NULL)
    sc = CURLSHE_NOMEM;
  if (mc == CURLM_OK && sc == CURLSHE_OK)
    sc = curl_share_setopt(eng->tls_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  if (mc != CURLM_OK || sc != CURLSHE_OK) {
    curl_multi_cleanup(m);
    eng->multi = NULL;
    curl_share_cleanup(eng->tls_share);
    eng->tls_share = NULL;
    uv_close((uv_handle_t *)&eng->curl_timer, NULL);
    return mc == CURLM_OUT_OF_MEMORY || sc == CURLSHE_NOMEM ? UC_ENOMEM : UC_ELIB;
  }
  return 0;
}

void loop_curl_close(loop_engine *eng) {
  /* Stop every poll before curl closes its cached connections' fds. */
  for (loop_sock *cs = eng->socks; cs != NULL; cs = cs->next)
    uv_poll_stop(&cs->poll);
  curl_multi_cleanup(eng->multi);
  eng->multi = NULL;
  while (eng->n_idle_easy > 0)
    curl_easy_cleanup(eng->idle_easy[--eng->n_idle_easy]);
  /* Every easy handle is gone by now; a share still in use would say
   * CURLSHE_IN_USE and be leaked rather than freed under a handle. */
  if (eng->tls_share != NULL && curl_share_cleanup(eng->tls_share) == CURLSHE_OK)
    eng->tls_share = NULL;
  while (eng->socks != NULL)
    close_sock(eng->socks);
  uv_close((uv_handle_t *)&eng->curl_timer, NULL);
}

/* ---- --trace ---------------------------------------------------------- */

/* Write the transfer's spans: it is about to be handed back. */
static void trace_done(loop_xfer *x) {
  loop_engine *eng = x->eng;
  uc_trace_xfer tx;
  uc_run_trace_span(&tx, x->fetch, &x->result);
  tx.dispatched_ns = tx.dns_start_ns = x->started_ns;
  tx.dns_end_ns = x->tr.dns_end_ns;
  tx.curl_end_ns = x->tr.curl_end_ns;
  tx.curl = x->tr.curl;
  tx.parse_tid = x->tr.parse_tid;
  tx.parse_start_ns = x->tr.parse_start_ns;
  tx.parse_end_ns = x->tr.parse_start_ns + x->parse_ns;
  tx.end_ns = uv_hrtime();
  int rc = 0;
  if (x->tr.parse_start_ns != 0 && x->tr.parse_tid != eng->loop_tid)
    rc = uc_trace_name_thread(eng->trace, x->tr.parse_tid, "libuv pool thread");
  if (rc == 0)
    rc = uc_trace_transfer(eng->trace, &tx);
  (void)rc; /* a failed write is remembered and reported at the end */
}

/* Note the moments set_state() sees that the trace needs. */
static void trace_state(loop_xfer *x, xfer_state s) {
  if (x->state == XFER_RESOLVING && x->tr.dns_end_ns == 0)
    x->tr.dns_end_ns = uv_hrtime();
  if (x->state == XFER_FETCHING) { /* done, or aborted */
    x->tr.curl_end_ns = uv_hrtime();
    uc_transfer_times(&x->transfer, &x->tr.curl);
  }
  if (s == XFER_DONE)
    trace_done(x);
}

/* ---- one transfer: a function per state ------------------------------- */

/* The transfer cannot run: record why and end it. A code that means the
 * crawl itself cannot go on (no memory, a library refusing an option)
 * also stops the crawl. */
static void give_up(loop_xfer *x, uc_fail why, int err) {
  x->result.fail = why;
  if (err == UC_ENOMEM || err == UC_ELIB)
    uc_crawl_fail(x->eng->crawl, err);
  go(x, XFER_DONE);
}

static void dns_cb(void *arg, int status, const char *addr) {
  loop_xfer *x = arg;
  x->dns_rc = status;
  if (status == 0)
    memcpy(x->addr, addr, LOOP_DNS_ADDR_MAX);
  go(x, XFER_RESOLVED);
}

/* RESOLVING: ask the cache or c-ares; dns_cb answers later if need be. */
static void resolve(loop_xfer *x) {
  /* Note: through --proxy, curl hands the proxy the URL and the proxy
   * resolves the name; a lookup here would only refuse names that the
   * proxy knows and this machine does not. */
  if (x->eng->cfg->proxy != NULL) {
    x->dns_rc = 0;
    x->addr[0] = '\0';
    go(x, XFER_RESOLVED);
    return;
  }
  int rc = loop_dns_resolve(x->eng->dns, x->fetch->host, x->fetch->port, x->addr, &x->dns_wait,
                            dns_cb, x, now_ms(x));
  if (rc == UC_EAGAIN)
    return;
  x->dns_rc = rc;
  go(x, XFER_RESOLVED);
}

/* RESOLVED: configure an easy handle and give it to the multi. */
static void resolved(loop_xfer *x) {
  loop_engine *eng = x->eng;
  if (x->dns_rc != 0) {
    uc_fail why = x->dns_rc == UC_ECLOSED ? UC_FAIL_ABORTED
                  : x->dns_rc == UC_ENOMEM ? UC_FAIL_OTHER
                                           : UC_FAIL_DNS;
    give_up(x, why, x->dns_rc);
    return;
  }
  x->easy = eng->n_idle_easy > 0 ? eng->idle_easy[--eng->n_idle_easy] : curl_easy_init();
  if (x->easy == NULL) {
    give_up(x, UC_FAIL_OTHER, UC_ENOMEM);
    return;
  }
  int rc = uc_transfer_setup(&x->transfer, x->easy, eng->cfg, x->fetch,
                             x->addr[0] != '\0' ? x->addr : NULL);
  if (rc == 0)
    rc = uc_transfer_error(curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x));
  if (rc == 0)
    rc = uc_transfer_error(curl_easy_setopt(x->easy, CURLOPT_SHARE, eng->tls_share));
  /* Note: a new host's first --per-host transfers start together; without
   * PIPEWAIT each would open its own connection (and TLS handshake) before
   * curl learns that the first one multiplexes (HTTP/2): measured 7 or 8
   * handshakes for 4 hosts at --per-host 4, 4 with it. They wait for the
   * first handshake's ALPN answer, then share its connection or open their
   * own. Only over TLS: in clear, curl knows only at the first response. */
  if (rc == 0 && strncmp(x->fetch->item.url, "https:", 6) == 0 &&
      eng->cfg->http_version != UC_HTTP_1_1)
    rc = uc_transfer_error(curl_easy_setopt(x->easy, CURLOPT_PIPEWAIT, 1L));
  if (rc != 0) {
    give_up(x, UC_FAIL_OTHER, rc);
    return;
  }
  CURLMcode mc = curl_multi_add_handle(eng->multi, x->easy);
  if (mc != CURLM_OK) {
    multi_failed(eng, "curl_multi_add_handle", mc);
    give_up(x, UC_FAIL_OTHER, 0);
    return;
  }
  go(x, XFER_FETCHING);
}

static void parse_work_cb(uv_work_t *w) {
  loop_xfer *x = w->data;
  uint64_t t0 = uv_hrtime();
  if (x->eng->trace != NULL) { /* the loop thread, or a pool thread */
    x->tr.parse_start_ns = t0;
    x->tr.parse_tid = (uint64_t)gettid();
  }
  /* Only the body and fetch this transfer owns are touched here. */
  x->parse_rc = uc_crawl_parse(x->eng->crawl, x->fetch, &x->result, &x->parsed);
  x->parse_ns = uv_hrtime() - t0;
}

static void parse_after_cb(uv_work_t *w, int status) {
  loop_xfer *x = w->data;
  x->eng->parsing--;
  if (status == UV_ECANCELED) {
    uc_parsed_free(&x->parsed);
    memset(&x->parsed, 0, sizeof x->parsed);
  }
  go(x, XFER_DONE);
}

/* FETCHED: curl is done; parse here, in the pool, or not at all. */
static void fetched(loop_xfer *x) {
  loop_engine *eng = x->eng;
  if (eng->phase == PHASE_ABORTING || !uc_crawl_wants_parse(eng->crawl, x->fetch, &x->result)) {
    go(x, XFER_DONE);
    return;
  }
  if (eng->cfg->parse_threads > 0) {
    go(x, XFER_PARSING);
    return;
  }
  parse_work_cb(&x->work);
  go(x, XFER_DONE);
}

/* PARSING: hand the body to the pool; parse here if the pool refuses. */
static void parsing(loop_xfer *x) {
  loop_engine *eng = x->eng;
  eng->parsing++;
  if (uv_queue_work(&eng->loop, &x->work, parse_work_cb, parse_after_cb) == 0)
    return;
  eng->parsing--;
  parse_work_cb(&x->work);
  go(x, XFER_DONE);
}

/* DONE: hand the outcome to the crawl and free the transfer. */
static void done(loop_xfer *x) {
  loop_engine *eng = x->eng;
  if (x->result.fetch_ms == 0) /* failed before curl ran: DNS, setup */
    x->result.fetch_ms = elapsed_ms(x);
  /* A parse that ran out of memory lost the page's links: fatal. */
  uc_crawl_fail(eng->crawl, x->parse_rc);
  int rc = uc_crawl_complete(eng->crawl, x->fetch, &x->result, &x->parsed, x->parse_ns,
                             now_ms(x));
  uc_crawl_fail(eng->crawl, rc);
  uc_parsed_free(&x->parsed);
  if (x->easy != NULL && eng->multi != NULL && eng->n_idle_easy < LOOP_IDLE_EASY)
    eng->idle_easy[eng->n_idle_easy++] = x->easy; /* out of the multi already */
  else if (x->easy != NULL)
    curl_easy_cleanup(x->easy);
  uc_transfer_reset(&x->transfer, false);
  if (x->prev)
    x->prev->next = x->next;
  else
    eng->xfers = x->next;
  if (x->next)
    x->next->prev = x->prev;
  free(x);
  loop_kick(eng);
}

static void step(loop_xfer *x) {
  switch (x->state) {
  case XFER_RESOLVING:
    resolve(x);
    break;
  case XFER_RESOLVED:
    resolved(x);
    break;
  case XFER_FETCHING: /* curl drives it; drain_done moves it on */
    break;
  case XFER_FETCHED:
    fetched(x);
    break;
  case XFER_PARSING: /* the pool drives it; parse_after_cb moves it on */
    parsing(x);
    break;
  case XFER_DONE:
    done(x);
    break;
  case XFER_NEW:
  case XFER_STATE_COUNT_:
    assert(!"no transfer rests in this state");
    break;
  }
}

void loop_xfer_start(loop_engine *eng, uc_fetch *fetch) {
  loop_xfer *x = calloc(1, sizeof *x);
  if (x == NULL) {
    uc_fetch_result r;
    uc_fetch_result_failed(&r, UC_FAIL_OTHER, 0);
    uc_crawl_fail(eng->crawl, UC_ENOMEM);
    uc_crawl_fail(eng->crawl, uc_crawl_complete(eng->crawl, fetch, &r, NULL, 0, loop_now_ms(eng)));
    return;
  }
  x->eng = eng;
  x->fetch = fetch;
  x->result.retry_after_s = -1;
  x->started_ns = uv_hrtime();
  x->work.data = x;
  x->next = eng->xfers;
  if (eng->xfers)
    eng->xfers->prev = x;
  eng->xfers = x;
  go(x, XFER_RESOLVING);
}

void loop_xfer_abort_all(loop_engine *eng) {
  loop_xfer *next;
  for (loop_xfer *x = eng->xfers; x != NULL; x = next) {
    next = x->next;
    if (x->state != XFER_FETCHING)
      continue; /* resolving: cancelled below; parsing: ends by itself */
    curl_multi_remove_handle(eng->multi, x->easy);
    uc_transfer_collect(&x->transfer, CURLE_ABORTED_BY_CALLBACK, elapsed_ms(x), &x->result);
    x->result.fail = UC_FAIL_ABORTED;
    go(x, XFER_FETCHED); /* the ABORTING phase sends it straight to DONE */
  }
  loop_dns_cancel_all(eng->dns);
}
