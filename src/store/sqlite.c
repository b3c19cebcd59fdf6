/* sqlite.c - the crawl state in SQLite (see store_sqlite.h, docs/state.md).
 *
 * The write path, and why it never blocks the crawl's thread:
 *
 *   crawl thread                          writer thread
 *   put_url/set_state/... --append-->  log.fill (ops + their strings)
 *   commit: mark the end of a group,
 *           seq = ++closed, signal  -->  take every closed group (swap),
 *                                        pre_commit hook (flush records),
 *                                        BEGIN; apply; COMMIT,
 *                                        durable = seq, wake hook
 *
 * Only whole groups are taken: ops put after the last commit (a lease, say)
 * stay in the fill log for the next one. A failed transaction is rolled
 * back whole and the store stops (failed): from then on nothing more is
 * durable, and the crawl, told by uc_store_failed(), stops.
 */
#include "uvcrawl/store_sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"

/* PRAGMA application_id: "uvcr". */
#define APPLICATION_ID 0x75766372

#define NO_STR SIZE_MAX
#define COMMIT_RING 256 /* commits kept for --trace */

typedef enum op_type { OP_URL, OP_STATE, OP_HOST, OP_SCOPE, OP_META, OP_REFILL } op_type;

/* One queued write. Strings live in the log's arena, by offset (NO_STR:
 * NULL); the fields' meaning depends on the type (see the put_* below). */
typedef struct op {
  op_type type;
  uint64_t id;
  int64_t i1, i2;
  int n1, n2, n3;
  size_t s1, s2, len2;
} op;

/* A log of writes: an array of ops and the arena their strings live in. */
typedef struct op_log {
  op *ops;
  size_t n, cap;
  uc_buf arena;
} op_log;

typedef struct sqlite_store {
  uc_store base;
  sqlite3 *db;
  uc_store_sqlite_mode mode;
  int lock_fd; /* DIR/lock, flock()ed for the store's life; -1 if none */
  char path[PATH_MAX];

  /* lock protects fill, closed_ops, closed, durable, failed, errmsg,
   * closing. cv_work wakes the writer; cv_durable wakes uc_store_sync. */
  pthread_mutex_t lock;
  pthread_cond_t cv_work, cv_durable;
  op_log fill;       /* written by the crawl's thread */
  size_t closed_ops; /* fill.ops[0, closed_ops) form closed groups */
  uint64_t closed;   /* the last group closed by commit */
  uint64_t durable;  /* the last group committed to the database */
  int failed;        /* 0 or UC_EIO */
  char errmsg[256];
  bool closing;

  /* hook_lock protects the hooks and is held while one runs, so that
   * set_hooks(NULL) returns only once no call to them is running. The
   * writer takes it holding no other lock of the store. */
  pthread_mutex_t hook_lock;
  void (*wake)(void *);
  uc_store_pre_commit_fn pre_commit;
  void *hook_ctx;

  /* The last commits, for --trace (lock): a ring. */
  uc_store_commit_info commits[COMMIT_RING];
  size_t commits_head, commits_len;

  /* Refills answered (lock): per answer an OP_REFILL (id: the host, n1:
   * its rows) and then its rows as OP_URL ops (s2: the parent's URL). */
  op_log answers;

  bool writer_started;
  pthread_t writer;
  /* The writer thread's own: the batch it applies, the refill answers it
   * makes (moved to `answers` once committed), and its statements. */
  op_log work, work_answers;
  sqlite3_stmt *st_url, *st_state, *st_host, *st_scope, *st_meta, *st_refill;
} sqlite_store;

