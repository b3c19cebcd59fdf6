/* server.c - one libuv loop serving every connection.
 *
 * Each connection is a small state machine (conn_state). Callbacks find their
 * connection through ->data, record what happened and move the machine on.
 * A connection's memory is freed only in the last of its close callbacks. */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include "http.h"
#include "reqlog.h"
#include "respond.h"
#include "util.h"

#define TW_MAX_HEAD 16384          /* request head cap: 431 beyond */
#define TW_IN_HIGH_WATER 65536     /* stop reading while busy past this */
#define TW_CHUNK 65536             /* streaming chunk (0x10000) */
#define TW_BACKLOG 8192            /* the kernel caps it at somaxconn */
#define TW_LINGER_MS 2000          /* read-and-drop time after our FIN */

typedef enum conn_state {
  CONN_READING,   /* waiting for a complete request head */
  CONN_DELAYING,  /* response built; latency timer running */
  CONN_WRITING,   /* head (and fixed body) write in flight */
  CONN_STREAMING, /* body chunks: a write in flight or the slow timer */
  CONN_SHUTDOWN,  /* last response written; FIN sent, dropping input */
  CONN_CLOSING    /* uv_close issued; waiting for the close callbacks */
} conn_state;

typedef struct tw_server tw_server;

typedef struct tw_conn {
  uv_tcp_t tcp;
  uv_timer_t timer;     /* latency delay, then slow-body ticks */
  uv_write_t wreq;      /* at most one write in flight */
  uv_shutdown_t sreq;
  tw_server *srv;
  struct tw_conn *prev, *next;
  uint64_t id;
  conn_state state;
  int closes_pending;
  int reading;          /* uv_read_start is active */
  int peer_eof;
  int req_active;       /* a request is being answered: log it on close */
  tw_buf in;            /* received, not yet consumed */
  long long discard;    /* request body bytes still to drop */
  tw_http_req req;
  uint64_t arrival_us;
  tw_resp resp;
  uint64_t stream_left; /* TW_STREAM_HUGE bytes still to write */
  size_t slow_off;      /* TW_STREAM_SLOW bytes of body written */
} tw_conn;

struct tw_server {
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_signal_t sigint, sigterm;
  uv_check_t flush_check;   /* flushes the log once per loop iteration */
  const tw_opts *opts;
  tw_responder responder;
  tw_reqlog *log;
  tw_conn *conns;           /* every open connection */
  int nconns;
  uint64_t next_conn_id;
  int stopping;
  char *filler;             /* TW_CHUNK bytes of HTML for huge/endless */
  char readbuf[65536];      /* every read lands here, then is copied */
};

static void conn_close(tw_conn *c, int reset);
static void process_input(tw_conn *c);
static void stream_step(tw_conn *c);
static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

/* Frees the connection once both of its handles are closed. */
static void conn_close_cb(uv_handle_t *h)
{
  tw_conn *c = h->data;
  if (--c->closes_pending > 0)
    return;
  tw_resp_free(&c->resp);
  tw_buf_free(&c->in);
  free(c);
}

static void log_request(tw_conn *c, int status)
{
  tw_reqlog_write(c->srv->log, c->arrival_us, tw_now_us(), c->req.host,
                  c->req.target, status, c->id);
  c->req_active = 0;
}

/* Closes both handles. A request still being answered is logged now: the
 * log must show requests whose connection died, with status 0 for resets. */
static void conn_close(tw_conn *c, int reset)
{
  if (c->state == CONN_CLOSING)
    return;
  if (c->req_active)
    log_request(c, reset ? 0 : c->resp.status);
  c->state = CONN_CLOSING;
  if (c->prev)
    c->prev->next = c->next;
  else
    c->srv->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  c->srv->nconns--;
  c->closes_pending = 2;
  if (!reset || uv_tcp_close_reset(&c->tcp, conn_close_cb) != 0)
    uv_close((uv_handle_t *)&c->tcp, conn_close_cb);
  uv_close((uv_handle_t *)&c->timer, conn_close_cb);
}

static void linger_cb(uv_timer_t *t)
{
  conn_close(t->data, 0);
}

/* After our FIN, keep reading (and dropping) until the client closes or the
 * linger time passes. Note: closing at once with unread request bytes in the
 * kernel makes it send RST, which can destroy the response we just wrote
 * (e.g. a 431 answered while the client still uploads its huge head). */
static void shutdown_cb(uv_shutdown_t *req, int status)
{
  tw_conn *c = req->data;
  if (c->state == CONN_CLOSING)
    return;
  if (status < 0 || c->peer_eof) {
    conn_close(c, 0);
    return;
  }
  uv_timer_start(&c->timer, linger_cb, TW_LINGER_MS, 0);
}

/* Half-closes after a "Connection: close" response so the client reads the
 * whole body and then a clean EOF. */
