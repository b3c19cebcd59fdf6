/*
 * test_loop_dns.c - the loop engine's resolver (src/loop/dns.c) at C level,
 * against a real dnsmasq on loopback (started by dnsmasq.py, whose port is
 * the last argument). It answers *.test with 127.0.0.1 and a TTL of 120 s,
 * and *.invalid with NXDOMAIN.
 *
 * Time is injected: each lookup names its now_ms, so the cache's expiry
 * is checked to the millisecond (a positive answer lives for its TTL, a
 * failure for the negative TTL of 10 s), while the answers themselves come
 * over real UDP on a real libuv loop. Each test ends with every handle
 * closed (uv_loop_close() == 0).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns.h"
#include "uvcrawl/error.h"

#define ANSWER_TTL_MS 120000u /* dnsmasq.py's --local-ttl */
#define NEGATIVE_TTL_MS 10000u /* dns.c */
#define WAIT_MS 5000           /* bound on one answer */

static char dns_server[64];

typedef struct answer {
  int calls, status;
  char addr[LOOP_DNS_ADDR_MAX];
} answer;

typedef struct fixture {
  uv_loop_t loop;
  uc_config cfg;
  loop_dns *dns;
  uv_timer_t bound;
  bool timed_out;
} fixture;

static void answer_cb(void *arg, int status, const char *addr) {
  answer *a = arg;
  a->calls++;
  a->status = status;
  if (status == 0)
    snprintf(a->addr, sizeof a->addr, "%s", addr);
}

static void bound_cb(uv_timer_t *t) {
  fixture *f = t->data;
  f->timed_out = true;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  uc_config_defaults(&f->cfg);
  f->cfg.dns_server = dns_server;
  static const char *const pins[] = {"pinned.test:80:127.0.0.9"};
  f->cfg.resolve = pins;
  f->cfg.n_resolve = 1;
  char err[128] = "";
  assert_int_equal(loop_dns_new(&f->dns, &f->loop, &f->cfg, err, sizeof err), 0);
  uv_timer_init(&f->loop, &f->bound);
  f->bound.data = f;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  loop_dns_close(f->dns);
  uv_close((uv_handle_t *)&f->bound, NULL);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  free(f);
  return 0;
}

/* Run the loop until `a` has been answered `calls` times, within WAIT_MS. */
static void wait_answers(fixture *f, answer *a, int calls) {
  f->timed_out = false;
  uv_timer_start(&f->bound, bound_cb, WAIT_MS, 0);
  while (a->calls < calls && !f->timed_out)
    uv_run(&f->loop, UV_RUN_ONCE);
  uv_timer_stop(&f->bound);
  assert_false(f->timed_out);
  assert_int_equal(a->calls, calls);
}

static uint64_t queries(const fixture *f) {
  uint64_t q, h;
  loop_dns_counts(f->dns, &q, &h);
  return q;
}

static uint64_t hits(const fixture *f) {
  uint64_t q, h;
  loop_dns_counts(f->dns, &q, &h);
  return h;
}

static int lookup(fixture *f, const char *host, uint64_t now, char *addr, loop_dns_waiter *w,
                  answer *a) {
  return loop_dns_resolve(f->dns, host, 80, addr, w, answer_cb, a, now);
}

/* A positive answer is cached for its TTL (from dnsmasq), then asked again. */
static void test_positive_ttl(void **state) {
  fixture *f = *state;
  char addr[LOOP_DNS_ADDR_MAX] = "";
  loop_dns_waiter w;
  answer a = {0};
  const uint64_t t0 = 1000;
  assert_int_equal(lookup(f, "a.test", t0, addr, &w, &a), UC_EAGAIN);
  assert_int_equal(a.calls, 0); /* never from inside the call */
  wait_answers(f, &a, 1);
  assert_int_equal(a.status, 0);
  assert_string_equal(a.addr, "127.0.0.1");
  assert_int_equal(queries(f), 1);

  /* The last millisecond of the TTL: from the cache, no callback. */
  memset(addr, 0, sizeof addr);
  assert_int_equal(lookup(f, "a.test", t0 + ANSWER_TTL_MS - 1, addr, &w, &a), 0);
  assert_string_equal(addr, "127.0.0.1");
  assert_int_equal(queries(f), 1);
  assert_int_equal(hits(f), 1);

  /* Expired: a new query. */
  assert_int_equal(lookup(f, "a.test", t0 + ANSWER_TTL_MS, addr, &w, &a), UC_EAGAIN);
  wait_answers(f, &a, 2);
  assert_int_equal(a.status, 0);
  assert_int_equal(queries(f), 2);
}

/* NXDOMAIN is cached for the negative TTL, then asked again. */
static void test_negative_ttl(void **state) {
  fixture *f = *state;
  char addr[LOOP_DNS_ADDR_MAX];
  loop_dns_waiter w;
  answer a = {0};
  const uint64_t t0 = 50000;
  assert_int_equal(lookup(f, "nx.invalid", t0, addr, &w, &a), UC_EAGAIN);
  wait_answers(f, &a, 1);
  assert_int_equal(a.status, UC_ENOTFOUND);
  assert_int_equal(lookup(f, "nx.invalid", t0 + NEGATIVE_TTL_MS - 1, addr, &w, &a),
                   UC_ENOTFOUND);
  assert_int_equal(queries(f), 1);
  assert_int_equal(hits(f), 1);
  assert_int_equal(lookup(f, "nx.invalid", t0 + NEGATIVE_TTL_MS, addr, &w, &a), UC_EAGAIN);
  wait_answers(f, &a, 2);
  assert_int_equal(a.status, UC_ENOTFOUND);
  assert_int_equal(queries(f), 2);
}

/* Transfers waiting for one name share one query; each is told once. */
static void test_one_query_per_name(void **state) {
  fixture *f = *state;
  char addr[3][LOOP_DNS_ADDR_MAX];
  loop_dns_waiter w[3];
  answer a[3] = {{0}};
  for (int i = 0; i < 3; i++)
    assert_int_equal(lookup(f, "shared.test", 7, addr[i], &w[i], &a[i]), UC_EAGAIN);
  wait_answers(f, &a[2], 1);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(a[i].calls, 1);
    assert_int_equal(a[i].status, 0);
    assert_string_equal(a[i].addr, "127.0.0.1");
  }
  assert_int_equal(queries(f), 1);
}

/* A --resolve pin answers at once, without DNS; cancelling tells waiters. */
static void test_pin_and_cancel(void **state) {
  fixture *f = *state;
  char addr[LOOP_DNS_ADDR_MAX] = "";
  loop_dns_waiter w;
  answer a = {0};
  assert_int_equal(lookup(f, "pinned.test", 0, addr, &w, &a), 0);
  assert_string_equal(addr, "127.0.0.9");
  assert_int_equal(queries(f), 0);
  assert_int_equal(lookup(f, "cancelled.test", 0, addr, &w, &a), UC_EAGAIN);
  loop_dns_cancel_all(f->dns);
  wait_answers(f, &a, 1);
  assert_int_equal(a.status, UC_ECLOSED);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DNS_PORT (run through dnsmasq.py)\n", argv[0]);
    return 2;
  }
  snprintf(dns_server, sizeof dns_server, "127.0.0.1:%s", argv[argc - 1]);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_positive_ttl, setup, teardown),
      cmocka_unit_test_setup_teardown(test_negative_ttl, setup, teardown),
      cmocka_unit_test_setup_teardown(test_one_query_per_name, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pin_and_cancel, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
