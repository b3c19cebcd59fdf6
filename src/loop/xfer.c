/*
 * xfer.c - libcurl's multi-socket API on libuv, and the state machine of
 * one transfer: RESOLVING -> FETCHING -> FETCHED -> [PARSING] -> DONE.
 *
 * Every libuv, curl or c-ares callback finds its transfer, records what
 * happened and calls step(); step() runs the state's function. Nothing
 * here calls into curl from inside a curl callback: curl's socket and
 * timer callbacks only (re)arm libuv handles, and finished transfers are
 * drained with curl_multi_info_read() after curl_multi_socket_action()
 * has returned.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "loop_int.h"
#include "uvcrawl/error.h"

/* One socket curl asked us to watch. Note: each socket gets a fresh
 * context; a closed one is freed only in its close callback, so a new
 * socket that reuses the fd number never meets a closing uv_poll_t. */
typedef struct curl_sock {
  uv_poll_t poll;
  curl_socket_t fd;
  loop_engine *eng;
  struct curl_sock *prev, *next;
} curl_sock;

static void step(loop_xfer *x);

static void trace_state(loop_xfer *x, xfer_state s);

static void set_state(loop_xfer *x, xfer_state s) {
  if (x->eng->trace != NULL)
    trace_state(x, s);
  x->state = s;
}

static uint64_t now_ms(loop_xfer *x) { return loop_now_ms(x->eng); }

/* ---- curl on libuv ---------------------------------------------------- */

static void sock_closed_cb(uv_handle_t *h) { free(h->data); }

static void close_sock(curl_sock *cs) {
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
    uc_transfer_collect(&x->transfer, code, (double)(uv_hrtime() - x->started_ns) / 1e6,
                        &x->result);
    set_state(x, XFER_FETCHED);
    step(x);
  }
}

