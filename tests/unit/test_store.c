/* test_store.c - the crawl-state store (store.h): one table of cases run
 * against every backend (memory, and SQLite in a temp dir with its writer
 * thread), then what only a durable store does: reopen and load, the lock,
 * and the bad states it refuses. Also in suite 'threads' (TSan checks the
 * SQLite writer thread). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "uvcrawl/error.h"
#include "uvcrawl/store.h"
#include "uvcrawl/store_memory.h"
#include "uvcrawl/store_sqlite.h"

/* ---- one source, every backend ------------------------------------------ */

enum step_kind { PUT, MOVE, HOST, COMMIT };

typedef struct step {
  enum step_kind kind;
  uint64_t id;
  uc_url_state to; /* MOVE */
} step;

typedef struct store_case {
  const char *name;
  step steps[12];
  size_t n;
  uint64_t want[UC_URL_STATE_COUNT_]; /* queued, leased, done, failed */
  uint64_t hosts;
} store_case;

#define S_HOST(i) {.kind = HOST, .id = (i), .to = UC_URL_QUEUED}
#define S_PUT(i) {.kind = PUT, .id = (i), .to = UC_URL_QUEUED}
#define S_MOVE(i, st) {.kind = MOVE, .id = (i), .to = (st)}
#define S_COMMIT {.kind = COMMIT, .id = 0, .to = UC_URL_QUEUED}

/* The lease/ack life of URLs, as the crawl walks it. */
static const store_case cases[] = {
    {"queued", {S_HOST(1), S_PUT(1), S_PUT(2), S_COMMIT}, 4, {2, 0, 0, 0}, 1},
    {"lease and done",
     {S_HOST(1), S_PUT(1), S_PUT(2), S_MOVE(1, UC_URL_LEASED), S_MOVE(1, UC_URL_DONE), S_COMMIT},
     6, {1, 0, 1, 0}, 1},
    {"leased, not acked",
     {S_HOST(1), S_PUT(1), S_MOVE(1, UC_URL_LEASED), S_COMMIT}, 4, {0, 1, 0, 0}, 1},
    {"failed",
     {S_HOST(1), S_PUT(1), S_MOVE(1, UC_URL_LEASED), S_MOVE(1, UC_URL_FAILED), S_COMMIT}, 5,
     {0, 0, 0, 1}, 1},
    {"refused unleased (robots.txt)",
     {S_HOST(1), S_PUT(1), S_MOVE(1, UC_URL_FAILED), S_COMMIT}, 4, {0, 0, 0, 1}, 1},
    {"retry: back to queued",
     {S_HOST(1), S_PUT(1), S_MOVE(1, UC_URL_LEASED), S_MOVE(1, UC_URL_QUEUED),
      S_MOVE(1, UC_URL_LEASED), S_MOVE(1, UC_URL_DONE), S_COMMIT},
     7, {0, 0, 1, 0}, 1},
    {"two hosts, a host put twice",
     {S_HOST(1), S_HOST(2), S_HOST(2), S_PUT(1), S_PUT(2), S_PUT(3), S_MOVE(3, UC_URL_LEASED),
      S_COMMIT},
     8, {2, 1, 0, 0}, 2},
};

typedef struct backend {
  const char *name;
  int (*open)(uc_store **out, const char *dir);
} backend;

static int open_memory(uc_store **out, const char *dir) {
  (void)dir;
  return uc_store_memory_new(out);
}

static int open_sqlite(uc_store **out, const char *dir) {
  char err[512];
  int rc = uc_store_sqlite_open(out, dir, UC_STORE_SQLITE_CRAWL, err, sizeof err);
  if (rc != 0)
    print_error("open %s: %s\n", dir, err);
  return rc;
}

static const backend backends[] = {{"memory", open_memory}, {"sqlite", open_sqlite}};

