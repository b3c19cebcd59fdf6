/* trace.c - Chrome trace-event JSON for --trace (see trace.h). */
#include "uvcrawl/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"
#include "uvcrawl/record.h"

#define PID_THREADS 1 /* uvcrawl's real threads and the counters */
#define PID_LANES 2   /* one row per transfer lifetime */

/* A lane: a row of pid 2 whose last transfer ended at `end`. */
typedef struct lane_slot {
  uint64_t end;
  uint64_t tid;
} lane_slot;

struct uc_trace {
  FILE *f;         /* borrowed */
  uint64_t origin; /* ns that become ts 0 */
  uc_buf buf;      /* one call's events, written at once */
  bool first;      /* no event written yet: no separating comma */
  bool closed;
  bool failed;      /* a write failed: reported by uc_trace_close */
  int write_errno;  /* errno of the first failed write, for its message */
  uint64_t next_id; /* transfer ids, from 1 */
  /* Lanes as a min-heap by end, so the one free soonest is at the top. */
  lane_slot *lanes;
  size_t n_lanes, cap_lanes;
  uint64_t *named; /* tids of pid 1 already named (few: workers, pool) */
  size_t n_named, cap_named;
};

/* ---- formatting ------------------------------------------------------- */

/* Microseconds since the origin, with ns as 3 decimals (no floating point). */
static int put_us(uc_buf *b, uint64_t ns) {
  return uc_buf_printf(b, "%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}

/* Start an event: the separator and the fields every event has. */
static int begin_event(uc_trace *t, const char *name, const char *ph, int pid, uint64_t tid) {
  int rc = uc_buf_puts(&t->buf, t->first ? "{\"name\":" : ",\n{\"name\":");
  t->first = false;
  if (rc == 0)
    rc = uc_json_append_string0(&t->buf, name);
  if (rc == 0)
    rc = uc_buf_printf(&t->buf, ",\"ph\":\"%s\",\"pid\":%d,\"tid\":%" PRIu64, ph, pid, tid);
  return rc;
}

static uint64_t rel(const uc_trace *t, uint64_t ns) {
  return ns > t->origin ? ns - t->origin : 0;
}

/* An "X" event from start to end (ns, absolute); args is the inside of the
 * args object (without braces), or NULL. */
static int span(uc_trace *t, const char *name, const char *cat, int pid, uint64_t tid,
                uint64_t start, uint64_t end, const char *args) {
  if (start < t->origin) /* a ms-grained time from before the trace began */
    start = t->origin;
  int rc = begin_event(t, name, "X", pid, tid);
  if (rc == 0)
    rc = uc_buf_printf(&t->buf, ",\"cat\":\"%s\",\"ts\":", cat);
  if (rc == 0)
    rc = put_us(&t->buf, rel(t, start));
  if (rc == 0)
    rc = uc_buf_puts(&t->buf, ",\"dur\":");
  if (rc == 0)
    rc = put_us(&t->buf, end > start ? end - start : 0);
  if (rc == 0)
    rc = uc_buf_printf(&t->buf, ",\"args\":{%s}}", args != NULL ? args : "");
  return rc;
}

static int meta_name(uc_trace *t, const char *what, int pid, uint64_t tid, const char *name) {
  int rc = begin_event(t, what, "M", pid, tid);
  if (rc == 0)
    rc = uc_buf_puts(&t->buf, ",\"args\":{\"name\":");
  if (rc == 0)
    rc = uc_json_append_string0(&t->buf, name);
  if (rc == 0)
    rc = uc_buf_puts(&t->buf, "}}");
  return rc;
}

static void fail(uc_trace *t, int err) {
  if (!t->failed)
    t->write_errno = err != 0 ? err : EIO;
  t->failed = true;
}

/* Write what the call formatted; a failed write is remembered, not
 * retried, and the buffer is emptied either way. */
static int flush_buf(uc_trace *t, int rc) {
  if (rc == 0 && t->buf.len > 0 && fwrite(t->buf.data, 1, t->buf.len, t->f) != t->buf.len)
    rc = UC_EIO;
  if (rc != 0)
    fail(t, rc == UC_EIO ? errno : ENOMEM);
  uc_buf_reset(&t->buf);
  return rc;
}

/* ---- lanes ------------------------------------------------------------ */

static void lane_sift_down(uc_trace *t, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < t->n_lanes && t->lanes[l].end < t->lanes[m].end)
      m = l;
    if (r < t->n_lanes && t->lanes[r].end < t->lanes[m].end)
      m = r;
    if (m == i)
      return;
    lane_slot tmp = t->lanes[i];
    t->lanes[i] = t->lanes[m];
    t->lanes[m] = tmp;
    i = m;
  }
}