static const char SCHEMA[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE scope(host TEXT PRIMARY KEY, adopted INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE hosts(id INTEGER PRIMARY KEY, key TEXT NOT NULL, robots_at INTEGER,"
    " robots_status INTEGER, robots_fail INTEGER, robots_body BLOB);"
    "CREATE TABLE urls(id INTEGER PRIMARY KEY, url TEXT NOT NULL, parent INTEGER,"
    " host INTEGER NOT NULL, depth INTEGER NOT NULL, kind INTEGER NOT NULL,"
    " state INTEGER NOT NULL, status INTEGER, error TEXT);"
    "CREATE INDEX urls_live ON urls(depth, id) WHERE state < 2;"
    "CREATE INDEX urls_queued ON urls(host, id) WHERE state = 0;";

/* ---- the op log ---------------------------------------------------------- */

static size_t log_str(op_log *l, const void *bytes, size_t len, int *rc) {
  if (bytes == NULL)
    return NO_STR;
  size_t at = l->arena.len;
  if (*rc == 0)
    *rc = uc_buf_append(&l->arena, bytes, len);
  if (*rc == 0)
    *rc = uc_buf_append(&l->arena, "", 1); /* NUL: text columns read it as a C string */
  return at;
}

static const char *log_text(const op_log *l, size_t at) {
  return at == NO_STR ? NULL : l->arena.data + at;
}

/* Append an op whose strings are s1 (text) and s2 (len2 bytes). */
static int log_put(op_log *l, op o, const char *s1, const void *s2, size_t len2) {
  if (l->n == l->cap) {
    size_t cap = l->cap == 0 ? 256 : l->cap * 2;
    op *ops = realloc(l->ops, cap * sizeof *ops);
    if (ops == NULL)
      return UC_ENOMEM;
    l->ops = ops;
    l->cap = cap;
  }
  int rc = 0;
  size_t mark = l->arena.len;
  o.s1 = log_str(l, s1, s1 != NULL ? strlen(s1) : 0, &rc);
  o.s2 = log_str(l, s2, len2, &rc);
  o.len2 = len2;
  if (rc != 0) {
    l->arena.len = mark;
    return rc;
  }
  l->ops[l->n++] = o;
  return 0;
}

/* Append ops[from, n) of `src` (strings and all) to `dst`. */
static int log_copy(op_log *dst, const op_log *src, size_t from) {
  int rc = 0;
  for (size_t i = from; i < src->n && rc == 0; i++) {
    const op *o = &src->ops[i];
    rc = log_put(dst, *o, log_text(src, o->s1), o->s2 == NO_STR ? NULL : src->arena.data + o->s2,
                 o->len2);
  }
  return rc;
}

static void log_free(op_log *l) {
  free(l->ops);
  uc_buf_free(&l->arena);
  memset(l, 0, sizeof *l);
}

/* ---- the crawl thread's side ------------------------------------------- */

static int append(sqlite_store *ss, op o, const char *s1, const void *s2, size_t len2) {
  if (ss->mode != UC_STORE_SQLITE_CRAWL)
    return UC_EINVAL;
  pthread_mutex_lock(&ss->lock);
  int rc = ss->failed != 0 ? ss->failed : log_put(&ss->fill, o, s1, s2, len2);
  pthread_mutex_unlock(&ss->lock);
  return rc;
}

static int sq_put_url(uc_store *s, const uc_store_url *u) {
  op o = {.type = OP_URL, .id = u->id, .i1 = (int64_t)u->parent_id, .i2 = (int64_t)u->host_id,
          .n1 = u->depth, .n2 = (int)u->kind};
  return append((sqlite_store *)s, o, u->url, NULL, 0);
}

static int sq_set_state(uc_store *s, uint64_t id, uc_url_state state, int status,
                        const char *error) {
  op o = {.type = OP_STATE, .id = id, .n1 = (int)state, .n2 = status};
  return append((sqlite_store *)s, o, error, NULL, 0);
}

static int sq_put_host(uc_store *s, const uc_store_host *h) {
  op o = {.type = OP_HOST, .id = h->id, .i1 = h->robots_at_ms, .n1 = h->robots_status,
          .n2 = h->robots_fail, .n3 = h->robots_known};
  const char *body = h->robots_known ? (h->robots_body != NULL ? h->robots_body : "") : NULL;
  return append((sqlite_store *)s, o, h->key, body, h->robots_known ? h->robots_len : 0);
}

static int sq_put_scope(uc_store *s, const char *host, bool adopted) {
  op o = {.type = OP_SCOPE, .n1 = adopted};
  return append((sqlite_store *)s, o, host, NULL, 0);
}

static int sq_put_meta(uc_store *s, const char *key, const char *value) {
  op o = {.type = OP_META};
  return append((sqlite_store *)s, o, key, value, strlen(value));
}

static int sq_refill(uc_store *s, uint64_t host_id, uint64_t after_id, int max_depth,
                     size_t limit) {
  op o = {.type = OP_REFILL, .id = host_id, .i1 = (int64_t)after_id, .i2 = (int64_t)limit,
          .n1 = max_depth};
  return append((sqlite_store *)s, o, NULL, NULL, 0);
}

static int sq_take_refills(uc_store *s, uc_store_refill_fn fn, void *ctx) {
  sqlite_store *ss = (sqlite_store *)s;
  op_log got = {0};
  pthread_mutex_lock(&ss->lock);
  got = ss->answers;
  memset(&ss->answers, 0, sizeof ss->answers);
  pthread_mutex_unlock(&ss->lock);
  int rc = 0;
  uc_store_url *rows = NULL;
  for (size_t i = 0; i < got.n && rc == 0;) {
    const op *head = &got.ops[i++];
    size_t n = (size_t)head->n1;
    uc_store_url *more = realloc(rows, (n > 0 ? n : 1) * sizeof *rows);
    if (more == NULL) {
      rc = UC_ENOMEM;
      break;
    }
    rows = more;
    for (size_t k = 0; k < n; k++, i++) {
      const op *r = &got.ops[i];
      rows[k] = (uc_store_url){.id = r->id, .url = log_text(&got, r->s1),
                               .parent_id = (uint64_t)r->i1, .parent = log_text(&got, r->s2),
                               .host_id = (uint64_t)r->i2, .depth = r->n1,
                               .kind = (unsigned)r->n2, .state = UC_URL_QUEUED};
    }
    rc = fn(ctx, head->id, rows, n);
  }
  free(rows);
  log_free(&got);
  return rc;
}

static int sq_commit(uc_store *s, uint64_t *seq) {
  sqlite_store *ss = (sqlite_store *)s;
  if (ss->mode != UC_STORE_SQLITE_CRAWL)
    return UC_EINVAL;
  pthread_mutex_lock(&ss->lock);
  int rc = ss->failed;
  if (rc == 0 && ss->fill.n == ss->closed_ops) {
    /* Note: nothing put since the last group. A group of its own would
     * never be taken (the writer waits for operations), and whoever waits
     * for it would wait forever: an empty group is durable with the one
     * before it. */
    *seq = ss->closed;
  } else if (rc == 0) {
    ss->closed_ops = ss->fill.n;
    *seq = ++ss->closed;
    pthread_cond_signal(&ss->cv_work);
  }
  pthread_mutex_unlock(&ss->lock);
  return rc;
}

static uint64_t sq_durable_seq(uc_store *s) {
  sqlite_store *ss = (sqlite_store *)s;
  pthread_mutex_lock(&ss->lock);
  uint64_t d = ss->durable;
  pthread_mutex_unlock(&ss->lock);
  return d;
}

static int sq_sync(uc_store *s) {
  sqlite_store *ss = (sqlite_store *)s;
  pthread_mutex_lock(&ss->lock);
  while (ss->durable < ss->closed && ss->failed == 0)
    pthread_cond_wait(&ss->cv_durable, &ss->lock);
  int rc = ss->failed;
  pthread_mutex_unlock(&ss->lock);
  return rc;
}

static int sq_failed(uc_store *s, char *msg, size_t msglen) {
  sqlite_store *ss = (sqlite_store *)s;
  pthread_mutex_lock(&ss->lock);
  int rc = ss->failed;
  if (rc != 0 && msg != NULL)
    snprintf(msg, msglen, "%s", ss->errmsg);
  pthread_mutex_unlock(&ss->lock);
  return rc;
}

static void sq_set_hooks(uc_store *s, void (*wake)(void *), uc_store_pre_commit_fn pre_commit,
                         void *ctx) {
  sqlite_store *ss = (sqlite_store *)s;
  pthread_mutex_lock(&ss->hook_lock);
  ss->wake = wake;
  ss->pre_commit = pre_commit;
  ss->hook_ctx = ctx;
  pthread_mutex_unlock(&ss->hook_lock);
}

/* ---- the writer thread ------------------------------------------------- */

/* Take the closed groups out of the fill log (lock held): the writer gets
 * them whole in `work`; ops put after the last commit stay in fill. */
static int take_closed(sqlite_store *ss) {
  op_log *fill = &ss->fill, *work = &ss->work;
  work->n = 0;
  uc_buf_reset(&work->arena);
  op_log tmp = *work;
  *work = *fill;
  *fill = tmp;
  int rc = log_copy(fill, work, ss->closed_ops);
  work->n = ss->closed_ops;
  ss->closed_ops = 0;
  return rc;
}

static void bind_text(sqlite3_stmt *st, int col, const op_log *l, size_t at) {
  if (at == NO_STR)
    sqlite3_bind_null(st, col);
  else
    sqlite3_bind_text(st, col, l->arena.data + at, -1, SQLITE_STATIC);
}

/* A refill: read the host's next queued URLs (the transaction sees every
 * write before it) into work_answers. */
static int answer_refill(sqlite_store *ss, const op *o) {
  sqlite3_stmt *st = ss->st_refill;
  sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
  sqlite3_bind_int64(st, 2, o->i1);
  sqlite3_bind_int(st, 3, o->n1 < 0 ? INT32_MAX : o->n1);
  sqlite3_bind_int64(st, 4, o->i2);
  op_log *out = &ss->work_answers;
  size_t head = out->n;
  op h = {.type = OP_REFILL, .id = o->id};
  int rc = log_put(out, h, NULL, NULL, 0) == 0 ? SQLITE_OK : SQLITE_NOMEM;
  int step;
  while (rc == SQLITE_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
    const char *parent = (const char *)sqlite3_column_text(st, 5);
    op row = {.type = OP_URL, .id = (uint64_t)sqlite3_column_int64(st, 0),
              .i1 = sqlite3_column_int64(st, 2), .i2 = (int64_t)o->id,
              .n1 = sqlite3_column_int(st, 3), .n2 = sqlite3_column_int(st, 4)};
    if (log_put(out, row, (const char *)sqlite3_column_text(st, 1), parent,
                parent != NULL ? strlen(parent) : 0) != 0)
      rc = SQLITE_NOMEM;
    else
      out->ops[head].n1++;
  }
  if (rc == SQLITE_OK && step != SQLITE_DONE)
    rc = step;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc;
}

/* Apply one op with its prepared statement. */
static int apply(sqlite_store *ss, const op *o) {
  const op_log *l = &ss->work;
  sqlite3_stmt *st = NULL;
  switch (o->type) {
  case OP_URL:
    st = ss->st_url;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
    bind_text(st, 2, l, o->s1);
    if (o->i1 > 0)
      sqlite3_bind_int64(st, 3, o->i1);
    else
      sqlite3_bind_null(st, 3);
    sqlite3_bind_int64(st, 4, o->i2);
    sqlite3_bind_int(st, 5, o->n1);
    sqlite3_bind_int(st, 6, o->n2);
    break;
  case OP_STATE:
    st = ss->st_state;
    sqlite3_bind_int(st, 1, o->n1);
    if (o->n1 >= UC_URL_DONE)
      sqlite3_bind_int(st, 2, o->n2);
    else
      sqlite3_bind_null(st, 2);
    bind_text(st, 3, l, o->s1);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)o->id);
    break;
  case OP_HOST:
    st = ss->st_host;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
    bind_text(st, 2, l, o->s1);
    if (o->n3) {
      sqlite3_bind_int64(st, 3, o->i1);
      sqlite3_bind_int(st, 4, o->n1);
      sqlite3_bind_int(st, 5, o->n2);
      sqlite3_bind_blob(st, 6, l->arena.data + o->s2, (int)o->len2, SQLITE_STATIC);
    } else {
      for (int col = 3; col <= 6; col++)
        sqlite3_bind_null(st, col);
    }
    break;
  case OP_SCOPE:
    st = ss->st_scope;
    bind_text(st, 1, l, o->s1);
    sqlite3_bind_int(st, 2, o->n1);
    break;
  case OP_META:
    st = ss->st_meta;
    bind_text(st, 1, l, o->s1);
    bind_text(st, 2, l, o->s2);
    break;
  case OP_REFILL:
    return answer_refill(ss, o);
  }
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* One transaction for every group taken; 0, or the error said in errmsg. */
static int apply_all(sqlite_store *ss, char *errmsg, size_t errlen) {
  pthread_mutex_lock(&ss->hook_lock);
  errmsg[0] = '\0';
  int hook = ss->pre_commit != NULL ? ss->pre_commit(ss->hook_ctx, errmsg, errlen) : 0;
  pthread_mutex_unlock(&ss->hook_lock);
  if (hook != 0) {
    if (errmsg[0] == '\0')
      snprintf(errmsg, errlen, "the records could not be flushed before a commit");
    return UC_EIO;
  }
  int rc = sqlite3_exec(ss->db, "BEGIN", NULL, NULL, NULL);
  for (size_t i = 0; i < ss->work.n && rc == SQLITE_OK; i++)
    rc = apply(ss, &ss->work.ops[i]);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(ss->db, "COMMIT", NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    return 0;
  ss->work_answers.n = 0;
  snprintf(errmsg, errlen, "cannot write the crawl state to %.160s: %s", ss->path,
           sqlite3_errmsg(ss->db));
  sqlite3_exec(ss->db, "ROLLBACK", NULL, NULL, NULL);
  return UC_EIO;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Remember a commit for --trace (lock held); the oldest goes when full. */
static void note_commit(sqlite_store *ss, uint64_t tid, uint64_t start, uint64_t end,
                        size_t ops) {
  if (ss->commits_len == COMMIT_RING) {
    ss->commits_head = (ss->commits_head + 1) % COMMIT_RING;
    ss->commits_len--;
  }
  ss->commits[(ss->commits_head + ss->commits_len) % COMMIT_RING] =
      (uc_store_commit_info){.tid = tid, .start_ns = start, .end_ns = end, .ops = ops};
  ss->commits_len++;
}

static size_t sq_take_commits(uc_store *s, uc_store_commit_info *out, size_t max) {
  sqlite_store *ss = (sqlite_store *)s;
  pthread_mutex_lock(&ss->lock);
  size_t n = 0;
  for (; n < max && ss->commits_len > 0; n++) {
    out[n] = ss->commits[ss->commits_head];
    ss->commits_head = (ss->commits_head + 1) % COMMIT_RING;
    ss->commits_len--;
  }
  pthread_mutex_unlock(&ss->lock);
  return n;
}

/* The committed transaction's refill answers join `answers` (lock held). */
static int move_answers(sqlite_store *ss) {
  op_log *from = &ss->work_answers;
  int rc = log_copy(&ss->answers, from, 0);
  from->n = 0;
  uc_buf_reset(&from->arena);
  return rc;
}

static void *writer_main(void *arg) {
  sqlite_store *ss = arg;
  uint64_t tid = (uint64_t)gettid();
  pthread_mutex_lock(&ss->lock);
  for (;;) {
    while (ss->closed_ops == 0 && !ss->closing)
      pthread_cond_wait(&ss->cv_work, &ss->lock);
    if (ss->closed_ops == 0)
      break; /* closing, and every closed group was applied (or failed) */
    uint64_t seq = ss->closed;
    int rc = take_closed(ss);
    size_t nops = ss->work.n;
    pthread_mutex_unlock(&ss->lock);
    uint64_t start_ns = now_ns();
    char errmsg[sizeof ss->errmsg] = "";
    if (rc != 0)
      snprintf(errmsg, sizeof errmsg, "out of memory queueing the crawl state");
    else
      rc = apply_all(ss, errmsg, sizeof errmsg);
    uint64_t end_ns = now_ns();
    pthread_mutex_lock(&ss->lock);
    note_commit(ss, tid, start_ns, end_ns, nops);
    if (rc == 0)
      rc = move_answers(ss);
    if (rc == 0) {
      ss->durable = seq;
    } else if (ss->failed == 0) {
      ss->failed = UC_EIO;
      snprintf(ss->errmsg, sizeof ss->errmsg, "%s", errmsg);
    }
    pthread_cond_broadcast(&ss->cv_durable);
    pthread_mutex_unlock(&ss->lock);
    pthread_mutex_lock(&ss->hook_lock);
    if (ss->wake != NULL)
      ss->wake(ss->hook_ctx);
    pthread_mutex_unlock(&ss->hook_lock);
    pthread_mutex_lock(&ss->lock);
    if (ss->failed != 0) {
      /* Nothing more will be durable: drop what comes, wake sync. */
      ss->closed_ops = 0;
      ss->fill.n = 0;
      uc_buf_reset(&ss->fill.arena);
    }
  }
  pthread_mutex_unlock(&ss->lock);
  return NULL;
}

/* ---- reading ------------------------------------------------------------ */

static int sq_get_meta(uc_store *s, const char *key, char **value) {
  sqlite_store *ss = (sqlite_store *)s;
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(ss->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL);
  if (rc != SQLITE_OK)
    return UC_EIO;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  int out = 0;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const char *v = (const char *)sqlite3_column_text(st, 0);
    if (v != NULL && (*value = strdup(v)) == NULL)
      out = UC_ENOMEM;
  } else if (rc != SQLITE_DONE) {
    out = UC_EIO;
  }
  sqlite3_finalize(st);
  return out;
}

/* Run `sql`, calling row(ctx, st) for each row; 0 or the callback's code. */
static int each_row(sqlite_store *ss, const char *sql, int (*row)(sqlite3_stmt *, const uc_store_loader *, void *),
                    const uc_store_loader *l, void *ctx) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(ss->db, sql, -1, &st, NULL) != SQLITE_OK)
    return UC_EIO;
  int rc, out = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW && out == 0)
    out = row(st, l, ctx);
  if (out == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
    out = UC_EIO;
  sqlite3_finalize(st);
  return out;
}

static int scope_row(sqlite3_stmt *st, const uc_store_loader *l, void *ctx) {
  return l->scope != NULL ? l->scope(ctx, (const char *)sqlite3_column_text(st, 0),
                                     sqlite3_column_int(st, 1) != 0)
                          : 0;
}

static int host_row(sqlite3_stmt *st, const uc_store_loader *l, void *ctx) {
  uc_store_host h = {.id = (uint64_t)sqlite3_column_int64(st, 0),
                     .key = (const char *)sqlite3_column_text(st, 1),
                     .robots_known = sqlite3_column_type(st, 2) != SQLITE_NULL,
                     .robots_at_ms = sqlite3_column_int64(st, 2),
                     .robots_status = sqlite3_column_int(st, 3),
                     .robots_fail = sqlite3_column_int(st, 4),
                     .robots_body = sqlite3_column_blob(st, 5),
                     .robots_len = (size_t)sqlite3_column_bytes(st, 5)};
  return l->host != NULL ? l->host(ctx, &h) : 0;
}

static void url_columns(sqlite3_stmt *st, uc_store_url *u) {
  *u = (uc_store_url){.id = (uint64_t)sqlite3_column_int64(st, 0),
                      .url = (const char *)sqlite3_column_text(st, 1),
                      .parent_id = (uint64_t)sqlite3_column_int64(st, 2),
                      .host_id = (uint64_t)sqlite3_column_int64(st, 3),
                      .depth = sqlite3_column_int(st, 4),
                      .kind = (unsigned)sqlite3_column_int(st, 5),
                      .state = (uc_url_state)sqlite3_column_int(st, 6),
                      .status = sqlite3_column_int(st, 7)};
}

static int url_row(sqlite3_stmt *st, const uc_store_loader *l, void *ctx) {
  uc_store_url u;
  url_columns(st, &u);
  return l->url != NULL ? l->url(ctx, &u) : 0;
}

static int live_row(sqlite3_stmt *st, const uc_store_loader *l, void *ctx) {
  uc_store_url u;
  url_columns(st, &u);
  u.parent = (const char *)sqlite3_column_text(st, 8);
  return l->live != NULL ? l->live(ctx, &u) : 0;
}

static int sq_load(uc_store *s, const uc_store_loader *l, void *ctx) {
  sqlite_store *ss = (sqlite_store *)s;
  int rc = each_row(ss, "SELECT host, adopted FROM scope", scope_row, l, ctx);
  if (rc == 0)
    rc = each_row(ss,
                  "SELECT id, key, robots_at, robots_status, robots_fail, robots_body "
                  "FROM hosts ORDER BY id",
                  host_row, l, ctx);
  if (rc == 0 && l->url != NULL)
    rc = each_row(ss,
                  "SELECT id, url, parent, host, depth, kind, state, status FROM urls "
                  "ORDER BY id",
                  url_row, l, ctx);
  /* The partial index urls_live serves this without a scan of done URLs. */
  if (rc == 0 && l->live != NULL)
    rc = each_row(ss,
                  l->live_by_depth
                      ? "SELECT u.id, u.url, u.parent, u.host, u.depth, u.kind, u.state, u.status, "
                        "p.url FROM urls AS u LEFT JOIN urls AS p ON p.id = u.parent "
                        "WHERE u.state < 2 ORDER BY u.depth, u.id"
                      : "SELECT u.id, u.url, u.parent, u.host, u.depth, u.kind, u.state, u.status, "
                        "p.url FROM urls AS u LEFT JOIN urls AS p ON p.id = u.parent "
                        "WHERE u.state < 2 ORDER BY u.id",
                  live_row, l, ctx);
  return rc;
}

static int sq_counts(uc_store *s, uc_store_counts *out) {
  sqlite_store *ss = (sqlite_store *)s;
  memset(out, 0, sizeof *out);
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(ss->db, "SELECT state, count(*) FROM urls GROUP BY state", -1,
                              &st, NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    int state = sqlite3_column_int(st, 0);
    if (state >= 0 && state < UC_URL_STATE_COUNT_)
      out->urls[state] = (uint64_t)sqlite3_column_int64(st, 1);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return UC_EIO;
  rc = sqlite3_prepare_v2(ss->db, "SELECT count(*) FROM hosts", -1, &st, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
    out->hosts = (uint64_t)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return rc == SQLITE_ROW ? 0 : UC_EIO;
}

/* ---- open and close ------------------------------------------------------ */

static void sq_free(uc_store *s) {
  sqlite_store *ss = (sqlite_store *)s;
  if (ss->writer_started) {
    pthread_mutex_lock(&ss->lock);
    if (ss->fill.n > ss->closed_ops && ss->failed == 0) {
      ss->closed_ops = ss->fill.n; /* what was put after the last commit */
      ss->closed++;
    }
    ss->closing = true;
    pthread_cond_signal(&ss->cv_work);
    pthread_mutex_unlock(&ss->lock);
    pthread_join(ss->writer, NULL);
  }
  sqlite3_finalize(ss->st_url);
  sqlite3_finalize(ss->st_state);
  sqlite3_finalize(ss->st_host);
  sqlite3_finalize(ss->st_scope);
  sqlite3_finalize(ss->st_meta);
  sqlite3_finalize(ss->st_refill);
  sqlite3_close(ss->db); /* the last connection: checkpoints and removes the WAL */
  if (ss->lock_fd >= 0)
    close(ss->lock_fd); /* releases the flock */
  log_free(&ss->fill);
  log_free(&ss->work);
  log_free(&ss->work_answers);
  log_free(&ss->answers);
  pthread_mutex_destroy(&ss->lock);
  pthread_mutex_destroy(&ss->hook_lock);
  pthread_cond_destroy(&ss->cv_work);
  pthread_cond_destroy(&ss->cv_durable);
  free(ss);
}

static const uc_store_ops sqlite_ops = {
    .name = "sqlite", .durable = true,
    .put_url = sq_put_url, .set_state = sq_set_state, .put_host = sq_put_host,
    .put_scope = sq_put_scope, .put_meta = sq_put_meta, .commit = sq_commit,
    .durable_seq = sq_durable_seq, .sync = sq_sync, .failed = sq_failed,
    .get_meta = sq_get_meta, .load = sq_load, .counts = sq_counts,
    .set_hooks = sq_set_hooks, .refill = sq_refill, .take_refills = sq_take_refills,
    .take_commits = sq_take_commits,
    .free = sq_free,
};

/* DIR/lock: one uvcrawl per state. The pid in it is for the message. */
static int take_lock(sqlite_store *ss, const char *dir, char *err, size_t errlen) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/lock", dir);
  ss->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (ss->lock_fd < 0) {
    snprintf(err, errlen, "cannot use %s: %s", dir, strerror(errno));
    return UC_EINVAL;
  }
  if (flock(ss->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = "";
    ssize_t n = pread(ss->lock_fd, pid, sizeof pid - 1, 0);
    pid[n > 0 ? n : 0] = '\0';
    pid[strcspn(pid, "\n")] = '\0';
    snprintf(err, errlen, "%s is in use by another uvcrawl%s%s%s", dir, pid[0] ? " (pid " : "",
             pid, pid[0] ? ")" : "");
    return UC_EINVAL;
  }
  char pid[32];
  int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  if (ftruncate(ss->lock_fd, 0) != 0 || pwrite(ss->lock_fd, pid, (size_t)n, 0) != n) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return UC_EINVAL;
  }
  return 0;
}

static int pragma_int(sqlite3 *db, const char *sql, int *out) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    *out = sqlite3_column_int(st, 0);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc;
}

/* A database we can use: ours and of this schema, or empty (CRAWL makes
 * the schema). Nothing is written to a database that is not ours. */
static int check_schema(sqlite_store *ss, char *err, size_t errlen) {
  int app = 0, version = 0, tables = 0;
  int rc = pragma_int(ss->db, "SELECT count(*) FROM sqlite_master", &tables);
  if (rc == SQLITE_OK)
    rc = pragma_int(ss->db, "PRAGMA application_id", &app);
  if (rc == SQLITE_OK)
    rc = pragma_int(ss->db, "PRAGMA user_version", &version);
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "%s: %s", ss->path, sqlite3_errmsg(ss->db));
    return UC_EINVAL;
  }
  if (tables == 0 && app == 0) {
    if (ss->mode != UC_STORE_SQLITE_CRAWL) {
      snprintf(err, errlen, "%s holds no crawl state", ss->path);
      return UC_EINVAL;
    }
    char sql[sizeof SCHEMA + 128];
    snprintf(sql, sizeof sql, "BEGIN;%sPRAGMA application_id=%d;PRAGMA user_version=%d;COMMIT;",
             SCHEMA, APPLICATION_ID, UC_STORE_SQLITE_SCHEMA);
    if (sqlite3_exec(ss->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
      snprintf(err, errlen, "cannot create %s: %s", ss->path, sqlite3_errmsg(ss->db));
      return UC_EINVAL;
    }
    return 0;
  }
  if (app != APPLICATION_ID) {
    snprintf(err, errlen, "%s is not a uvcrawl state database", ss->path);
    return UC_EINVAL;
  }
  if (version != UC_STORE_SQLITE_SCHEMA) {
    snprintf(err, errlen, "%s was written by another version of uvcrawl (state schema %d; this one reads %d)",
             ss->path, version, UC_STORE_SQLITE_SCHEMA);
    return UC_EINVAL;
  }
  return 0;
}

