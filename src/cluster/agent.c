/*
 * agent.c - one cluster agent on the engine's uv loop: hand-overs out
 * (batched per owner, XADD), hand-overs in (XREADGROUP, XACK once
 * durable), the termination check, and reconnecting to Redis.
 *
 * Keys, all under "uvcrawl:NAME:":
 *   in:K   agent K's stream; consumer group "g", consumer "agent-K". An
 *          entry is one batch: field "l", lines "DEPTH KIND URL PARENT".
 *   ctl    a hash: sent and acked (entries added to and acknowledged
 *          from all streams), idle:K (agent K's last published state),
 *          done, stop, and each agent's counters for --status.
 *   gen    a random value set once; a Redis that lost its data (a restart
 *          without persistence) no longer has it, and the agents resend.
 *
 * Termination (docs/cluster.md has the argument): CHECK_SCRIPT runs
 * atomically in Redis and sets done only when every agent's idle:K is 1
 * and sent == acked. An agent publishes idle 1 only when it has nothing
 * queued or in flight and nothing to send or acknowledge; the XACK script
 * sets idle 0 in the same atomic step in which it acknowledges, so an
 * agent that took work since its last "idle" can never look idle with
 * its entries acknowledged. Every write of one agent goes over one
 * connection, in order.
 */
#include <errno.h>
#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster.h"
#include "cluster_int.h"
#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"
#include "uvcrawl/url.h"

#define TICK_MS 50           /* termination check, flush and acks when the gate is quiet */
#define PUBLISH_TICKS 10     /* counters for --status every 10 ticks, and --stop looked for */
#define READ_COUNT 64        /* stream entries per XREADGROUP */
#define READ_BLOCK_MS 500    /* how long a read waits in Redis for an entry */
#define ACK_MAX 128          /* entries per XACK */
#define ACKS_HELD_MAX 4096   /* entries read and not yet durable: stop reading above */
#define HOLD_MAX 100000      /* links held in memory while Redis is away; more spill to a file */
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000

/* Acknowledge: XACK and XDEL, count what was acknowledged, and say this
 * agent is busy, atomically. KEYS: stream, ctl; ARGV: agent, ids... */
static const char ACK_SCRIPT[] =
    "local n = redis.call('XACK', KEYS[1], 'g', unpack(ARGV, 2))\n"
    "redis.call('XDEL', KEYS[1], unpack(ARGV, 2))\n"
    "redis.call('HSET', KEYS[2], 'idle:' .. ARGV[1], '0')\n"
    "redis.call('HINCRBY', KEYS[2], 'acked', n)\n"
    "return n";

/* The termination check. KEYS: ctl; ARGV: agents. Returns
 * {done, stop, sent, acked, idle agents}. */
static const char CHECK_SCRIPT[] =
    "local c = KEYS[1]\n"
    "local sent = tonumber(redis.call('HGET', c, 'sent') or '0')\n"
    "local acked = tonumber(redis.call('HGET', c, 'acked') or '0')\n"
    "local idle = 0\n"
    "for k = 0, tonumber(ARGV[1]) - 1 do\n"
    "  if redis.call('HGET', c, 'idle:' .. k) == '1' then idle = idle + 1 end\n"
    "end\n"
    "local done = redis.call('HGET', c, 'done') == '1'\n"
    "if not done and idle == tonumber(ARGV[1]) and sent == acked then\n"
    "  redis.call('HSET', c, 'done', '1')\n"
    "  done = true\n"
    "end\n"
    "local stop = redis.call('HGET', c, 'stop') == '1'\n"
    "return {done and 1 or 0, stop and 1 or 0, sent, acked, idle}";

/* Learn the generation: KEYS: gen; ARGV: a new random value. */
static const char GEN_SCRIPT[] =
    "redis.call('SET', KEYS[1], ARGV[1], 'NX')\n"
    "return redis.call('GET', KEYS[1])";

/* Links for one owner, being filled or sent. */
typedef struct batch {
  unsigned dest;
  uc_buf text;   /* "DEPTH KIND URL PARENT\n" lines */
  uint64_t *ids; /* their store ids, marked handed once Redis has them */
  size_t n, cap;
  struct batch *next;
} batch;

/* One MULTI ... EXEC of batches, waiting for its reply (FIFO). */
typedef struct sendq {
  batch *batches;
  struct sendq *next;
} sendq;

/* A stream entry read, its links in the store's group `seq`. */
typedef struct held_ack {
  char id[48];
  uint64_t seq;
} held_ack;