static char *temp_dir(void) {
  char tmpl[] = "/tmp/test_store-XXXXXX";
  char *dir = mkdtemp(tmpl);
  assert_non_null(dir);
  return strdup(dir);
}

static void remove_dir(char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
  free(dir);
}

static void run_steps(uc_store *s, const store_case *c) {
  char url[64], key[64];
  for (size_t i = 0; i < c->n; i++) {
    const step *st = &c->steps[i];
    switch (st->kind) {
    case PUT: {
      snprintf(url, sizeof url, "http://h.test/%llu", (unsigned long long)st->id);
      uc_store_url u = {.id = st->id, .url = url, .host_id = 1, .depth = 1};
      assert_int_equal(uc_store_put_url(s, &u), 0);
      break;
    }
    case MOVE:
      assert_int_equal(uc_store_set_state(s, st->id, st->to, 200, NULL), 0);
      break;
    case HOST: {
      snprintf(key, sizeof key, "http://h%llu.test:80", (unsigned long long)st->id);
      uc_store_host h = {.id = st->id, .key = key};
      assert_int_equal(uc_store_put_host(s, &h), 0);
      break;
    }
    case COMMIT:
      assert_int_equal(uc_store_commit(s, NULL), 0);
      break;
    }
  }
}

static void test_cases_every_backend(void **state) {
  (void)state;
  for (size_t b = 0; b < sizeof backends / sizeof *backends; b++) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
      char *dir = temp_dir();
      uc_store *s = NULL;
      assert_int_equal(backends[b].open(&s, dir), 0);
      run_steps(s, &cases[i]);
      assert_int_equal(uc_store_sync(s), 0);
      uc_store_counts got;
      assert_int_equal(uc_store_count(s, &got), 0);
      for (int k = 0; k < UC_URL_STATE_COUNT_; k++)
        if (got.urls[k] != cases[i].want[k]) {
          print_error("%s / %s: %s %llu, want %llu\n", backends[b].name, cases[i].name,
                      uc_url_state_name((uc_url_state)k), (unsigned long long)got.urls[k],
                      (unsigned long long)cases[i].want[k]);
          fail();
        }
      assert_int_equal(got.hosts, cases[i].hosts);
      uc_store_free(s);
      remove_dir(dir);
    }
  }
}

/* Every commit gets the next group number, and sync makes it durable. */
static void test_groups_every_backend(void **state) {
  (void)state;
  for (size_t b = 0; b < sizeof backends / sizeof *backends; b++) {
    char *dir = temp_dir();
    uc_store *s = NULL;
    assert_int_equal(backends[b].open(&s, dir), 0);
    uint64_t seq = 0, last = 0;
    for (uint64_t id = 1; id <= 100; id++) {
      uc_store_url u = {.id = id, .url = "http://h.test/", .host_id = 1};
      assert_int_equal(uc_store_put_url(s, &u), 0);
      assert_int_equal(uc_store_commit(s, &seq), 0);
      assert_int_equal(seq, last + 1);
      last = seq;
    }
    assert_int_equal(uc_store_sync(s), 0);
    assert_int_equal(uc_store_durable(s), last);
    /* An empty group is durable with the one before: nobody waits forever
     * for it (sync returns, and durable reaches its number). */
    for (int i = 0; i < 2; i++) {
      assert_int_equal(uc_store_commit(s, &seq), 0);
      assert_true(seq >= last);
      assert_int_equal(uc_store_sync(s), 0);
      assert_true(uc_store_durable(s) >= seq);
      last = seq;
    }
    assert_int_equal(uc_store_failed(s, NULL, 0), 0);
    uc_store_free(s);
    remove_dir(dir);
  }
}

