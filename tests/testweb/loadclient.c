/* loadclient.c - opens N keep-alive connections to testweb at once, sends
 * GETs on each, and checks every answer is 200 while all N stay open.
 *
 * usage: loadclient --port P [--conns N] [--requests R] [--host H]
 *                   [--path P] [--ramp K] [--timeout S]
 * Prints one summary line; exit 0 only if every request got 200 and all N
 * connections were open at the same time. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <uv.h>

typedef struct lc_run lc_run;

typedef struct lc_conn {
  uv_tcp_t tcp;
  uv_connect_t creq;
  lc_run *run;
  char head[4096];      /* response head being collected */
  size_t head_len;
  long long body_left;  /* body bytes still expected; -1 reading head */
  int status;
  int sent;             /* requests sent on this connection */
  int done;             /* finished all requests (or failed) */
  int open;             /* connected and not yet closed */
} lc_conn;

struct lc_run {
  uv_loop_t *loop;
  uv_timer_t deadline;
  struct sockaddr_in addr;
  lc_conn *conns;
  int n, requests, ramp;
  int started, connecting, finished, ok_conns, failed, ok_requests;
  int open_now, open_peak;
  int dropped;          /* server closed a finished keep-alive connection */
  char request[512];
  size_t request_len;
  int closing;
};

static void conn_step(lc_conn *c);
static void start_more(lc_run *r);

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  static char slab[65536];
  buf->base = slab;
  buf->len = sizeof(slab);
}

static void close_all(lc_run *r)
{
  if (r->closing)
    return;
  r->closing = 1;
  uv_close((uv_handle_t *)&r->deadline, NULL);
  for (int i = 0; i < r->started; i++)
    if (!uv_is_closing((uv_handle_t *)&r->conns[i].tcp))
      uv_close((uv_handle_t *)&r->conns[i].tcp, NULL);
}

/* Records a connection's outcome; when all are in, everything closes. */
static void conn_finish(lc_conn *c, int ok)
{
  lc_run *r = c->run;
  if (c->done)
    return;
  c->done = 1;
  r->finished++;
  if (ok)
    r->ok_conns++;
  else
    r->failed++;
  if (!ok && c->open) {
    uv_read_stop((uv_stream_t *)&c->tcp);
  }
  if (r->finished == r->n)
    close_all(r);
}

/* Note: each write has its own request: the answer can arrive (and the
 * next request be sent) before libuv has run the previous write's callback,
 * so one uv_write_t per connection would be reused while still pending. */
static void write_cb(uv_write_t *w, int status)
{
  lc_conn *c = w->data;
  free(w);
  if (status < 0 && !c->run->closing)
    conn_finish(c, 0);
}

/* Parses the status and Content-Length once the head is complete. */
static int parse_head(lc_conn *c, size_t *head_end)
{
  char *e = memmem(c->head, c->head_len, "\r\n\r\n", 4);
  if (e == NULL)
    return 0;
  *head_end = (size_t)(e - c->head) + 4;
  c->head[*head_end - 1] = '\0';
  c->status = atoi(c->head + 9);
  c->body_left = 0;
  for (char *p = strstr(c->head, "\r\n"); p; p = strstr(p + 2, "\r\n"))
    if (strncasecmp(p + 2, "content-length:", 15) == 0)
      c->body_left = atoll(p + 17);
  return 1;
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
  lc_conn *c = s->data;
  if (nread < 0) {
    if (c->done && c->sent == c->run->requests)
      c->run->dropped++; /* keep-alive was not kept */
    conn_finish(c, 0);
    uv_read_stop(s);
    return;
  }
  const char *p = buf->base;
  size_t n = (size_t)nread;
  while (n > 0 && !c->done) {
    if (c->body_left < 0) {
      size_t take = n < sizeof(c->head) - 1 - c->head_len
                        ? n : sizeof(c->head) - 1 - c->head_len;
      memcpy(c->head + c->head_len, p, take);
      size_t old = c->head_len, head_end;
      c->head_len += take;
      if (!parse_head(c, &head_end)) {
        if (c->head_len >= sizeof(c->head) - 1)
          conn_finish(c, 0);
        p += take;
        n -= take;
        continue;
      }
      p += head_end - old;
      n -= head_end - old;
    }
    size_t body = n < (size_t)c->body_left ? n : (size_t)c->body_left;
    c->body_left -= (long long)body;
    p += body;
    n -= body;
    if (c->body_left == 0) {
      if (c->status != 200) {
        conn_finish(c, 0);
        return;
      }
      c->run->ok_requests++;
      conn_step(c);
    }
  }
}