static void conn_shutdown(tw_conn *c)
{
  c->state = CONN_SHUTDOWN;
  if (!c->reading &&
      uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) == 0)
    c->reading = 1;
  if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, shutdown_cb) != 0)
    conn_close(c, 0);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  tw_conn *c = h->data;
  buf->base = c->srv->readbuf;
  buf->len = sizeof(c->srv->readbuf);
}

static void consume(tw_conn *c, size_t n)
{
  memmove(c->in.data, c->in.data + n, c->in.len - n);
  c->in.len -= n;
}

/* Drops request-body bytes: testweb serves GET/HEAD and ignores bodies, but
 * must not mistake them for the next request. */
static void eat_discard(tw_conn *c)
{
  if (c->discard <= 0 || c->in.len == 0)
    return;
  size_t n = c->in.len < (size_t)c->discard ? c->in.len : (size_t)c->discard;
  consume(c, n);
  c->discard -= (long long)n;
}

/* Logs the finished response, then either closes or goes back to reading
 * (answering a pipelined request already buffered). */
static void finish_request(tw_conn *c)
{
  log_request(c, c->resp.status);
  int close = c->resp.close || c->srv->stopping;
  tw_resp_free(&c->resp);
  memset(&c->resp, 0, sizeof(c->resp));
  if (c->peer_eof) {
    conn_close(c, 0);
  } else if (close) {
    conn_shutdown(c);
  } else {
    c->state = CONN_READING;
    if (!c->reading) {
      if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0) {
        conn_close(c, 0);
        return;
      }
      c->reading = 1;
    }
    process_input(c);
  }
}

static void write_cb(uv_write_t *req, int status)
{
  tw_conn *c = req->data;
  if (c->state == CONN_CLOSING)
    return; /* cancelled by conn_close */
  if (status < 0) {
    conn_close(c, 0);
  } else if (c->state == CONN_WRITING &&
             (c->resp.head_only || c->resp.stream == TW_STREAM_NONE)) {
    finish_request(c);
  } else {
    c->state = CONN_STREAMING;
    stream_step(c);
  }
}

static void conn_write(tw_conn *c, uv_buf_t *bufs, unsigned n)
{
  if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, bufs, n, write_cb) != 0)
    conn_close(c, 0);
}

/* One slow-body tick: the next piece of the body, then wait for the write. */
static void slow_cb(uv_timer_t *t)
{
  tw_conn *c = t->data;
  long bps = c->srv->opts->slow_bps;
  size_t piece = bps >= 10 ? (size_t)bps / 10 : 1;
  size_t left = c->resp.body.len - c->slow_off;
  if (piece > left)
    piece = left;
  uv_buf_t b = uv_buf_init(c->resp.body.data + c->slow_off, (unsigned)piece);
  c->slow_off += piece;
  conn_write(c, &b, 1);
}

/* Writes the next piece of a streamed body; called when the previous write
 * completed, so a slow reader holds back the stream (flow control). */
static void stream_step(tw_conn *c)
{
  tw_server *srv = c->srv;
  static char chunk_head[] = "10000\r\n"; /* TW_CHUNK in hex */
  static char crlf[] = "\r\n";
  uv_buf_t b[3];

  switch (c->resp.stream) {
  case TW_STREAM_HUGE:
    if (c->stream_left == 0) {
      finish_request(c);
      return;
    }
    b[0] = uv_buf_init(srv->filler, c->stream_left < TW_CHUNK
                                        ? (unsigned)c->stream_left : TW_CHUNK);
    c->stream_left -= b[0].len;
    conn_write(c, b, 1);
    break;
  case TW_STREAM_ENDLESS:
    b[0] = uv_buf_init(chunk_head, sizeof(chunk_head) - 1);
    b[1] = uv_buf_init(srv->filler, TW_CHUNK);
    b[2] = uv_buf_init(crlf, 2);
    conn_write(c, b, 3);
    break;
  case TW_STREAM_SLOW: {
    if (c->slow_off >= c->resp.body.len) {
      finish_request(c);
      return;
    }
    long bps = srv->opts->slow_bps;
    uint64_t tick = bps >= 10 ? 100 : 1000 / (uint64_t)(bps > 0 ? bps : 1);
    uv_timer_start(&c->timer, slow_cb, tick, 0);
    break;
  }
  default:
    finish_request(c);
    break;
  }
}

/* Sends the head and whatever body goes with it (or resets). */
static void send_response(tw_conn *c)
{
  tw_resp *r = &c->resp;
  uv_buf_t b[3];
  unsigned n = 0;
  if (r->reset) {
    conn_close(c, 1);
    return;
  }
  b[n++] = uv_buf_init(r->head.data, (unsigned)r->head.len);
  if (!r->head_only && r->stream != TW_STREAM_SLOW) {
    if (r->body.len)
      b[n++] = uv_buf_init(r->body.data, (unsigned)r->body.len);
    if (r->shared_len)
      b[n++] = uv_buf_init((char *)r->shared, (unsigned)r->shared_len);
  }
  c->stream_left = r->stream_len;
  c->slow_off = 0;
  c->state = CONN_WRITING;
  conn_write(c, b, n);
}