static void test_meta_every_backend(void **state) {
  (void)state;
  for (size_t b = 0; b < sizeof backends / sizeof *backends; b++) {
    char *dir = temp_dir();
    uc_store *s = NULL;
    char *v = NULL;
    assert_int_equal(backends[b].open(&s, dir), 0);
    assert_int_equal(uc_store_get_meta(s, "seeds", &v), 0);
    assert_null(v);
    assert_int_equal(uc_store_put_meta(s, "seeds", "http://a.test/\n"), 0);
    assert_int_equal(uc_store_put_meta(s, "seeds", "http://b.test/\n"), 0);
    assert_int_equal(uc_store_commit(s, NULL), 0);
    assert_int_equal(uc_store_sync(s), 0);
    assert_int_equal(uc_store_get_meta(s, "seeds", &v), 0);
    assert_string_equal(v, "http://b.test/\n");
    free(v);
    uc_store_free(s);
    remove_dir(dir);
  }
}

/* The memory store checks each move; SQLite applies them later, on its
 * writer thread, and does not. */
static void test_memory_checks_moves(void **state) {
  (void)state;
  uc_store *s;
  assert_int_equal(uc_store_memory_new(&s), 0);
  uc_store_url u = {.id = 7, .url = "http://h.test/", .host_id = 1};
  assert_int_equal(uc_store_put_url(s, &u), 0);
  assert_int_equal(uc_store_put_url(s, &u), UC_EINVAL); /* an id twice */
  assert_int_equal(uc_store_set_state(s, 8, UC_URL_LEASED, 0, NULL), UC_ENOTFOUND);
  assert_int_equal(uc_store_set_state(s, 7, UC_URL_DONE, 200, NULL), UC_EINVAL); /* no lease */
  assert_int_equal(uc_store_set_state(s, 7, UC_URL_LEASED, 0, NULL), 0);
  assert_int_equal(uc_store_set_state(s, 7, UC_URL_LEASED, 0, NULL), UC_EINVAL);
  assert_int_equal(uc_store_set_state(s, 7, UC_URL_DONE, 200, NULL), 0);
  assert_int_equal(uc_store_set_state(s, 7, UC_URL_QUEUED, 0, NULL), UC_ENOTFOUND); /* over */
  /* Many ids in and out: the map's deletion keeps every live id findable. */
  for (uint64_t id = 100; id < 5100; id++) {
    uc_store_url v = {.id = id, .url = "http://h.test/", .host_id = 1};
    assert_int_equal(uc_store_put_url(s, &v), 0);
  }
  for (uint64_t id = 100; id < 5100; id += 2) {
    assert_int_equal(uc_store_set_state(s, id, UC_URL_LEASED, 0, NULL), 0);
    assert_int_equal(uc_store_set_state(s, id, UC_URL_FAILED, 0, "dns"), 0);
  }
  for (uint64_t id = 101; id < 5100; id += 2)
    assert_int_equal(uc_store_set_state(s, id, UC_URL_LEASED, 0, NULL), 0);
  uc_store_counts c;
  assert_int_equal(uc_store_count(s, &c), 0);
  assert_int_equal(c.urls[UC_URL_LEASED], 2500);
  assert_int_equal(c.urls[UC_URL_FAILED], 2500);
  assert_int_equal(c.urls[UC_URL_DONE], 1);
  uc_store_free(s);
  uc_store_free(NULL);
}

/* ---- durable only: what a later run loads -------------------------------- */

typedef struct loaded {
  char scope[8][64];
  bool adopted[8];
  size_t n_scope;
  uc_store_host hosts[4];
  char host_keys[4][64];
  char robots[4][64];
  size_t n_hosts;
  uint64_t all[16];
  uc_url_state all_state[16];
  size_t n_all;
  uint64_t live[16];
  int live_depth[16];
  char live_parent[16][64];
  size_t n_live;
} loaded;

static int on_scope(void *ctx, const char *host, bool adopted) {
  loaded *l = ctx;
  snprintf(l->scope[l->n_scope], 64, "%s", host);
  l->adopted[l->n_scope++] = adopted;
  return 0;
}