struct uc_cluster {
  uc_cluster_addr addr;
  unsigned agent, agents;
  uv_loop_t *loop;
  void (*kick)(void *ctx);
  void (*drain)(void *ctx);
  void *ctx;
  bool verbose;
  uc_crawl *crawl;
  uc_store *store;
  char ctl[192], gen_key[192], my_stream[192], consumer[32];
  char **streams;          /* in:K for every K */
  redisAsyncContext *cmd;  /* every write, in order; NULL while down */
  redisAsyncContext *rd;   /* the blocking XREADGROUP; NULL while down */
  bool cmd_up, rd_up;      /* connected */
  bool gen_ok;             /* this cmd connection learned the generation */
  char gen[48];            /* the generation known, "" at first */
  batch **out;             /* per owner: links not sent yet */
  size_t out_links;
  size_t hold_max;         /* HOLD_MAX, or UVCRAWL_CLUSTER_HOLD_MAX (tests) */
  FILE *spill;             /* batches beyond hold_max while Redis is away (unlinked file) */
  off_t spill_read, spill_write; /* where the next batch is read back / written */
  sendq *sending, **sending_tail;
  uc_buf *log;             /* per owner: every line Redis took, resent if it loses them */
  held_ack *acks;
  size_t acks_len, acks_cap;
  bool reading, read_pending; /* a read is out; reading our pending list first */
  char read_after[48];
  bool checking;           /* a CHECK_SCRIPT is out */
  uv_timer_t tick, retry, read_delay;
  unsigned read_delay_ms;  /* UVCRAWL_CLUSTER_READ_DELAY_MS (tests): entries wait in transit */
  unsigned backoff_ms;
  unsigned ticks;
  int published_idle;      /* -1 unknown, 0, 1 */
  bool local_over, draining, closing, done, stop_seen, started;
  bool down_said;
  uint64_t in_transit, idle_agents, last_said_transit;
  uc_cluster_stats st;
};

static void connect_all(uc_cluster *cl);
static void issue_read(uc_cluster *cl);

static uint64_t cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void batch_free(batch *b) {
  while (b != NULL) {
    batch *next = b->next;
    uc_buf_free(&b->text);
    free(b->ids);
    free(b);
    b = next;
  }
}

/* ---- out: hand-overs to other agents ------------------------------------ */

static size_t count_lines(const uc_buf *b) {
  size_t n = 0;
  for (size_t i = 0; i < b->len; i++)
    n += b->data[i] == '\n';
  return n;
}


static bool owns_cb(void *ctx, const char *key) {
  uc_cluster *cl = ctx;
  const char *host = strstr(key, "://");
  host = host != NULL ? host + 3 : key;
  size_t len;
  if (*host == '[') {
    const char *end = strchr(host, ']');
    len = end != NULL ? (size_t)(end - host) + 1 : strlen(host);
  } else {
    len = strcspn(host, ":/");
  }
  return uc_cluster_owner(host, len, cl->agents) == cl->agent;
}

static int add_to_batch(uc_cluster *cl, unsigned dest, uint64_t id, const char *line,
                        size_t len) {
  batch *b = cl->out[dest];
  if (b == NULL) {
    if ((b = calloc(1, sizeof *b)) == NULL)
      return UC_ENOMEM;
    b->dest = dest;
    cl->out[dest] = b;
  }
  if (id > 0 && b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 16;
    uint64_t *ids = realloc(b->ids, cap * sizeof *ids);
    if (ids == NULL)
      return UC_ENOMEM;
    b->ids = ids;
    b->cap = cap;
  }
  int rc = uc_buf_append(&b->text, line, len);
  if (rc == 0 && id > 0)
    b->ids[b->n++] = id;
  return rc;
}

/* Redis is away and more than hold_max links wait: write every batch to
 * the spill file ("DEST LEN\n" and the lines) and free it. Their store
 * ids are not marked handed, so with --state they stay QUEUED in the
 * store too, and a kill meanwhile loses nothing. */
static void maybe_spill(uc_cluster *cl) {
  if (cl->cmd_up || cl->out_links <= cl->hold_max)
    return;
  if (cl->spill == NULL && (cl->spill = tmpfile()) == NULL)
    return; /* no file: keep holding in memory */
  bool ok = fseeko(cl->spill, cl->spill_write, SEEK_SET) == 0;
  for (unsigned k = 0; ok && k < cl->agents; k++) {
    batch *b = cl->out[k];
    if (b == NULL)
      continue;
    ok = fprintf(cl->spill, "%u %zu\n", k, b->text.len) > 0 &&
         fwrite(b->text.data, 1, b->text.len, cl->spill) == b->text.len;
    if (ok) {
      cl->st.links_spilled += count_lines(&b->text);
      cl->out[k] = NULL;
      batch_free(b);
    }
  }
  if (ok && fflush(cl->spill) == 0) {
    cl->spill_write = ftello(cl->spill);
    cl->out_links = 0;
  }
}

/* Redis is back: read spilled batches into the outgoing ones, up to half
 * of hold_max at a time; the file goes once it is all read. */