static int prepare_writes(sqlite_store *ss) {
  static const char *const sql[] = {
      "INSERT INTO urls(id, url, parent, host, depth, kind, state) VALUES(?, ?, ?, ?, ?, ?, 0)",
      "UPDATE urls SET state = ?, status = ?, error = ? WHERE id = ?",
      "INSERT OR REPLACE INTO hosts(id, key, robots_at, robots_status, robots_fail, robots_body) "
      "VALUES(?, ?, ?, ?, ?, ?)",
      "INSERT OR IGNORE INTO scope(host, adopted) VALUES(?, ?)",
      "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)",
      /* urls_queued serves it: the host's queued URLs by id. */
      "SELECT u.id, u.url, u.parent, u.depth, u.kind, p.url FROM urls AS u "
      "LEFT JOIN urls AS p ON p.id = u.parent "
      "WHERE u.host = ? AND u.state = 0 AND u.id > ? AND u.depth <= ? ORDER BY u.id LIMIT ?",
  };
  sqlite3_stmt **st[] = {&ss->st_url, &ss->st_state, &ss->st_host, &ss->st_scope, &ss->st_meta,
                         &ss->st_refill};
  for (size_t i = 0; i < sizeof st / sizeof *st; i++)
    if (sqlite3_prepare_v3(ss->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, st[i], NULL) !=
        SQLITE_OK)
      return UC_EIO;
  return 0;
}