static int on_host(void *ctx, const uc_store_host *h) {
  loaded *l = ctx;
  l->hosts[l->n_hosts] = *h;
  snprintf(l->host_keys[l->n_hosts], 64, "%s", h->key);
  snprintf(l->robots[l->n_hosts], 64, "%.*s", (int)h->robots_len,
           h->robots_body != NULL ? h->robots_body : "");
  l->n_hosts++;
  return 0;
}

static int on_url(void *ctx, const uc_store_url *u) {
  loaded *l = ctx;
  l->all_state[l->n_all] = u->state;
  l->all[l->n_all++] = u->id;
  return 0;
}

static int on_live(void *ctx, const uc_store_url *u) {
  loaded *l = ctx;
  l->live_depth[l->n_live] = u->depth;
  snprintf(l->live_parent[l->n_live], 64, "%s", u->parent != NULL ? u->parent : "-");
  l->live[l->n_live++] = u->id;
  return 0;
}

static void test_sqlite_reopen_loads(void **state) {
  (void)state;
  char *dir = temp_dir();
  uc_store *s = NULL;
  assert_int_equal(open_sqlite(&s, dir), 0);
  uc_store_host a = {.id = 1, .key = "http://a.test:80", .robots_known = true,
                     .robots_at_ms = 1700000000000, .robots_status = 200,
                     .robots_body = "User-agent: *\nDisallow: /x\n", .robots_len = 27};
  uc_store_host b = {.id = 2, .key = "http://b.test:80"};
  assert_int_equal(uc_store_put_host(s, &a), 0);
  assert_int_equal(uc_store_put_host(s, &b), 0);
  assert_int_equal(uc_store_put_scope(s, "a.test", false), 0);
  assert_int_equal(uc_store_put_scope(s, "www.a.test", true), 0);
  /* 1 seed (done), 2 and 3 found on it (3 deeper), 4 leased at the "kill". */
  uc_store_url urls[] = {
      {.id = 1, .url = "http://a.test/", .host_id = 1, .depth = 0},
      {.id = 2, .url = "http://a.test/p", .parent_id = 1, .host_id = 1, .depth = 2},
      {.id = 3, .url = "http://b.test/q", .parent_id = 1, .host_id = 2, .depth = 1},
      {.id = 4, .url = "http://b.test/r", .parent_id = 1, .host_id = 2, .depth = 1},
  };
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(uc_store_put_url(s, &urls[i]), 0);
  assert_int_equal(uc_store_set_state(s, 1, UC_URL_LEASED, 0, NULL), 0);
  assert_int_equal(uc_store_set_state(s, 1, UC_URL_DONE, 200, NULL), 0);
  assert_int_equal(uc_store_set_state(s, 4, UC_URL_LEASED, 0, NULL), 0);
  assert_int_equal(uc_store_commit(s, NULL), 0);
  /* Put after the last commit: uc_store_free still commits it. */
  uc_store_url late = {.id = 5, .url = "http://a.test/late", .parent_id = 1, .host_id = 1,
                       .depth = 1};
  assert_int_equal(uc_store_put_url(s, &late), 0);
  uc_store_free(s);

  assert_int_equal(open_sqlite(&s, dir), 0);
  loaded l;
  memset(&l, 0, sizeof l);
  uc_store_loader loader = {.live_by_depth = true, .scope = on_scope, .host = on_host,
                            .url = on_url, .live = on_live};
  assert_int_equal(uc_store_load(s, &loader, &l), 0);
  assert_int_equal(l.n_scope, 2);
  for (size_t i = 0; i < 2; i++)
    assert_int_equal(l.adopted[i], strcmp(l.scope[i], "www.a.test") == 0);
  assert_int_equal(l.n_hosts, 2);
  assert_string_equal(l.host_keys[0], "http://a.test:80");
  assert_true(l.hosts[0].robots_known);
  assert_int_equal(l.hosts[0].robots_at_ms, 1700000000000);
  assert_int_equal(l.hosts[0].robots_status, 200);
  assert_string_equal(l.robots[0], "User-agent: *\nDisallow: /x\n");
  assert_false(l.hosts[1].robots_known);
  /* Every URL, by id; the leased one is queued again. */
  assert_int_equal(l.n_all, 5);
  for (size_t i = 0; i < 5; i++)
    assert_int_equal(l.all[i], i + 1);
  assert_int_equal(l.all_state[0], UC_URL_DONE);
  assert_int_equal(l.all_state[3], UC_URL_QUEUED);
  /* The live ones by depth, then id, with their parent's URL. */
  uint64_t want_live[] = {3, 4, 5, 2};
  assert_int_equal(l.n_live, 4);
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(l.live[i], want_live[i]);
  assert_int_equal(l.live_depth[3], 2);
  assert_string_equal(l.live_parent[0], "http://a.test/");
  uc_store_counts c;
  assert_int_equal(uc_store_count(s, &c), 0);
  assert_int_equal(c.urls[UC_URL_QUEUED], 4);
  assert_int_equal(c.urls[UC_URL_LEASED], 0);
  assert_int_equal(c.urls[UC_URL_DONE], 1);
  uc_store_free(s);
  remove_dir(dir);
}