static void unspill(uc_cluster *cl) {
  if (cl->spill == NULL || fseeko(cl->spill, cl->spill_read, SEEK_SET) != 0)
    return;
  unsigned dest;
  size_t len;
  while (cl->out_links < cl->hold_max / 2 + 1 && cl->spill_read < cl->spill_write &&
         fscanf(cl->spill, "%u %zu\n", &dest, &len) == 2 && dest < cl->agents) {
    char *text = malloc(len);
    if (text == NULL || fread(text, 1, len, cl->spill) != len) {
      free(text);
      break;
    }
    uc_buf b = {.data = text, .len = len};
    if (add_to_batch(cl, dest, 0, text, len) == 0)
      cl->out_links += count_lines(&b);
    free(text);
    cl->spill_read = ftello(cl->spill);
  }
  if (cl->spill_read >= cl->spill_write) {
    fclose(cl->spill); /* an unlinked file: gone */
    cl->spill = NULL;
    cl->spill_read = cl->spill_write = 0;
  }
}

static int hand_cb(void *ctx, uint64_t id, const char *url, const char *parent, int depth,
                   unsigned kind) {
  uc_cluster *cl = ctx;
  uint64_t t0 = cpu_ns();
  char host[256];
  if (uc_url_host(url, host, sizeof host) != 0)
    return 0; /* the crawl made its host from it: cannot happen */
  unsigned dest = uc_cluster_owner(host, strlen(host), cl->agents);
  uc_buf line = UC_BUF_INIT;
  int rc = uc_buf_printf(&line, "%d %u %s %s\n", depth, kind, url, parent ? parent : "-");
  if (rc == 0)
    rc = add_to_batch(cl, dest, id, line.data, line.len);
  uc_buf_free(&line);
  cl->out_links += rc == 0;
  maybe_spill(cl);
  cl->st.handover_ns += cpu_ns() - t0;
  return rc;
}

uc_crawl_peers uc_cluster_peers(uc_cluster *cl) {
  return (uc_crawl_peers){.owns = owns_cb, .hand = hand_cb, .ctx = cl};
}

/* Put a failed send's batches back, to go with the next flush. */
static void requeue(uc_cluster *cl, batch *b) {
  while (b != NULL) {
    batch *next = b->next;
    b->next = NULL;
    batch *cur = cl->out[b->dest];
    if (cur == NULL) {
      cl->out[b->dest] = b;
    } else {
      int rc = uc_buf_append(&cur->text, b->text.data, b->text.len);
      for (size_t i = 0; i < b->n && rc == 0; i++)
        rc = add_to_batch(cl, b->dest, b->ids[i], "", 0);
      if (rc != 0)
        uc_crawl_fail(cl->crawl, rc);
      batch_free(b);
    }
    b = next;
  }
  maybe_spill(cl);
}

/* EXEC's answer: Redis has the batches (mark them handed in the store),
 * or the connection went (send them again after reconnecting). */
static void exec_cb(redisAsyncContext *ac, void *reply, void *privdata) {
  uc_cluster *cl = ac->data;
  sendq *s = cl->sending;
  (void)privdata;
  if (s == NULL)
    return;
  cl->sending = s->next;
  if (cl->sending == NULL)
    cl->sending_tail = &cl->sending;
  redisReply *r = reply;
  if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
    if (!cl->closing)
      requeue(cl, s->batches);
    else
      batch_free(s->batches);
    free(s);
    return;
  }
  uint64_t t0 = cpu_ns();
  for (batch *b = s->batches; b != NULL; b = b->next) {
    size_t lines = count_lines(&b->text);
    cl->st.links_out += lines;
    cl->st.batches_out++;
    int rc = uc_crawl_handed(cl->crawl, b->ids, b->n);
    if (rc == 0)
      rc = uc_buf_append(&cl->log[b->dest], b->text.data, b->text.len);
    if (rc != 0)
      uc_crawl_fail(cl->crawl, rc);
  }
  cl->st.handover_ns += cpu_ns() - t0;
  batch_free(s->batches);
  free(s);
  cl->kick(cl->ctx);
}

static int command_argv(uc_cluster *cl, redisCallbackFn *fn, int argc, const char **argv,
                        const size_t *lens) {
  cl->st.commands++;
  return redisAsyncCommandArgv(cl->cmd, fn, NULL, argc, argv, lens) == REDIS_OK ? 0 : UC_EIO;
}