static void poll_cb(uv_poll_t *p, int status, int events) {
  curl_sock *cs = p->data;
  loop_engine *eng = cs->eng;
  int flags = 0;
  if (status < 0)
    flags = CURL_CSELECT_ERR;
  else
    flags = ((events & UV_READABLE) ? CURL_CSELECT_IN : 0) |
            ((events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0);
  int running;
  curl_multi_socket_action(eng->multi, cs->fd, flags, &running);
  drain_done(eng);
}

/* CURLMOPT_SOCKETFUNCTION: watch, re-watch or forget one socket. Only
 * libuv and curl_multi_assign are called here. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  loop_engine *eng = userp;
  curl_sock *cs = socketp;
  if (what == CURL_POLL_REMOVE) {
    if (cs != NULL) {
      curl_multi_assign(eng->multi, fd, NULL);
      close_sock(cs); /* stops polling before curl closes the fd */
    }
    return 0;
  }
  if (cs == NULL) {
    cs = calloc(1, sizeof *cs);
    if (cs == NULL || uv_poll_init_socket(&eng->loop, &cs->poll, fd) != 0) {
      free(cs);
      return -1; /* curl fails this transfer */
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
  uv_poll_start(&cs->poll, events, poll_cb);
  return 0;
}

static void curl_timeout_cb(uv_timer_t *t) {
  loop_engine *eng = t->data;
  int running;
  curl_multi_socket_action(eng->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  drain_done(eng);
}

/* CURLMOPT_TIMERFUNCTION. Note: a 0 ms timeout means "soon", and is run
 * from the timer, never from inside this callback (curl forbids it). */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
  loop_engine *eng = userp;
  if (timeout_ms < 0)
    uv_timer_stop(&eng->curl_timer);
  else
    uv_timer_start(&eng->curl_timer, curl_timeout_cb, (uint64_t)timeout_ms, 0);
  return 0;
}

int loop_curl_init(loop_engine *eng) {
  eng->multi = curl_multi_init();
  if (eng->multi == NULL)
    return UC_ENOMEM;
  uv_timer_init(&eng->loop, &eng->curl_timer);
  eng->curl_timer.data = eng;
  curl_multi_setopt(eng->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt(eng->multi, CURLMOPT_SOCKETDATA, eng);
  curl_multi_setopt(eng->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(eng->multi, CURLMOPT_TIMERDATA, eng);
  /* The gate already holds --per-host; this is a second fence. */
  curl_multi_setopt(eng->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)eng->cfg->per_host);
  /* Note: a connection cache smaller than the number of hosts in play makes
   * curl close and reopen connections all the time (measured: 3,132
   * connections for 3,200 requests to 200 hosts at -c 100, and half the
   * throughput); its default, 4x the transfers added, could outgrow the
   * open-files limit at high -c, so the engine sizes it. */
  curl_multi_setopt(eng->multi, CURLMOPT_MAXCONNECTS, (long)eng->max_connects);
  return 0;
}

void loop_curl_close(loop_engine *eng) {
  /* Stop every poll before curl closes its cached connections' fds. */
  for (curl_sock *cs = eng->socks; cs != NULL; cs = cs->next)
    uv_poll_stop(&cs->poll);
  curl_multi_cleanup(eng->multi);
  eng->multi = NULL;
  while (eng->socks != NULL)
    close_sock(eng->socks);
  uv_close((uv_handle_t *)&eng->curl_timer, NULL);
}

/* ---- --trace ---------------------------------------------------------- */

/* Write the transfer's spans: it is about to be handed back. */
static void trace_done(loop_xfer *x) {
  loop_engine *eng = x->eng;
  const uc_frontier_item *it = &x->fetch->item;
  uint64_t now = uv_hrtime();
  uc_trace_xfer tx = {
      .url = it->url,
      .status = x->result.status,
      .error = x->result.fail != UC_FAIL_NONE ? uc_fail_name(x->result.fail) : NULL,
      .queued_ns = it->queued_ms * 1000000,
      .wait_from_ns = it->wait_from_ms * 1000000,
      .wait_until_ns = it->wait_until_ms * 1000000,
      .dispatched_ns = x->started_ns,
      .dns_start_ns = x->started_ns,
      .dns_end_ns = x->tr.dns_end_ns,
      .curl_end_ns = x->tr.curl_end_ns,
      .curl = x->tr.curl,
      .parse_tid = x->tr.parse_tid,
      .parse_start_ns = x->tr.parse_start_ns,
      .parse_end_ns = x->tr.parse_start_ns + x->parse_ns,
      .end_ns = now,
  };
  int rc = 0;
  if (x->tr.parse_start_ns != 0 && x->tr.parse_tid != eng->loop_tid)
    rc = uc_trace_name_thread(eng->trace, x->tr.parse_tid, "libuv pool thread");
  if (rc == 0)
    rc = uc_trace_transfer(eng->trace, &tx);
  (void)rc; /* a failed write is remembered and reported at the end */
}

/* Note the moments set_state() sees that the trace needs. */
static void trace_state(loop_xfer *x, xfer_state s) {
  if (x->state == XFER_RESOLVING && s != XFER_RESOLVING && x->tr.dns_end_ns == 0)
    x->tr.dns_end_ns = uv_hrtime();
  if (x->state == XFER_FETCHING && s != XFER_FETCHING) { /* done, or aborted */
    x->tr.curl_end_ns = uv_hrtime();
    uc_transfer_times(&x->transfer, &x->tr.curl);
  }
  if (s == XFER_DONE)
    trace_done(x);
}

/* ---- one transfer ----------------------------------------------------- */

static void finish(loop_xfer *x, uc_fail fail) {
  if (fail != UC_FAIL_NONE)
    x->result.fail = fail;
  set_state(x, XFER_DONE);
  step(x);
}

/* Configure an easy handle and give it to the multi. */
static void begin_fetch(loop_xfer *x) {
  loop_engine *eng = x->eng;
  x->easy = curl_easy_init();
  if (x->easy == NULL ||
      uc_transfer_setup(&x->transfer, x->easy, eng->cfg, x->fetch, x->addr) != 0) {
    finish(x, UC_FAIL_OTHER);
    return;
  }
  curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
  if (curl_multi_add_handle(eng->multi, x->easy) != CURLM_OK) {
    finish(x, UC_FAIL_OTHER);
    return;
  }
  set_state(x, XFER_FETCHING);
}

static void dns_cb(void *arg, int status, const char *addr) {
  loop_xfer *x = arg;
  if (status == 0) {
    memcpy(x->addr, addr, LOOP_DNS_ADDR_MAX);
    begin_fetch(x);
  } else {
    finish(x, status == UC_ECLOSED ? UC_FAIL_ABORTED : UC_FAIL_DNS);
  }
}

static void resolve(loop_xfer *x) {
  int rc = loop_dns_resolve(x->eng->dns, x->fetch->host, x->fetch->port, x->addr, &x->dns_wait,
                            dns_cb, x, now_ms(x));
  if (rc == 0)
    begin_fetch(x);
  else if (rc != UC_EAGAIN)
    finish(x, UC_FAIL_DNS);
}

static void parse_work_cb(uv_work_t *w) {
  loop_xfer *x = w->data;
  uint64_t t0 = uv_hrtime();
  if (x->eng->trace != NULL) { /* the loop thread, or a pool thread */
    x->tr.parse_start_ns = t0;
    x->tr.parse_tid = (uint64_t)gettid();
  }
  /* Only the body and fetch this transfer owns are touched here. */
  uc_crawl_parse(x->fetch, &x->result, &x->parsed);
  x->parse_ns = uv_hrtime() - t0;
}

static void parse_after_cb(uv_work_t *w, int status) {
  loop_xfer *x = w->data;
  x->eng->parsing--;
  if (status == UV_ECANCELED)
    uc_parsed_free(&x->parsed), memset(&x->parsed, 0, sizeof x->parsed);
  finish(x, UC_FAIL_NONE);
}

/* curl is done: parse here, in the pool, or not at all. */
static void fetched(loop_xfer *x) {
  loop_engine *eng = x->eng;
  if (eng->phase == PHASE_ABORTING || !uc_crawl_wants_parse(eng->crawl, x->fetch, &x->result)) {
    finish(x, UC_FAIL_NONE);
    return;
  }
  x->work.data = x;
  if (eng->cfg->parse_threads > 0) {
    set_state(x, XFER_PARSING);
    eng->parsing++;
    if (uv_queue_work(&eng->loop, &x->work, parse_work_cb, parse_after_cb) == 0)
      return;
    eng->parsing--;
  }
  parse_work_cb(&x->work);
  finish(x, UC_FAIL_NONE);
}

/* Hand the outcome to the crawl and free the transfer. */
static void done(loop_xfer *x) {
  loop_engine *eng = x->eng;
  if (x->result.fetch_ms == 0) /* failed before curl ran: DNS, setup */
    x->result.fetch_ms = (double)(uv_hrtime() - x->started_ns) / 1e6;
  int rc = uc_crawl_complete(eng->crawl, x->fetch, &x->result, &x->parsed, x->parse_ns,
                             now_ms(x));
  if (rc != 0 && eng->fatal == 0)
    eng->fatal = rc;
  uc_parsed_free(&x->parsed);
  if (x->easy != NULL)
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
  case XFER_FETCHING: /* curl drives it; drain_done moves it on */
  case XFER_PARSING:  /* the pool drives it; parse_after_cb moves it on */
    break;
  case XFER_FETCHED:
    fetched(x);
    break;
  case XFER_DONE:
    done(x);
    break;
  }
}

void loop_xfer_start(loop_engine *eng, uc_fetch *fetch) {
  loop_xfer *x = calloc(1, sizeof *x);
  if (x == NULL) {
    uc_fetch_result r = {.fail = UC_FAIL_OTHER, .retry_after_s = -1};
    int rc = uc_crawl_complete(eng->crawl, fetch, &r, NULL, 0, loop_now_ms(eng));
    eng->fatal = rc != 0 ? rc : UC_ENOMEM;
    return;
  }
  x->eng = eng;
  x->fetch = fetch;
  x->result.retry_after_s = -1;
  x->started_ns = uv_hrtime();
  x->next = eng->xfers;
  if (eng->xfers)
    eng->xfers->prev = x;
  eng->xfers = x;
  set_state(x, XFER_RESOLVING);
  step(x);
}

void loop_xfer_abort_all(loop_engine *eng) {
  loop_xfer *next;
  for (loop_xfer *x = eng->xfers; x != NULL; x = next) {
    next = x->next;
    if (x->state != XFER_FETCHING)
      continue; /* resolving: cancelled below; parsing: ends by itself */
    curl_multi_remove_handle(eng->multi, x->easy);
    uc_transfer_collect(&x->transfer, CURLE_ABORTED_BY_CALLBACK,
                        (double)(uv_hrtime() - x->started_ns) / 1e6, &x->result);
    finish(x, UC_FAIL_ABORTED);
  }
  loop_dns_cancel_all(eng->dns);
}