typedef struct answers {
  uint64_t host[4];
  uint64_t ids[4][8];
  char parent[4][64];
  size_t n[4], count;
} answers;

static int on_refill(void *ctx, uint64_t host_id, const uc_store_url *rows, size_t n) {
  answers *a = ctx;
  a->host[a->count] = host_id;
  a->n[a->count] = n;
  for (size_t i = 0; i < n && i < 8; i++)
    a->ids[a->count][i] = rows[i].id;
  snprintf(a->parent[a->count], 64, "%s", n > 0 && rows[0].parent ? rows[0].parent : "-");
  a->count++;
  return 0;
}

/* A host's window refilled from the store: its next queued URLs by id,
 * after the cursor, not the leased or done ones, within the depth. */
static void test_sqlite_refill(void **state) {
  (void)state;
  char *dir = temp_dir();
  uc_store *s = NULL;
  assert_int_equal(open_sqlite(&s, dir), 0);
  char url[64];
  for (uint64_t id = 1; id <= 12; id++) {
    snprintf(url, sizeof url, "http://a.test/%llu", (unsigned long long)id);
    uc_store_url u = {.id = id, .url = url, .parent_id = id > 1 ? 1 : 0,
                      .host_id = id % 2 ? 1 : 2, .depth = id == 11 ? 5 : 1};
    assert_int_equal(uc_store_put_url(s, &u), 0);
  }
  assert_int_equal(uc_store_set_state(s, 5, UC_URL_LEASED, 0, NULL), 0);
  /* Asked in the same group as the writes: it sees them. */
  assert_int_equal(uc_store_refill(s, 1, 1, 3, 3), 0);  /* host 1 after id 1: 3, 7, 9 */
  assert_int_equal(uc_store_refill(s, 1, 9, 3, 8), 0);  /* 11 is too deep: none */
  assert_int_equal(uc_store_refill(s, 2, 0, -1, 2), 0); /* host 2: 2, 4 */
  assert_int_equal(uc_store_commit(s, NULL), 0);
  assert_int_equal(uc_store_sync(s), 0);
  answers a;
  memset(&a, 0, sizeof a);
  assert_int_equal(uc_store_take_refills(s, on_refill, &a), 0);
  assert_int_equal(a.count, 3);
  assert_int_equal(a.host[0], 1);
  assert_int_equal(a.n[0], 3);
  assert_int_equal(a.ids[0][0], 3);
  assert_int_equal(a.ids[0][1], 7);
  assert_int_equal(a.ids[0][2], 9);
  assert_string_equal(a.parent[0], "http://a.test/1");
  assert_int_equal(a.n[1], 0);
  assert_int_equal(a.host[2], 2);
  assert_int_equal(a.n[2], 2);
  assert_int_equal(a.ids[2][1], 4);
  memset(&a, 0, sizeof a);
  assert_int_equal(uc_store_take_refills(s, on_refill, &a), 0); /* each answer once */
  assert_int_equal(a.count, 0);
  uc_store_free(s);
  remove_dir(dir);
}