/* Send every owner's batch in one MULTI: XADD each, count them in sent. */
static void flush(uc_cluster *cl) {
  if (cl->cmd_up && cl->gen_ok)
    unspill(cl);
  if (!cl->cmd_up || !cl->gen_ok || cl->out_links == 0)
    return;
  uint64_t t0 = cpu_ns();
  sendq *s = calloc(1, sizeof *s);
  if (s == NULL)
    return;
  batch **tail = &s->batches;
  unsigned nbatches = 0;
  const char *multi = "MULTI";
  command_argv(cl, NULL, 1, &multi, NULL);
  for (unsigned k = 0; k < cl->agents; k++) {
    batch *b = cl->out[k];
    if (b == NULL)
      continue;
    cl->out[k] = NULL;
    const char *argv[5] = {"XADD", cl->streams[k], "*", "l", b->text.data};
    size_t lens[5] = {4, strlen(cl->streams[k]), 1, 1, b->text.len};
    command_argv(cl, NULL, 5, argv, lens);
    *tail = b;
    tail = &b->next;
    nbatches++;
  }
  char n[16];
  snprintf(n, sizeof n, "%u", nbatches);
  const char *incr[4] = {"HINCRBY", cl->ctl, "sent", n};
  command_argv(cl, NULL, 4, incr, NULL);
  const char *exec = "EXEC";
  *cl->sending_tail = s;
  cl->sending_tail = &s->next;
  command_argv(cl, exec_cb, 1, &exec, NULL);
  cl->out_links = 0;
  cl->st.handover_ns += cpu_ns() - t0;
}

/* After Redis lost its data: every line it ever took goes again (the
 * owners deduplicate). */
static void resend_log(uc_cluster *cl) {
  for (unsigned k = 0; k < cl->agents; k++) {
    if (cl->log[k].len == 0)
      continue;
    uc_buf old = cl->log[k];
    cl->log[k] = (uc_buf)UC_BUF_INIT;
    if (add_to_batch(cl, k, 0, old.data, old.len) == 0)
      cl->out_links += count_lines(&old);
    uc_buf_free(&old);
  }
}

/* ---- in: hand-overs from other agents --------------------------------- */

static void ingest_lines(uc_cluster *cl, char *text, size_t len) {
  uint64_t now = uv_now(cl->loop);
  char *p = text, *end = text + len;
  while (p < end) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL)
      nl = end;
    *nl = '\0';
    int depth = 0;
    unsigned kind = 0;
    int off = 0;
    char *url, *parent;
    if (sscanf(p, "%d %u %n", &depth, &kind, &off) == 2 && off > 0) {
      url = p + off;
      parent = strchr(url, ' ');
      if (parent != NULL) {
        *parent++ = '\0';
        int rc = uc_crawl_receive(cl->crawl, url, strcmp(parent, "-") == 0 ? NULL : parent,
                                  depth, kind, now);
        if (rc < 0)
          uc_crawl_fail(cl->crawl, rc);
        cl->st.links_in++;
      }
    }
    p = nl + 1;
  }
}

static int hold_ack(uc_cluster *cl, const char *id, uint64_t seq) {
  if (cl->acks_len == cl->acks_cap) {
    size_t cap = cl->acks_cap ? cl->acks_cap * 2 : 64;
    held_ack *a = realloc(cl->acks, cap * sizeof *a);
    if (a == NULL)
      return UC_ENOMEM;
    cl->acks = a;
    cl->acks_cap = cap;
  }
  held_ack *a = &cl->acks[cl->acks_len++];
  snprintf(a->id, sizeof a->id, "%s", id);
  a->seq = seq;
  return 0;
}

/* One XREADGROUP reply: [[stream, [[id, [field, value, ...]], ...]]]. */
static size_t ingest_reply(uc_cluster *cl, const redisReply *r) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
    return 0;
  const redisReply *entries = r->element[0]->type == REDIS_REPLY_ARRAY &&
                                      r->element[0]->elements == 2
                                  ? r->element[0]->element[1]
                                  : NULL;
  if (entries == NULL || entries->type != REDIS_REPLY_ARRAY)
    return 0;
  uint64_t t0 = cpu_ns();
  for (size_t i = 0; i < entries->elements; i++) {
    const redisReply *e = entries->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
      continue;
    const redisReply *fields = e->element[1];
    /* A pending entry whose payload was deleted comes back as nil. */
    for (size_t j = 0; fields->type == REDIS_REPLY_ARRAY && j + 1 < fields->elements; j += 2)
      if (strcmp(fields->element[j]->str, "l") == 0)
        ingest_lines(cl, fields->element[j + 1]->str, fields->element[j + 1]->len);
    snprintf(cl->read_after, sizeof cl->read_after, "%s", e->element[0]->str);
    cl->st.entries_in++;
  }
  /* Note: a group of duplicates alone writes nothing, and a backend's
   * writer may never close an empty group (SQLite's waits for writes):
   * the entries would wait for their XACK until some other write. The
   * last entry read, kept as a named value, makes every group non-empty. */
  uint64_t seq = 0;
  int rc = cl->store != NULL ? uc_store_put_meta(cl->store, "cluster_last_read", cl->read_after)
                             : 0;
  if (rc == 0 && cl->store != NULL)
    rc = uc_store_commit(cl->store, &seq);
  for (size_t i = 0; i < entries->elements && rc == 0; i++)
    rc = hold_ack(cl, entries->element[i]->element[0]->str, seq);
  if (rc != 0)
    uc_crawl_fail(cl->crawl, rc);
  cl->st.handover_ns += cpu_ns() - t0;
  return entries->elements;
}