/* Note: libuv timers run on the loop's cached millisecond clock, so one can
 * fire a fraction of a millisecond before `latency` has passed since the
 * request arrived; tests check the log for done - arrival >= latency, so
 * wait out the remainder. */
static void delay_cb(uv_timer_t *t)
{
  tw_conn *c = t->data;
  uint64_t waited = tw_now_us() - c->arrival_us;
  uint64_t want = c->resp.delay_ms * 1000;
  if (waited < want) {
    uv_timer_start(&c->timer, delay_cb, (want - waited + 999) / 1000, 0);
    return;
  }
  send_response(c);
}

/* Starts answering c->req (or a parse error): after the latency, on the
 * connection's timer, never blocking the loop. */
static void start_response(tw_conn *c)
{
  c->state = CONN_DELAYING;
  if (c->resp.delay_ms > 0) {
    uv_update_time(&c->srv->loop);
    uv_timer_start(&c->timer, delay_cb, c->resp.delay_ms, 0);
  }
  else
    send_response(c);
}

/* Parses the next request head from c->in, if complete, and answers it. */
static void process_input(tw_conn *c)
{
  eat_discard(c);
  if (c->state != CONN_READING || c->discard > 0 || c->in.len == 0)
    return;
  int rc = tw_http_parse(c->in.data, c->in.len, TW_MAX_HEAD, &c->req);
  if (rc == 0)
    return;
  c->arrival_us = tw_now_us();
  c->req_active = 1;
  memset(&c->resp, 0, sizeof(c->resp));
  if (rc < 0) {
    memset(&c->req, 0, sizeof(c->req));
    snprintf(c->req.target, sizeof(c->req.target), "-");
    c->in.len = 0;
    tw_respond_error(rc == TW_HTTP_ETOOBIG ? 431
                     : rc == TW_HTTP_EURI  ? 414 : 400, &c->resp);
  } else {
    consume(c, (size_t)rc);
    c->discard = c->req.content_length;
    if (c->req.chunked)
      tw_respond_error(501, &c->resp);
    else
      tw_respond(&c->srv->responder, &c->req, &c->resp);
  }
  start_response(c);
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
  tw_conn *c = s->data;
  if (nread == 0 || c->state == CONN_CLOSING)
    return;
  if (nread < 0) {
    c->peer_eof = 1;
    uv_read_stop(s);
    c->reading = 0;
    /* A client that left mid-stream is gone; one that half-closed after a
     * request still gets its answer (finish_request closes). */
    if (nread != UV_EOF || c->state == CONN_READING ||
        c->state == CONN_STREAMING || c->state == CONN_SHUTDOWN)
      conn_close(c, 0);
    return;
  }
  if (c->state == CONN_SHUTDOWN)
    return;
  tw_buf_append(&c->in, buf->base, (size_t)nread);
  eat_discard(c);
  if (c->state == CONN_READING) {
    process_input(c);
  } else if (c->in.len > TW_IN_HIGH_WATER) {
    uv_read_stop(s); /* pipelined flood while busy: resume in finish */
    c->reading = 0;
  }
}

static void connection_cb(uv_stream_t *listener, int status)
{
  tw_server *srv = listener->data;
  if (status < 0)
    return;
  tw_conn *c = calloc(1, sizeof(*c));
  if (c == NULL)
    abort();
  c->srv = srv;
  c->id = ++srv->next_conn_id;
  c->tcp.data = c->timer.data = c->wreq.data = c->sreq.data = c;
  uv_tcp_init(&srv->loop, &c->tcp);
  uv_timer_init(&srv->loop, &c->timer);
  c->next = srv->conns;
  if (srv->conns)
    srv->conns->prev = c;
  srv->conns = c;
  srv->nconns++;
  if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0 ||
      (srv->opts->max_conns > 0 && srv->nconns > srv->opts->max_conns)) {
    conn_close(c, 0);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0) {
    conn_close(c, 0);
    return;
  }
  c->reading = 1;
}

static void stop_all(tw_server *srv)
{
  if (srv->stopping)
    return;
  srv->stopping = 1;
  if (!uv_is_closing((uv_handle_t *)&srv->listener))
    uv_close((uv_handle_t *)&srv->listener, NULL);
  while (srv->conns)
    conn_close(srv->conns, 0);
  uv_close((uv_handle_t *)&srv->sigint, NULL);
  uv_close((uv_handle_t *)&srv->sigterm, NULL);
  uv_close((uv_handle_t *)&srv->flush_check, NULL);
  tw_reqlog_flush(srv->log);
}