static void expect_refused(const char *dir, uc_store_sqlite_mode mode, const char *want) {
  uc_store *s = NULL;
  char err[512] = "";
  assert_int_equal(uc_store_sqlite_open(&s, dir, mode, err, sizeof err), UC_EINVAL);
  if (strstr(err, want) == NULL) {
    print_error("open %s: '%s' does not say '%s'\n", dir, err, want);
    fail();
  }
}

static void test_sqlite_lock(void **state) {
  (void)state;
  char *dir = temp_dir();
  uc_store *s = NULL;
  assert_int_equal(open_sqlite(&s, dir), 0);
  char want[64];
  snprintf(want, sizeof want, "in use by another uvcrawl (pid %ld)", (long)getpid());
  expect_refused(dir, UC_STORE_SQLITE_CRAWL, want);
  /* --status reads while a crawl holds the lock. */
  uc_store *reader = NULL;
  char err[512];
  assert_int_equal(uc_store_sqlite_open(&reader, dir, UC_STORE_SQLITE_STATUS, err, sizeof err), 0);
  uc_store_free(reader);
  uc_store_free(s);
  assert_int_equal(open_sqlite(&s, dir), 0); /* the lock went with the first */
  uc_store_free(s);
  remove_dir(dir);
}

/* Make DIR/crawl.db with `sql` (or the raw bytes of `garbage`). */
static char *dir_with_db(const char *sql, const char *garbage) {
  char *dir = temp_dir();
  char path[600];
  snprintf(path, sizeof path, "%s/crawl.db", dir);
  if (garbage != NULL) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(garbage, f);
    fclose(f);
    return dir;
  }
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  return dir;
}

static void test_sqlite_refuses(void **state) {
  (void)state;
  static const struct {
    const char *sql, *garbage, *want;
  } bad[] = {
      {"CREATE TABLE t(x);", NULL, "is not a uvcrawl state database"},
      {"CREATE TABLE t(x); PRAGMA application_id=1970692978; PRAGMA user_version=99;", NULL,
       "written by another version of uvcrawl (state schema 99; this one reads 1)"},
      {NULL, "this is not a database, just some text that is long enough to be read as a header "
             "and then some more text to pass one hundred bytes of it.\n",
       "file is not a database"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char *dir = dir_with_db(bad[i].sql, bad[i].garbage);
    char path[600], before[256] = "", after[256] = "";
    snprintf(path, sizeof path, "%s/crawl.db", dir);
    FILE *f = fopen(path, "rb");
    size_t n = fread(before, 1, sizeof before - 1, f);
    fclose(f);
    expect_refused(dir, UC_STORE_SQLITE_CRAWL, bad[i].want);
    f = fopen(path, "rb"); /* nothing changed */
    assert_int_equal(fread(after, 1, sizeof after - 1, f), n);
    fclose(f);
    assert_memory_equal(before, after, n);
    remove_dir(dir);
  }
  expect_refused("/dev/null/state", UC_STORE_SQLITE_CRAWL, "Not a directory");
  char *empty = temp_dir();
  expect_refused(empty, UC_STORE_SQLITE_STATUS, "No such file");
  remove_dir(empty);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cases_every_backend),
      cmocka_unit_test(test_groups_every_backend),
      cmocka_unit_test(test_meta_every_backend),
      cmocka_unit_test(test_memory_checks_moves),
      cmocka_unit_test(test_sqlite_reopen_loads),
      cmocka_unit_test(test_sqlite_lock),
      cmocka_unit_test(test_sqlite_refill),
      cmocka_unit_test(test_sqlite_refuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