static void read_delay_cb(uv_timer_t *t) { issue_read(t->data); }

static void read_cb(redisAsyncContext *ac, void *reply, void *privdata) {
  uc_cluster *cl = ac->data;
  redisReply *r = reply;
  (void)privdata;
  cl->reading = false;
  if (r == NULL || cl->closing)
    return;
  if (r->type == REDIS_REPLY_ERROR) {
    /* NOGROUP: Redis lost its data; the group is made again first. */
    cl->read_pending = false;
    issue_read(cl);
    return;
  }
  size_t n = ingest_reply(cl, r);
  if (cl->read_pending && n == 0)
    cl->read_pending = false; /* our pending list is read: now new entries */
  if (n > 0) {
    cl->local_over = false;
    cl->kick(cl->ctx);
  }
  if (cl->read_delay_ms > 0)
    uv_timer_start(&cl->read_delay, read_delay_cb, cl->read_delay_ms, 0);
  else
    issue_read(cl);
}

static void issue_read(uc_cluster *cl) {
  if (!cl->rd_up || cl->reading || cl->closing || cl->draining ||
      cl->acks_len >= ACKS_HELD_MAX || uv_is_active((uv_handle_t *)&cl->read_delay))
    return;
  cl->reading = true;
  cl->st.commands++;
  if (cl->read_pending)
    redisAsyncCommand(cl->rd, read_cb, NULL, "XREADGROUP GROUP g %s COUNT %d STREAMS %s %s",
                      cl->consumer, READ_COUNT, cl->my_stream, cl->read_after);
  else
    redisAsyncCommand(cl->rd, read_cb, NULL,
                      "XREADGROUP GROUP g %s COUNT %d BLOCK %d STREAMS %s >", cl->consumer,
                      READ_COUNT, READ_BLOCK_MS, cl->my_stream);
}

/* Acknowledge the entries whose links are durable in our store. */
static void send_acks(uc_cluster *cl) {
  if (!cl->cmd_up || !cl->gen_ok || cl->acks_len == 0)
    return;
  uint64_t durable = cl->store != NULL ? uc_store_durable(cl->store) : UINT64_MAX;
  size_t n = 0;
  while (n < cl->acks_len && n < ACK_MAX && cl->acks[n].seq <= durable)
    n++;
  if (n == 0)
    return;
  const char *argv[6 + ACK_MAX];
  char agent[16];
  snprintf(agent, sizeof agent, "%u", cl->agent);
  argv[0] = "EVAL";
  argv[1] = ACK_SCRIPT;
  argv[2] = "2";
  argv[3] = cl->my_stream;
  argv[4] = cl->ctl;
  argv[5] = agent;
  for (size_t i = 0; i < n; i++)
    argv[6 + i] = cl->acks[i].id;
  command_argv(cl, NULL, (int)(6 + n), argv, NULL);
  memmove(cl->acks, cl->acks + n, (cl->acks_len - n) * sizeof *cl->acks);
  cl->acks_len -= n;
  cl->published_idle = 0; /* the script said so */
  issue_read(cl);         /* reading may have paused on held acks */
}

/* ---- the termination check and the counters --------------------------- */

static bool idle_now(const uc_cluster *cl) {
  return cl->local_over && !cl->draining && cl->out_links == 0 && cl->spill == NULL &&
         cl->sending == NULL &&
         cl->acks_len == 0;
}

static void check_cb(redisAsyncContext *ac, void *reply, void *privdata) {
  uc_cluster *cl = ac->data;
  redisReply *r = reply;
  (void)privdata;
  cl->checking = false;
  if (r == NULL || cl->closing || r->type != REDIS_REPLY_ARRAY || r->elements != 5)
    return;
  long long v[5];
  for (int i = 0; i < 5; i++)
    v[i] = r->element[i]->integer;
  cl->in_transit = v[2] > v[3] ? (uint64_t)(v[2] - v[3]) : 0;
  cl->idle_agents = (uint64_t)v[4];
  if (cl->verbose && v[4] == (long long)cl->agents && v[2] != v[3] &&
      cl->last_said_transit != (uint64_t)v[2]) {
    /* What a check of "every agent is idle" alone would have ended on. */
    fprintf(stderr, "uvcrawl: cluster: all %u agents idle, %" PRIu64
            " hand-over entries in transit: not done\n", cl->agents, cl->in_transit);
    cl->last_said_transit = (uint64_t)v[2];
  }
  if (v[1] == 1 && !cl->stop_seen) {
    cl->stop_seen = true;
    cl->drain(cl->ctx);
  }
  if (v[0] == 1 && !cl->done) {
    cl->done = true;
    cl->kick(cl->ctx);
  }
}