/* The writer blocks every signal: they are the engine's to take (the
 * threads engine sigwait()s in a thread of its own). */
static int start_writer(sqlite_store *ss) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int err = pthread_create(&ss->writer, NULL, writer_main, ss);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  ss->writer_started = err == 0;
  return err;
}

static int open_db(sqlite_store *ss, const char *dir, char *err, size_t errlen) {
  bool crawl = ss->mode == UC_STORE_SQLITE_CRAWL;
  if (crawl && mkdir(dir, 0755) != 0 && errno != EEXIST) {
    snprintf(err, errlen, "cannot make %s: %s", dir, strerror(errno));
    return UC_EINVAL;
  }
  struct stat sb;
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    snprintf(err, errlen, "%s: %s", dir, stat(dir, &sb) != 0 ? strerror(errno) : "not a directory");
    return UC_EINVAL;
  }
  if (crawl && access(dir, W_OK | X_OK) != 0) {
    snprintf(err, errlen, "cannot write in %s: %s", dir, strerror(errno));
    return UC_EINVAL;
  }
  if ((size_t)snprintf(ss->path, sizeof ss->path, "%s/crawl.db", dir) >= sizeof ss->path) {
    snprintf(err, errlen, "%s: path too long", dir);
    return UC_EINVAL;
  }
  if (!crawl && access(ss->path, R_OK) != 0) {
    snprintf(err, errlen, "%s: %s", ss->path, strerror(errno));
    return UC_EINVAL;
  }
  int rc = crawl ? take_lock(ss, dir, err, errlen) : 0;
  if (rc != 0)
    return rc;
  /* FULLMUTEX: the writer thread and the opener share this connection
   * (a load or a count may run while the writer commits). */
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (crawl ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(ss->path, &ss->db, flags, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot open %s: %s", ss->path,
             ss->db != NULL ? sqlite3_errmsg(ss->db) : "out of memory");
    return UC_EINVAL;
  }
  sqlite3_busy_timeout(ss->db, 5000);
  if ((rc = check_schema(ss, err, errlen)) != 0)
    return rc;
  if (!crawl)
    return 0;
  /* WAL: readers (--status, sqlite3) never block the writer; NORMAL: a
   * commit is safe from a kill of the process without an fsync. */
  if (sqlite3_exec(ss->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
                   NULL) != SQLITE_OK ||
      /* URLs leased when the last run died go back to the queue. */
      sqlite3_exec(ss->db, "UPDATE urls SET state = 0 WHERE state = 1", NULL, NULL, NULL) !=
          SQLITE_OK ||
      prepare_writes(ss) != 0) {
    snprintf(err, errlen, "%s: %s", ss->path, sqlite3_errmsg(ss->db));
    return UC_EINVAL;
  }
  if (start_writer(ss) != 0) {
    snprintf(err, errlen, "cannot start the state's writer thread");
    return UC_ENOMEM;
  }
  return 0;
}

int uc_store_sqlite_open(uc_store **out, const char *dir, uc_store_sqlite_mode mode, char *err,
                         size_t errlen) {
  sqlite_store *ss = calloc(1, sizeof *ss);
  if (ss == NULL)
    return UC_ENOMEM;
  ss->base.ops = &sqlite_ops;
  ss->mode = mode;
  ss->lock_fd = -1;
  pthread_mutex_init(&ss->lock, NULL);
  pthread_mutex_init(&ss->hook_lock, NULL);
  pthread_cond_init(&ss->cv_work, NULL);
  pthread_cond_init(&ss->cv_durable, NULL);
  int rc = open_db(ss, dir, err, errlen);
  if (rc != 0) {
    sq_free(&ss->base);
    return rc;
  }
  *out = &ss->base;
  return 0;
}