/* Sends the next request, or marks the connection done (kept open). */
static void conn_step(lc_conn *c)
{
  lc_run *r = c->run;
  if (c->sent == r->requests) {
    conn_finish(c, 1);
    return;
  }
  c->sent++;
  c->head_len = 0;
  c->body_left = -1;
  uv_buf_t b = uv_buf_init(r->request, (unsigned)r->request_len);
  uv_write_t *w = malloc(sizeof(*w));
  if (w == NULL)
    abort();
  w->data = c;
  if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, write_cb) != 0) {
    free(w);
    conn_finish(c, 0);
  }
}

static void connect_cb(uv_connect_t *req, int status)
{
  lc_conn *c = req->data;
  lc_run *r = c->run;
  r->connecting--;
  if (status < 0 || r->closing) {
    if (status < 0)
      fprintf(stderr, "loadclient: connect: %s\n", uv_strerror(status));
    conn_finish(c, 0);
  } else {
    c->open = 1;
    if (++r->open_now > r->open_peak)
      r->open_peak = r->open_now;
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
    conn_step(c);
  }
  start_more(r);
}

/* Keeps at most `ramp` connects in flight so the listen backlog holds. */
static void start_more(lc_run *r)
{
  while (!r->closing && r->started < r->n && r->connecting < r->ramp) {
    lc_conn *c = &r->conns[r->started++];
    c->run = r;
    c->tcp.data = c->creq.data = c;
    c->body_left = -1;
    uv_tcp_init(r->loop, &c->tcp);
    r->connecting++;
    if (uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&r->addr,
                       connect_cb) != 0) {
      r->connecting--;
      conn_finish(c, 0);
    }
  }
}

static void deadline_cb(uv_timer_t *t)
{
  lc_run *r = t->data;
  fprintf(stderr, "loadclient: deadline reached with %d of %d finished\n",
          r->finished, r->n);
  r->failed += r->n - r->finished;
  close_all(r);
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
    {"port", required_argument, NULL, 'p'},
    {"conns", required_argument, NULL, 'n'},
    {"requests", required_argument, NULL, 'r'},
    {"host", required_argument, NULL, 'H'},
    {"path", required_argument, NULL, 'P'},
    {"ramp", required_argument, NULL, 'k'},
    {"timeout", required_argument, NULL, 't'},
    {NULL, 0, NULL, 0},
  };
  int port = 0, n = 5000, requests = 1, ramp = 512, timeout = 60, ch;
  const char *host = "h0001.test", *path = "/";
  while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (ch) {
    case 'p': port = atoi(optarg); break;
    case 'n': n = atoi(optarg); break;
    case 'r': requests = atoi(optarg); break;
    case 'H': host = optarg; break;
    case 'P': path = optarg; break;
    case 'k': ramp = atoi(optarg); break;
    case 't': timeout = atoi(optarg); break;
    default: return 2;
    }
  }
  if (port <= 0 || n <= 0 || requests <= 0 || ramp <= 0) {
    fprintf(stderr, "usage: loadclient --port P [--conns N] [--requests R]\n");
    return 2;
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  lc_run r;
  memset(&r, 0, sizeof(r));
  r.loop = uv_default_loop();
  r.n = n;
  r.requests = requests;
  r.ramp = ramp;
  r.conns = calloc((size_t)n, sizeof(*r.conns));
  if (r.conns == NULL)
    return 1;
  r.request_len = (size_t)snprintf(r.request, sizeof(r.request),
                                   "GET %s HTTP/1.1\r\nHost: %s\r\n"
                                   "User-Agent: loadclient\r\n\r\n",
                                   path, host);
  uv_ip4_addr("127.0.0.1", port, &r.addr);
  uv_timer_init(r.loop, &r.deadline);
  r.deadline.data = &r;
  uv_timer_start(&r.deadline, deadline_cb, (uint64_t)timeout * 1000, 0);

  uint64_t t0 = uv_hrtime();
  start_more(&r);
  uv_run(r.loop, UV_RUN_DEFAULT);
  double ms = (double)(uv_hrtime() - t0) / 1e6;
  int rc = uv_loop_close(r.loop);

  printf("conns=%d ok=%d failed=%d dropped=%d peak_open=%d requests=%d "
         "elapsed_ms=%.1f req_per_s=%.0f\n",
         n, r.ok_conns, r.failed, r.dropped, r.open_peak, r.ok_requests, ms,
         r.ok_requests / (ms / 1000.0));
  free(r.conns);
  return r.ok_conns == n && r.open_peak == n && r.dropped == 0 && rc == 0
             ? 0 : 1;
}