static void publish_counters(uc_cluster *cl) {
  const uc_stats *s = uc_crawl_stats(cl->crawl);
  char f[4][24], v[4][24];
  const char *argv[10] = {"HSET", cl->ctl};
  uint64_t vals[4] = {s->pages, uc_crawl_queued(cl->crawl), cl->st.links_out, cl->st.links_in};
  static const char *const names[4] = {"pages", "queued", "out", "in"};
  for (int i = 0; i < 4; i++) {
    snprintf(f[i], sizeof f[i], "%s:%u", names[i], cl->agent);
    snprintf(v[i], sizeof v[i], "%" PRIu64, vals[i]);
    argv[2 + 2 * i] = f[i];
    argv[3 + 2 * i] = v[i];
  }
  command_argv(cl, NULL, 10, argv, NULL);
}

static void publish_idle(uc_cluster *cl) {
  int idle = idle_now(cl) ? 1 : 0;
  if (idle == cl->published_idle)
    return;
  char field[32];
  snprintf(field, sizeof field, "idle:%u", cl->agent);
  const char *argv[4] = {"HSET", cl->ctl, field, idle ? "1" : "0"};
  command_argv(cl, NULL, 4, argv, NULL);
  cl->published_idle = idle;
}

static void tick_cb(uv_timer_t *t) {
  uc_cluster *cl = t->data;
  if (!cl->cmd_up || !cl->gen_ok)
    return;
  flush(cl);
  send_acks(cl);
  publish_idle(cl);
  if (++cl->ticks % PUBLISH_TICKS == 0)
    publish_counters(cl);
  /* The check (a script reading N fields) every tick while idle, where it
   * ends the crawl; a busy agent only looks for --stop, every 10th. */
  if (!cl->checking && (cl->published_idle == 1 || cl->ticks % 10 == 0)) {
    char n[16];
    snprintf(n, sizeof n, "%u", cl->agents);
    const char *argv[5] = {"EVAL", CHECK_SCRIPT, "1", cl->ctl, n};
    cl->checking = true;
    command_argv(cl, check_cb, 5, argv, NULL);
  }
}

/* ---- connections ------------------------------------------------------- */

static void retry_cb(uv_timer_t *t) { connect_all(t->data); }

static void schedule_retry(uc_cluster *cl) {
  if (cl->closing || uv_is_active((uv_handle_t *)&cl->retry))
    return;
  cl->backoff_ms = cl->backoff_ms == 0 ? BACKOFF_MIN_MS : cl->backoff_ms * 2;
  if (cl->backoff_ms > BACKOFF_MAX_MS)
    cl->backoff_ms = BACKOFF_MAX_MS;
  uv_timer_start(&cl->retry, retry_cb, cl->backoff_ms, 0);
}

static void gen_cb(redisAsyncContext *ac, void *reply, void *privdata) {
  uc_cluster *cl = ac->data;
  redisReply *r = reply;
  (void)privdata;
  if (r == NULL || cl->closing || r->type != REDIS_REPLY_STRING)
    return;
  if (cl->gen[0] != '\0' && strcmp(cl->gen, r->str) != 0) {
    /* Redis lost the crawl's keys: what it held in transit is gone. */
    if (cl->verbose)
      fprintf(stderr, "uvcrawl: cluster: Redis lost its data; resending hand-overs\n");
    resend_log(cl);
    cl->read_pending = true;
    snprintf(cl->read_after, sizeof cl->read_after, "0");
  }
  snprintf(cl->gen, sizeof cl->gen, "%s", r->str);
  cl->gen_ok = true;
  cl->published_idle = -1;
  publish_idle(cl);
  cl->kick(cl->ctx);
}

static void disconnect_cb(const redisAsyncContext *ac, int status) {
  uc_cluster *cl = ac->data;
  if (cl->verbose && !cl->closing)
    fprintf(stderr, "uvcrawl: cluster: agent %u lost its %s connection to Redis: %s\n",
            cl->agent, ac == cl->cmd ? "command" : "reading", ac->errstr ? ac->errstr : "closed");
  if (ac == cl->cmd) {
    cl->cmd = NULL;
    cl->cmd_up = false;
    cl->gen_ok = false;
    cl->checking = false;
  } else if (ac == cl->rd) {
    cl->rd = NULL;
    cl->rd_up = false;
    cl->reading = false;
  }
  if (!cl->closing) {
    cl->st.reconnects++;
    schedule_retry(cl);
  }
}