static void signal_cb(uv_signal_t *s, int signum)
{
  stop_all(s->data);
}

static void flush_cb(uv_check_t *h)
{
  tw_server *srv = h->data;
  tw_reqlog_flush(srv->log);
}

/* Thousands of connections need thousands of fds. */
static void raise_nofile(void)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* Writes the port via FILE.tmp + rename so a polling reader never sees a
 * partial number. */
static int write_port_file(const char *path, int port)
{
  size_t n = strlen(path) + 5;
  char *tmp = malloc(n);
  if (tmp == NULL)
    return -ENOMEM;
  snprintf(tmp, n, "%s.tmp", path);
  FILE *fp = fopen(tmp, "w");
  int rc = 0;
  if (fp == NULL || fprintf(fp, "%d\n", port) < 0)
    rc = -errno;
  if (fp && fclose(fp) != 0 && rc == 0)
    rc = -errno;
  if (rc == 0 && rename(tmp, path) != 0)
    rc = -errno;
  free(tmp);
  return rc;
}

static void make_filler(tw_server *srv)
{
  static const char para[] =
      "<p>filler filler &amp; more filler for a very large page</p>\n";
  srv->filler = malloc(TW_CHUNK);
  if (srv->filler == NULL)
    abort();
  for (size_t i = 0; i < TW_CHUNK; i++)
    srv->filler[i] = para[i % (sizeof(para) - 1)];
}

/* Binds and listens; returns the bound port, or a negative libuv error
 * (reported here, once). */
static int start_listener(tw_server *srv)
{
  struct sockaddr_storage addr, bound;
  int len = sizeof(bound);
  int rc = uv_ip4_addr(srv->opts->listen_ip, srv->opts->listen_port,
                       (struct sockaddr_in *)&addr);
  if (rc != 0) /* an IPv6 address, such as ::1 */
    rc = uv_ip6_addr(srv->opts->listen_ip, srv->opts->listen_port,
                     (struct sockaddr_in6 *)&addr);
  if (rc == 0)
    rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&addr, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *)&srv->listener, TW_BACKLOG, connection_cb);
  if (rc == 0)
    rc = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &len);
  if (rc != 0) {
    fprintf(stderr, "testweb: cannot listen on %s:%d: %s\n",
            srv->opts->listen_ip, srv->opts->listen_port, uv_strerror(rc));
    return rc;
  }
  if (bound.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
  return ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

int tw_server_run(const tw_opts *opts)
{
  raise_nofile();
  signal(SIGPIPE, SIG_IGN);
  tw_server *srv = calloc(1, sizeof(*srv));
  if (srv == NULL)
    return 1;
  srv->opts = opts;
  make_filler(srv);
  int exit_code = 0;
  if (opts->log_path) {
    int rc = tw_reqlog_open(&srv->log, opts->log_path);
    if (rc < 0) {
      fprintf(stderr, "testweb: cannot open log %s: %s\n", opts->log_path,
              strerror(-rc));
      free(srv->filler);
      free(srv);
      return 1;
    }
  }
  uv_loop_init(&srv->loop);
  uv_tcp_init(&srv->loop, &srv->listener);
  uv_signal_init(&srv->loop, &srv->sigint);
  uv_signal_init(&srv->loop, &srv->sigterm);
  uv_check_init(&srv->loop, &srv->flush_check);
  srv->listener.data = srv->sigint.data = srv->sigterm.data = srv;
  srv->flush_check.data = srv;

  int port = start_listener(srv);
  tw_responder_init(&srv->responder, opts, port > 0 ? port : 0);
  if (port > 0 && opts->port_file) {
    int rc = write_port_file(opts->port_file, port);
    if (rc < 0) {
      fprintf(stderr, "testweb: cannot write %s: %s\n", opts->port_file,
              strerror(-rc));
      port = -1;
    }
  }
  if (port > 0) {
    fprintf(stderr, "testweb listening on %s:%d\n", opts->listen_ip, port);
    uv_signal_start(&srv->sigint, signal_cb, SIGINT);
    uv_signal_start(&srv->sigterm, signal_cb, SIGTERM);
    uv_check_start(&srv->flush_check, flush_cb);
  } else {
    exit_code = 1;
    stop_all(srv);
  }
  uv_run(&srv->loop, UV_RUN_DEFAULT);
  int rc = uv_loop_close(&srv->loop);
  if (rc != 0) {
    fprintf(stderr, "testweb: uv_loop_close: %s\n", uv_strerror(rc));
    exit_code = 1;
  }
  tw_responder_free(&srv->responder);
  tw_reqlog_free(srv->log);
  free(srv->filler);
  free(srv);
  return exit_code;
}