/* A lane free from `start` on, kept busy until `end`; a new one (named)
 * when every lane is still busy at `start`. @return its tid, or 0 on
 * ENOMEM. Note: transfers come in the order they end, not start, so this
 * may use more lanes than the most transfers alive at once; never two
 * overlapping ones on a lane. */
static uint64_t take_lane(uc_trace *t, uint64_t start, uint64_t end) {
  if (t->n_lanes > 0 && t->lanes[0].end <= start) {
    uint64_t tid = t->lanes[0].tid;
    t->lanes[0].end = end;
    lane_sift_down(t, 0);
    return tid;
  }
  if (t->n_lanes == t->cap_lanes) {
    size_t cap = t->cap_lanes ? t->cap_lanes * 2 : 64;
    lane_slot *grown = realloc(t->lanes, cap * sizeof *grown);
    if (grown == NULL)
      return 0;
    t->lanes = grown;
    t->cap_lanes = cap;
  }
  uint64_t tid = t->n_lanes + 1;
  size_t i = t->n_lanes++;
  /* Sift up: the new lane's end is the latest, but the heap is by end. */
  while (i > 0 && t->lanes[(i - 1) / 2].end > end) {
    t->lanes[i] = t->lanes[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  t->lanes[i] = (lane_slot){.end = end, .tid = tid};
  char name[32];
  snprintf(name, sizeof name, "transfers %04" PRIu64, tid);
  if (meta_name(t, "thread_name", PID_LANES, tid, name) != 0)
    return 0;
  return tid;
}

/* ---- public ----------------------------------------------------------- */

int uc_trace_new(uc_trace **out, FILE *f, const char *engine, uint64_t origin_ns) {
  uc_trace *t = calloc(1, sizeof *t);
  *out = NULL;
  if (t == NULL)
    return UC_ENOMEM;
  t->f = f;
  t->origin = origin_ns;
  t->first = true;
  char name[64];
  snprintf(name, sizeof name, "uvcrawl (%s engine)", engine);
  int rc = uc_buf_puts(&t->buf, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
  if (rc == 0)
    rc = meta_name(t, "process_name", PID_THREADS, 0, name);
  if (rc == 0)
    rc = meta_name(t, "process_name", PID_LANES, 0, "transfers (queued to done)");
  if ((rc = flush_buf(t, rc)) != 0) {
    uc_trace_free(t);
    return rc;
  }
  *out = t;
  return 0;
}

int uc_trace_name_thread(uc_trace *t, uint64_t tid, const char *name) {
  for (size_t i = 0; i < t->n_named; i++)
    if (t->named[i] == tid)
      return 0;
  if (t->closed)
    return UC_EIO;
  if (t->n_named == t->cap_named) {
    size_t cap = t->cap_named ? t->cap_named * 2 : 16;
    uint64_t *grown = realloc(t->named, cap * sizeof *grown);
    if (grown == NULL)
      return UC_ENOMEM;
    t->named = grown;
    t->cap_named = cap;
  }
  t->named[t->n_named++] = tid;
  return flush_buf(t, meta_name(t, "thread_name", PID_THREADS, tid, name));
}

/* Phase edges: never before the cursor (the previous phase's end), never
 * past the lifetime's end. */
typedef struct cursor {
  uint64_t at, end;
} cursor;

static void clamp(cursor *c, uint64_t *s, uint64_t *e) {
  if (*s < c->at)
    *s = c->at;
  if (*s > c->end)
    *s = c->end;
  if (*e < *s)
    *e = *s;
  if (*e > c->end)
    *e = c->end;
  c->at = *e;
}

static int phase(uc_trace *t, cursor *c, const char *name, uint64_t lane, uint64_t s, uint64_t e,
                 const char *args) {
  clamp(c, &s, &e);
  return span(t, name, "xfer", PID_LANES, lane, s, e, args);
}

/* curl's phases, placed back from the moment curl finished. */
static int curl_phases(uc_trace *t, cursor *c, const uc_trace_xfer *x, uint64_t lane,
                       const char *args) {
  const uc_trace_curl *k = &x->curl;
  uint64_t us = 1000, total = k->total > 0 ? (uint64_t)k->total * us : 0;
  uint64_t cs = x->curl_end_ns > total ? x->curl_end_ns - total : x->curl_end_ns;
  int rc = 0;
  if (x->dns_end_ns == 0 && k->namelookup > 0)
    rc = phase(t, c, "dns", lane, cs, cs + (uint64_t)k->namelookup * us, args);
  if (rc == 0 && k->connect > 0)
    rc = phase(t, c, "connect", lane, cs + (uint64_t)k->namelookup * us,
               cs + (uint64_t)k->connect * us, args);
  if (rc == 0 && k->appconnect > 0)
    rc = phase(t, c, "tls", lane, cs + (uint64_t)k->connect * us, cs + (uint64_t)k->appconnect * us,
               args);
  if (rc == 0 && k->starttransfer > 0)
    rc = phase(t, c, "ttfb", lane, cs + (uint64_t)k->pretransfer * us,
               cs + (uint64_t)k->starttransfer * us, args);
  if (rc == 0 && k->starttransfer > 0)
    rc = phase(t, c, "receive", lane, cs + (uint64_t)k->starttransfer * us, x->curl_end_ns, args);
  return rc;
}

int uc_trace_transfer(uc_trace *t, const uc_trace_xfer *x) {
  if (t->closed)
    return UC_EIO;
  uint64_t id = ++t->next_id;
  uint64_t start =
      x->queued_ns != 0 && x->queued_ns <= x->dispatched_ns ? x->queued_ns : x->dispatched_ns;
  uint64_t end = x->end_ns > start ? x->end_ns : start;
  uint64_t lane = take_lane(t, start, end);
  if (lane == 0)
    return flush_buf(t, UC_ENOMEM);
  char args[48];
  snprintf(args, sizeof args, "\"id\":%" PRIu64, id);
  uc_buf life = UC_BUF_INIT;
  int rc = uc_buf_printf(&life, "\"id\":%" PRIu64 ",\"url\":", id);
  if (rc == 0)
    rc = uc_json_append_url(&life, x->url);
  if (rc == 0)
    rc = uc_buf_printf(&life, ",\"status\":%d,\"error\":", x->status);
  if (rc == 0)
    rc = uc_json_append_string0(&life, x->error);
  if (rc == 0)
    rc = span(t, "transfer", "xfer", PID_LANES, lane, start, end, life.data);

  cursor c = {.at = start, .end = end};
  if (rc == 0)
    rc = phase(t, &c, "queued", lane, start, x->dispatched_ns, args);
  if (rc == 0 && x->wait_until_ns > x->wait_from_ns) {
    /* Inside "queued": a stretch of it, not a phase after it. */
    cursor in = {.at = start, .end = c.at};
    rc = phase(t, &in, "token", lane, x->wait_from_ns, x->wait_until_ns, args);
  }
  if (rc == 0 && x->dns_end_ns != 0)
    rc = phase(t, &c, "dns", lane, x->dns_start_ns, x->dns_end_ns, args);
  if (rc == 0 && x->curl_end_ns != 0)
    rc = curl_phases(t, &c, x, lane, args);
  /* Rows of real threads: what a worker or parser was busy with. */
  if (rc == 0 && x->fetch_tid != 0 && x->curl_end_ns != 0)
    rc = span(t, "fetch", "thread", PID_THREADS, x->fetch_tid, x->fetch_start_ns, x->curl_end_ns,
              life.data);
  if (rc == 0 && x->parse_start_ns != 0)
    rc = span(t, "parse", "thread", PID_THREADS, x->parse_tid, x->parse_start_ns, x->parse_end_ns,
              life.data);
  uc_buf_free(&life);
  return flush_buf(t, rc);
}

int uc_trace_work(uc_trace *t, const char *name, uint64_t tid, uint64_t start_ns,
                  uint64_t end_ns, uint64_t count) {
  if (t->closed)
    return UC_EIO;
  char args[48];
  snprintf(args, sizeof args, "\"ops\":%" PRIu64, count);
  return flush_buf(t, span(t, name, "work", PID_THREADS, tid, start_ns, end_ns, args));
}

int uc_trace_counter(uc_trace *t, const char *name, uint64_t ts_ns, double value) {
  if (t->closed)
    return UC_EIO;
  int rc = begin_event(t, name, "C", PID_THREADS, 0);
  if (rc == 0)
    rc = uc_buf_puts(&t->buf, ",\"ts\":");
  if (rc == 0)
    rc = put_us(&t->buf, rel(t, ts_ns));
  if (rc == 0)
    rc = uc_buf_printf(&t->buf, ",\"args\":{\"value\":%.3f}}", value);
  return flush_buf(t, rc);
}

int uc_trace_close(uc_trace *t) {
  if (t->closed)
    return t->failed ? UC_EIO : 0;
  int rc = flush_buf(t, uc_buf_puts(&t->buf, "\n]}\n"));
  t->closed = true;
  if (fflush(t->f) != 0)
    fail(t, errno);
  return rc != 0 || t->failed ? UC_EIO : 0;
}

int uc_trace_errno(const uc_trace *t) { return t->failed ? t->write_errno : 0; }

void uc_trace_free(uc_trace *t) {
  if (t == NULL)
    return;
  uc_buf_free(&t->buf);
  free(t->lanes);
  free(t->named);
  free(t);
}