static void connect_cb(const redisAsyncContext *ac, int status) {
  uc_cluster *cl = ac->data;
  if (status != REDIS_OK) { /* hiredis frees the context after this */
    disconnect_cb(ac, status);
    return;
  }
  cl->backoff_ms = 0;
  cl->down_said = false;
  if (cl->verbose)
    fprintf(stderr, "uvcrawl: cluster: agent %u: %s connection to Redis up\n", cl->agent,
            ac == cl->cmd ? "command" : "reading");
  if (ac == cl->cmd) {
    cl->cmd_up = true;
    char cand[48];
    snprintf(cand, sizeof cand, "%llx-%d",
             (unsigned long long)(uv_hrtime() ^ ((uint64_t)getpid() << 32)), (int)cl->agent);
    const char *argv[5] = {"EVAL", GEN_SCRIPT, "1", cl->gen_key, cand};
    command_argv(cl, gen_cb, 5, argv, NULL);
  } else if (ac == cl->rd) {
    cl->rd_up = true;
    cl->read_pending = true;
    snprintf(cl->read_after, sizeof cl->read_after, "0");
    cl->st.commands++;
    /* Made from 0: entries added before the group existed are read too. */
    redisAsyncCommand(cl->rd, NULL, NULL, "XGROUP CREATE %s g 0 MKSTREAM", cl->my_stream);
    issue_read(cl);
  }
}

/* Note: hiredis 0.14's libuv adapter drops a poll error (libuv reports
 * POLLERR as status UV_EBADF and stops the poll): a connection whose
 * server died while we wrote was never seen closed, and the agent waited
 * on it for ever (seen when redis-server was restarted mid-crawl). These
 * wrappers keep the adapter and hand such an error to hiredis as a read,
 * which finds the socket closed and disconnects. */
static void poll_cb(uv_poll_t *handle, int status, int events) {
  redisLibuvEvents *p = handle->data;
  if (status != 0 && p->context != NULL) {
    redisAsyncHandleRead(p->context);
    return;
  }
  redisLibuvPoll(handle, status, events);
}

static void repoll(void *privdata) {
  redisLibuvEvents *p = privdata;
  if (p->events != 0)
    uv_poll_start(&p->handle, p->events, poll_cb);
}

static void add_read(void *privdata) { redisLibuvAddRead(privdata), repoll(privdata); }
static void del_read(void *privdata) { redisLibuvDelRead(privdata), repoll(privdata); }
static void add_write(void *privdata) { redisLibuvAddWrite(privdata), repoll(privdata); }
static void del_write(void *privdata) { redisLibuvDelWrite(privdata), repoll(privdata); }

static redisAsyncContext *open_one(uc_cluster *cl) {
  redisAsyncContext *ac = cl->addr.path[0] != '\0'
                              ? redisAsyncConnectUnix(cl->addr.path)
                              : redisAsyncConnect(cl->addr.host, cl->addr.port);
  if (ac == NULL)
    return NULL;
  if (ac->err != 0 || redisLibuvAttach(ac, cl->loop) != REDIS_OK) {
    redisAsyncFree(ac);
    return NULL;
  }
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->data = cl;
  redisAsyncSetConnectCallback(ac, connect_cb);
  redisAsyncSetDisconnectCallback(ac, disconnect_cb);
  return ac;
}

static void connect_all(uc_cluster *cl) {
  if (cl->closing)
    return;
  if (cl->cmd == NULL)
    cl->cmd = open_one(cl);
  if (cl->rd == NULL)
    cl->rd = open_one(cl);
  if (cl->cmd == NULL || cl->rd == NULL)
    schedule_retry(cl);
}

/* ---- the engine's side ------------------------------------------------- */

int uc_cluster_new(uc_cluster **out, const uc_cluster_opts *o) {
  uc_cluster *cl = calloc(1, sizeof *cl);
  if (cl == NULL)
    return UC_ENOMEM;
  cl->addr = *o->addr;
  cl->agent = o->agent;
  cl->agents = o->agents;
  cl->loop = o->loop;
  cl->kick = o->kick;
  cl->drain = o->drain;
  cl->ctx = o->ctx;
  cl->verbose = o->verbose;
  cl->published_idle = -1;
  cl->sending_tail = &cl->sending;
  cl->st.agent = o->agent;
  cl->st.agents = o->agents;
  const char *n = cl->addr.name;
  snprintf(cl->ctl, sizeof cl->ctl, "uvcrawl:%s:ctl", n);
  snprintf(cl->gen_key, sizeof cl->gen_key, "uvcrawl:%s:gen", n);
  snprintf(cl->my_stream, sizeof cl->my_stream, "uvcrawl:%s:in:%u", n, o->agent);
  snprintf(cl->consumer, sizeof cl->consumer, "agent-%u", o->agent);
  cl->streams = calloc(o->agents, sizeof *cl->streams);
  cl->out = calloc(o->agents, sizeof *cl->out);
  cl->log = calloc(o->agents, sizeof *cl->log);
  bool ok = cl->streams != NULL && cl->out != NULL && cl->log != NULL;
  for (unsigned k = 0; ok && k < o->agents; k++) {
    uc_buf key = UC_BUF_INIT;
    ok = uc_buf_printf(&key, "uvcrawl:%s:in:%u", n, k) == 0;
    cl->streams[k] = key.data;
  }
  if (!ok) {
    uc_cluster_free(cl);
    return UC_ENOMEM;
  }
  cl->hold_max = HOLD_MAX;
  const char *hold = getenv("UVCRAWL_CLUSTER_HOLD_MAX");
  if (hold != NULL && strtoul(hold, NULL, 10) > 0)
    cl->hold_max = strtoul(hold, NULL, 10);
  const char *delay = getenv("UVCRAWL_CLUSTER_READ_DELAY_MS");
  if (delay != NULL)
    cl->read_delay_ms = (unsigned)strtoul(delay, NULL, 10);
  uv_timer_init(o->loop, &cl->tick);
  uv_timer_init(o->loop, &cl->retry);
  uv_timer_init(o->loop, &cl->read_delay);
  cl->tick.data = cl->retry.data = cl->read_delay.data = cl;
  *out = cl;
  return 0;
}

int uc_cluster_start(uc_cluster *cl, uc_crawl *crawl, uc_store *store) {
  cl->crawl = crawl;
  cl->store = store;
  cl->started = true;
  uv_timer_start(&cl->tick, tick_cb, TICK_MS, TICK_MS);
  connect_all(cl);
  return 0;
}

bool uc_cluster_step(uc_cluster *cl, bool local_over, bool draining) {
  cl->local_over = local_over;
  if (draining && !cl->draining) {
    cl->draining = true;
    uv_timer_stop(&cl->read_delay);
  }
  flush(cl);
  send_acks(cl);
  if (cl->cmd_up && cl->gen_ok && cl->published_idle != (idle_now(cl) ? 1 : 0))
    publish_idle(cl);
  if (draining) /* what we owe Redis is out, or Redis is not there to take it */
    return local_over && ((cl->out_links == 0 && cl->spill == NULL && cl->sending == NULL &&
                           cl->acks_len == 0) ||
                          !cl->cmd_up);
  return cl->done && local_over;
}

void uc_cluster_progress(const uc_cluster *cl, char *buf, size_t len) {
  uint64_t held = cl->out_links;
  if (!cl->cmd_up || !cl->rd_up)
    snprintf(buf, len, "agent %u/%u, redis DOWN (retry in %u ms), holding %" PRIu64
             " links (%" PRIu64 " spilled to a file)", cl->agent, cl->agents, cl->backoff_ms, held,
             cl->st.links_spilled);
  else
    snprintf(buf, len, "agent %u/%u, %" PRIu64 " links out, %" PRIu64 " in, %" PRIu64
             " in transit, %" PRIu64 "/%u idle", cl->agent, cl->agents, cl->st.links_out,
             cl->st.links_in, cl->in_transit, cl->idle_agents, cl->agents);
}

void uc_cluster_get_stats(const uc_cluster *cl, uc_cluster_stats *out) { *out = cl->st; }

void uc_cluster_close(uc_cluster *cl) {
  if (cl->closing)
    return;
  cl->closing = true;
  uv_close((uv_handle_t *)&cl->tick, NULL);
  uv_close((uv_handle_t *)&cl->retry, NULL);
  uv_close((uv_handle_t *)&cl->read_delay, NULL);
  if (cl->cmd != NULL && cl->cmd_up) {
    publish_counters(cl); /* the last word for --status */
    redisAsyncDisconnect(cl->cmd); /* after the replies to what is written */
  } else if (cl->cmd != NULL) {
    redisAsyncFree(cl->cmd);
  }
  if (cl->rd != NULL)
    redisAsyncFree(cl->rd); /* a blocked read: nothing to wait for */
}

void uc_cluster_free(uc_cluster *cl) {
  if (cl == NULL)
    return;
  for (unsigned k = 0; cl->streams != NULL && k < cl->agents; k++)
    free(cl->streams[k]);
  for (unsigned k = 0; cl->out != NULL && k < cl->agents; k++)
    batch_free(cl->out[k]);
  for (unsigned k = 0; cl->log != NULL && k < cl->agents; k++)
    uc_buf_free(&cl->log[k]);
  while (cl->sending != NULL) {
    sendq *s = cl->sending;
    cl->sending = s->next;
    batch_free(s->batches);
    free(s);
  }
  if (cl->spill != NULL)
    fclose(cl->spill);
  free(cl->streams);
  free(cl->out);
  free(cl->log);
  free(cl->acks);
  free(cl);
}
