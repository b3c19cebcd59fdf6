/* test_frontier.c - unit tests for the frontier and its host scheduler. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "uvcrawl/error.h"
#include "uvcrawl/frontier.h"
#include "uvcrawl/tbucket.h"

static const uc_frontier_opts unlimited = {.rate = 0, .burst = 1, .per_host = 1000};

static uc_frontier *make(const uc_frontier_opts *o) {
  uc_frontier *f;
  assert_int_equal(uc_frontier_new(&f, o, 0), 0);
  return f;
}

static uc_fhost *host(uc_frontier *f, const char *key) {
  uc_fhost *h = uc_frontier_host(f, key, true, NULL);
  assert_non_null(h);
  return h;
}

static void push(uc_frontier *f, uc_fhost *h, const char *url, uint64_t now) {
  assert_int_equal(uc_frontier_push(f, h, 0, url, NULL, 0, 0, 0, false, now), 0);
  assert_int_equal(uc_frontier_check(f), 0);
}

/* Pop at `now`, expect `url` (and free the item). Returns its host. */
static uc_fhost *pop_expect(uc_frontier *f, uint64_t now, const char *url) {
  uc_frontier_item it;
  uint64_t wake = 0;
  int rc = uc_frontier_pop(f, now, &it, &wake);
  if (rc != 0)
    fail_msg("pop at %llu: %s, wanted %s", (unsigned long long)now, uc_errname(rc), url);
  assert_string_equal(it.url, url);
  free(it.url);
  free(it.parent);
  assert_int_equal(uc_frontier_check(f), 0);
  return it.host;
}

/* Expect pop at `now` to fail with `want`; on UC_EAGAIN also the wake time. */
static void pop_fails(uc_frontier *f, uint64_t now, int want, uint64_t want_wake) {
  uc_frontier_item it;
  uint64_t wake = 0;
  int rc = uc_frontier_pop(f, now, &it, &wake);
  if (rc == 0) {
    fail_msg("pop at %llu gave %s, wanted %s", (unsigned long long)now, it.url, uc_errname(want));
  }
  assert_int_equal(rc, want);
  if (want == UC_EAGAIN)
    assert_int_equal(wake, want_wake);
  assert_int_equal(uc_frontier_check(f), 0);
}

static void test_new_and_hosts(void **state) {
  (void)state;
  uc_frontier *f;
  uc_frontier_opts bad = {.rate = 1, .burst = 1, .per_host = 0};
  assert_int_equal(uc_frontier_new(&f, &bad, 0), UC_EINVAL);
  assert_null(f);
  assert_int_equal(uc_frontier_new(&f, NULL, 0), 0);
  bool created = false;
  assert_null(uc_frontier_host(f, "a.test", false, &created));
  assert_false(created);
  uc_fhost *a = uc_frontier_host(f, "a.test", true, &created);
  assert_non_null(a);
  assert_true(created);
  assert_ptr_equal(uc_frontier_host(f, "a.test", true, &created), a);
  assert_false(created);
  assert_ptr_equal(uc_frontier_host(f, "a.test", false, NULL), a);
  assert_string_equal(uc_fhost_key(a), "a.test");
  assert_null(uc_fhost_data(a));
  int tag;
  uc_fhost_set_data(a, &tag);
  assert_ptr_equal(uc_fhost_data(a), &tag);
  /* Many hosts: the map grows and every host stays findable. */
  char key[32];
  uc_fhost *hosts[5000];
  for (int i = 0; i < 5000; i++) {
    snprintf(key, sizeof(key), "h%d.test", i);
    hosts[i] = host(f, key);
  }
  assert_int_equal(uc_frontier_host_count(f), 5001);
  for (int i = 0; i < 5000; i++) {
    snprintf(key, sizeof(key), "h%d.test", i);
    assert_ptr_equal(uc_frontier_host(f, key, false, NULL), hosts[i]);
  }
  assert_ptr_equal(uc_frontier_host(f, "a.test", false, NULL), a);
  assert_int_equal(uc_frontier_check(f), 0);
  pop_fails(f, 0, UC_EEMPTY, 0);
  uc_frontier_free(f);
  uc_frontier_free(NULL);
}

static void test_fifo(void **state) {
  (void)state;
  uc_frontier *f = make(&unlimited);
  uc_fhost *h = host(f, "a.test");
  push(f, h, "http://a.test/1", 0);
  push(f, h, "http://a.test/2", 0);
  push(f, h, "http://a.test/3", 0);
  assert_int_equal(uc_fhost_queued(h), 3);
  assert_int_equal(uc_frontier_queued(f), 3);
  assert_ptr_equal(pop_expect(f, 0, "http://a.test/1"), h);
  push(f, h, "http://a.test/4", 0);
  pop_expect(f, 0, "http://a.test/2");
  pop_expect(f, 0, "http://a.test/3");
  pop_expect(f, 0, "http://a.test/4");
  pop_fails(f, 0, UC_EEMPTY, 0);
  assert_int_equal(uc_fhost_inflight(h), 4);
  assert_int_equal(uc_frontier_queued(f), 0);
  uc_frontier_free(f);
}

static void test_front_insertion(void **state) {
  (void)state;
  uc_frontier *f = make(&unlimited);
  uc_fhost *h = host(f, "a.test");
  push(f, h, "http://a.test/1", 0);
  push(f, h, "http://a.test/2", 0);
  assert_int_equal(uc_frontier_push(f, h, 0, "http://a.test/robots.txt", NULL, 0, 1, 0, true, 0), 0);
  /* Enough pushes at both ends to wrap and grow the ring. */
  char url[64];
  for (int i = 3; i <= 20; i++) {
    snprintf(url, sizeof(url), "http://a.test/%d", i);
    push(f, h, url, 0);
  }
  assert_int_equal(uc_frontier_push(f, h, 0, "http://a.test/first", NULL, 0, 0, 0, true, 0), 0);
  pop_expect(f, 0, "http://a.test/first");
  pop_expect(f, 0, "http://a.test/robots.txt");
  for (int i = 1; i <= 20; i++) {
    snprintf(url, sizeof(url), "http://a.test/%d", i);
    pop_expect(f, 0, url);
  }
  pop_fails(f, 0, UC_EEMPTY, 0);
  uc_frontier_free(f);
}

static void test_item_fields(void **state) {
  (void)state;
  uc_frontier *f = make(&unlimited);
  uc_fhost *h = host(f, "a.test");
  assert_int_equal(uc_frontier_push(f, h, 0, "http://a.test/x", "http://a.test/", 3, 0, 2, false, 0),
                   0);
  assert_int_equal(uc_frontier_push(f, h, 0, "http://a.test/robots.txt", NULL, 0, 7, 0, false, 0), 0);
  uc_frontier_item it;
  assert_int_equal(uc_frontier_pop(f, 0, &it, NULL), 0);
  assert_string_equal(it.url, "http://a.test/x");
  assert_string_equal(it.parent, "http://a.test/");
  assert_int_equal(it.depth, 3);
  assert_int_equal(it.attempts, 2);
  assert_int_equal(it.kind, 0);
  assert_ptr_equal(it.host, h);
  free(it.url);
  free(it.parent);
  assert_int_equal(uc_frontier_pop(f, 0, &it, NULL), 0);
  assert_string_equal(it.url, "http://a.test/robots.txt");
  assert_null(it.parent);
  assert_int_equal(it.kind, 7);
  free(it.url);
  /* Only kind 0 counts as a page. */
  assert_int_equal(uc_fhost_pages(h), 1);
  assert_int_equal(uc_fhost_inflight(h), 2);
  uc_frontier_done(f, h, 0);
  uc_frontier_done(f, h, 0);
  assert_int_equal(uc_fhost_inflight(h), 0);
  assert_int_equal(uc_frontier_check(f), 0);
  uc_frontier_free(f);
}

/* Items carry their push time and the token wait they sat through (for
 * --trace): {queued_ms, wait_from_ms, wait_until_ms} per pop. */
static void test_wait_times(void **state) {
  (void)state;
  uc_frontier_opts o = {.rate = 1, .burst = 1, .per_host = 10};
  uc_frontier *f = make(&o);
  uc_fhost *a = host(f, "a.test");
  push(f, a, "a1", 10);
  push(f, a, "a2", 20);
  static const struct {
    uint64_t pop_at, queued, from, until;
    const char *push_url; /* pushed at pop_at after the pop, or NULL */
  } cases[] = {
      {10, 10, 10, 10, NULL},        /* a token at once: no wait */
      {1010, 20, 20, 1010, NULL},    /* waited from its push to the token */
      {1500, 0, 0, 0, "a3"},         /* (push only) */
      {2100, 1500, 1500, 2010, NULL}, /* host waited since 1010, a3 since 1500 */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (cases[i].push_url != NULL) {
      push(f, a, cases[i].push_url, cases[i].pop_at);
      continue;
    }
    uc_frontier_item it;
    assert_int_equal(uc_frontier_pop(f, cases[i].pop_at, &it, NULL), 0);
    assert_int_equal(it.queued_ms, cases[i].queued);
    assert_int_equal(it.wait_from_ms, cases[i].from);
    assert_int_equal(it.wait_until_ms, cases[i].until);
    free(it.url);
    free(it.parent);
  }
  uc_frontier_free(f);
}

/* A host without a token is never picked; wake_ms says when it gets one. */
static void test_token_gate(void **state) {
  (void)state;
  uc_frontier_opts o = {.rate = 1, .burst = 1, .per_host = 10};
  uc_frontier *f = make(&o);
  uc_fhost *a = host(f, "a.test");
  push(f, a, "a1", 0);
  push(f, a, "a2", 0);
  push(f, a, "a3", 0);
  pop_expect(f, 0, "a1");
  pop_fails(f, 0, UC_EAGAIN, 1000);
  pop_fails(f, 999, UC_EAGAIN, 1000);
  pop_expect(f, 1000, "a2");
  pop_fails(f, 1000, UC_EAGAIN, 2000);
  /* A late pop gets the token (it was waiting in the bucket). */
  pop_expect(f, 2500, "a3");
  pop_fails(f, 2500, UC_EEMPTY, 0);
  /* A second host: the wake time is the earliest of the waiting hosts. */
  uc_fhost *b = host(f, "b.test");
  push(f, a, "a4", 2500);
  push(f, b, "b1", 2500);
  push(f, b, "b2", 2500);
  pop_expect(f, 2500, "b1"); /* a has no token until 3500 */
  pop_fails(f, 2600, UC_EAGAIN, 3500);
  /* b speeds up to 10/s at 2600, with 0.1 token refilled at 1/s since 2500:
   * the 0.9 missing take 90 ms. */
  uc_frontier_set_rate(f, b, 10, 1, 2600);
  assert_int_equal(uc_frontier_check(f), 0);
  pop_fails(f, 2600, UC_EAGAIN, 2690);
  pop_expect(f, 2690, "b2");
  push(f, b, "b3", 2690);
  pop_fails(f, 2690, UC_EAGAIN, 2790);
  pop_fails(f, 2789, UC_EAGAIN, 2790);
  pop_expect(f, 2790, "b3");
  pop_fails(f, 2790, UC_EAGAIN, 3500);
  pop_expect(f, 3500, "a4");
  pop_fails(f, 3500, UC_EEMPTY, 0);
  uc_frontier_free(f);
}

static void test_per_host_cap(void **state) {
  (void)state;
  uc_frontier_opts o = {.rate = 0, .burst = 1, .per_host = 2};
  uc_frontier *f = make(&o);
  uc_fhost *h = host(f, "a.test");
  for (int i = 0; i < 5; i++)
    push(f, h, i == 0 ? "u0" : i == 1 ? "u1" : i == 2 ? "u2" : i == 3 ? "u3" : "u4", 0);
  pop_expect(f, 0, "u0");
  pop_expect(f, 0, "u1");
  assert_int_equal(uc_fhost_inflight(h), 2);
  pop_fails(f, 0, UC_EEMPTY, 0); /* at cap: time alone will not help */
  pop_fails(f, 100000, UC_EEMPTY, 0);
  uc_frontier_done(f, h, 5);
  assert_int_equal(uc_frontier_check(f), 0);
  pop_expect(f, 5, "u2");
  pop_fails(f, 5, UC_EEMPTY, 0);
  uc_frontier_done(f, h, 6);
  uc_frontier_done(f, h, 6);
  pop_expect(f, 6, "u3");
  pop_expect(f, 6, "u4");
  assert_int_equal(uc_fhost_inflight(h), 2);
  uc_frontier_free(f);
}

static void test_hold_release(void **state) {
  (void)state;
  uc_frontier_opts o = {.rate = 1, .burst = 1, .per_host = 4};
  uc_frontier *f = make(&o);
  uc_fhost *a = host(f, "a.test");
  uc_fhost *b = host(f, "b.test");
  push(f, a, "a1", 0);
  push(f, a, "a2", 0);
  push(f, b, "b1", 0);
  uc_frontier_hold(f, a);
  assert_int_equal(uc_frontier_check(f), 0);
  pop_expect(f, 0, "b1");
  pop_fails(f, 0, UC_EEMPTY, 0); /* a is held: no wake time */
  uc_frontier_hold(f, a);        /* a flag, not a count */
  uc_frontier_release(f, a, 10);
  assert_int_equal(uc_frontier_check(f), 0);
  pop_expect(f, 10, "a1");
  pop_fails(f, 10, UC_EAGAIN, 1010);
  /* Holding a waiting host takes it out of the heap ... */
  uc_frontier_hold(f, a);
  pop_fails(f, 10, UC_EEMPTY, 0);
  pop_fails(f, 5000, UC_EEMPTY, 0);
  /* ... and releasing puts it back where its bucket says. */
  uc_frontier_release(f, a, 500);
  pop_fails(f, 500, UC_EAGAIN, 1010);
  pop_expect(f, 1010, "a2");
  /* Pushing to a held host queues without scheduling. */
  uc_frontier_hold(f, b);
  push(f, b, "b2", 2000);
  pop_fails(f, 3000, UC_EEMPTY, 0);
  uc_frontier_release(f, b, 3000);
  pop_expect(f, 3000, "b2");
  uc_frontier_free(f);
}

static void test_defer(void **state) {
  (void)state;
  uc_frontier *f = make(&unlimited);
  uc_fhost *a = host(f, "a.test");
  uc_fhost *b = host(f, "b.test");
  push(f, a, "a1", 0);
  push(f, a, "a2", 0);
  uc_frontier_defer(f, a, 5000, 0);
  assert_int_equal(uc_frontier_check(f), 0);
  pop_fails(f, 0, UC_EAGAIN, 5000);
  pop_fails(f, 4999, UC_EAGAIN, 5000);
  /* A shorter deferral does not shorten the wait. */
  uc_frontier_defer(f, a, 3000, 4999);
  pop_fails(f, 4999, UC_EAGAIN, 5000);
  /* Other hosts are unaffected. */
  push(f, b, "b1", 4999);
  pop_expect(f, 4999, "b1");
  pop_expect(f, 5000, "a1");
  /* A deferral in the past is no deferral; a later one extends. */
  uc_frontier_defer(f, a, 100, 5000);
  uc_frontier_defer(f, a, 9000, 5000);
  pop_fails(f, 8999, UC_EAGAIN, 9000);
  pop_expect(f, 9000, "a2");
  /* Deferral and token: the later of the two wins. */
  uc_frontier_set_rate(f, a, 1, 1, 9000); /* 1/s, starts full */
  push(f, a, "a3", 9000);
  push(f, a, "a4", 9000);
  pop_expect(f, 9000, "a3");
  uc_frontier_defer(f, a, 9500, 9000);
  pop_fails(f, 9000, UC_EAGAIN, 10000); /* token at 10000 > 9500 */
  uc_frontier_defer(f, a, 12000, 9000);
  pop_fails(f, 11000, UC_EAGAIN, 12000);
  pop_expect(f, 12000, "a4");
  uc_frontier_free(f);
}

static void test_set_rate(void **state) {
  (void)state;
  uc_frontier_opts o = {.rate = 1, .burst = 1, .per_host = 8};
  uc_frontier *f = make(&o);
  uc_fhost *h = host(f, "a.test");
  for (int i = 0; i < 4; i++)
    push(f, h, "u", 0);
  pop_expect(f, 0, "u");
  pop_fails(f, 0, UC_EAGAIN, 1000);
  /* Faster: the host's heap key moves earlier. */
  uc_frontier_set_rate(f, h, 10, 1, 0);
  assert_int_equal(uc_frontier_check(f), 0);
  pop_fails(f, 0, UC_EAGAIN, 100);
  pop_expect(f, 100, "u");
  /* Slower (robots.txt Crawl-delay: 5): the key moves later. */
  uc_frontier_set_rate(f, h, 0.2, 1, 150);
  /* 0.5 token refilled at 10/s from 100 to 150, the other 0.5 at 0.2/s. */
  pop_fails(f, 150, UC_EAGAIN, 2650);
  pop_fails(f, 2649, UC_EAGAIN, 2650);
  pop_expect(f, 2650, "u");
  /* Unlimited: ready at once. */
  uc_frontier_set_rate(f, h, 0, 1, 2660);
  pop_expect(f, 2660, "u");
  uc_frontier_free(f);
}

/* Unlimited rate, 3 hosts with many URLs: pops go a b c a b c ... */
static void test_fairness(void **state) {
  (void)state;
  uc_frontier *f = make(&unlimited);
  const char *keys[3] = {"a.test", "b.test", "c.test"};
  uc_fhost *h[3];
  char url[64];
  for (int k = 0; k < 3; k++)
    h[k] = host(f, keys[k]);
  /* Pushed host by host, not interleaved. */
  for (int k = 0; k < 3; k++) {
    for (int i = 0; i < 50; i++) {
      snprintf(url, sizeof(url), "http://%s/%d", keys[k], i);
      push(f, h[k], url, 0);
    }
  }
  for (int i = 0; i < 50; i++) {
    for (int k = 0; k < 3; k++) {
      snprintf(url, sizeof(url), "http://%s/%d", keys[k], i);
      uc_fhost *got = pop_expect(f, (uint64_t)i, url);
      uc_frontier_done(f, got, (uint64_t)i);
    }
  }
  pop_fails(f, 50, UC_EEMPTY, 0);
  /* A host that joins later takes its turn after the ones already ready. */
  push(f, h[0], "a-x", 60);
  push(f, h[0], "a-y", 60);
  push(f, h[1], "b-x", 60);
  pop_expect(f, 60, "a-x");
  push(f, h[2], "c-x", 60);
  pop_expect(f, 60, "b-x");
  pop_expect(f, 60, "a-y");
  pop_expect(f, 60, "c-x");
  uc_frontier_free(f);
}

static void test_clear(void **state) {
  (void)state;
  uc_frontier_opts o = {.rate = 1, .burst = 1, .per_host = 1};
  uc_frontier *f = make(&o);
  uc_fhost *a = host(f, "a.test"), *b = host(f, "b.test"), *c = host(f, "c.test");
  assert_int_equal(uc_frontier_push(f, a, 0, "a1", "p", 0, 0, 0, false, 0), 0);
  push(f, a, "a2", 0);
  push(f, b, "b1", 0);
  push(f, b, "b2", 0);
  push(f, c, "c1", 0);
  uc_frontier_hold(f, c);
  pop_expect(f, 0, "a1");    /* a: at cap (idle); b: ready; c: held */
  uc_frontier_done(f, a, 0); /* a: waiting for a token */
  assert_int_equal(uc_frontier_clear(f), 4);
  assert_int_equal(uc_frontier_queued(f), 0);
  assert_int_equal(uc_fhost_queued(a) + uc_fhost_queued(b) + uc_fhost_queued(c), 0);
  assert_int_equal(uc_frontier_check(f), 0);
  pop_fails(f, 5000, UC_EEMPTY, 0);
  assert_int_equal(uc_frontier_clear(f), 0);
  /* Still usable. */
  push(f, b, "b3", 5000);
  pop_expect(f, 5000, "b3");
  push(f, b, "b4", 5000); /* freed by uc_frontier_free */
  uc_frontier_free(f);
}

/* ---- randomized simulation against a model --------------------------------- */

enum { SIM_HOSTS = 200, SIM_STEPS = 60000, SIM_PER_HOST = 2, SIM_MAX_POPS = 4096 };

typedef struct sim_host {
  uc_fhost *h;
  uc_tbucket bucket; /* mirror of the frontier's */
  double rate, burst;
  bool held;
  uint64_t defer_until;
  unsigned inflight;
  int queue[512]; /* model FIFO of URL ids, as a ring */
  size_t head, len;
  uint64_t pops[SIM_MAX_POPS]; /* times of successful pops */
  size_t npops;
} sim_host;

static uint64_t rng_next(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545f4914f6cdd1dULL;
}

static bool sim_eligible(const sim_host *m) {
  return m->len > 0 && !m->held && m->inflight < SIM_PER_HOST;
}

static uint64_t sim_ready_at(const sim_host *m, uint64_t now) {
  uint64_t t = uc_tbucket_next_token_at(&m->bucket, now);
  return t > m->defer_until ? t : m->defer_until;
}

static void sim_pop(uc_frontier *f, sim_host *hosts, uint64_t now, int *inflight,
                    size_t *ninflight) {
  /* The oracle: which hosts may dispatch now, and the earliest wake. */
  bool any_ready = false, any_waiting = false;
  uint64_t wake_want = UINT64_MAX;
  for (int i = 0; i < SIM_HOSTS; i++) {
    sim_host *m = &hosts[i];
    if (!sim_eligible(m))
      continue;
    uint64_t t = sim_ready_at(m, now);
    if (t <= now)
      any_ready = true;
    else {
      any_waiting = true;
      if (t < wake_want)
        wake_want = t;
    }
  }
  uc_frontier_item it;
  uint64_t wake = 0;
  int rc = uc_frontier_pop(f, now, &it, &wake);
  if (any_ready) {
    assert_int_equal(rc, 0);
    sim_host *m = uc_fhost_data(it.host);
    assert_true(sim_eligible(m));
    assert_true(sim_ready_at(m, now) <= now); /* had a token, not deferred */
    assert_true(uc_tbucket_take(&m->bucket, now));
    char want[32];
    snprintf(want, sizeof(want), "u%d", m->queue[m->head]);
    assert_string_equal(it.url, want); /* FIFO per host, front pushes first */
    m->head = (m->head + 1) % 512;
    m->len--;
    m->inflight++;
    assert_true(m->npops < SIM_MAX_POPS);
    m->pops[m->npops++] = now;
    inflight[(*ninflight)++] = (int)(m - hosts);
    free(it.url);
    free(it.parent);
  } else if (any_waiting) {
    assert_int_equal(rc, UC_EAGAIN);
    assert_int_equal(wake, wake_want);
  } else {
    assert_int_equal(rc, UC_EEMPTY);
  }
}

static void test_random_simulation(void **state) {
  (void)state;
  uc_frontier_opts o = {.rate = 2, .burst = 2, .per_host = SIM_PER_HOST};
  uc_frontier *f = make(&o);
  sim_host *hosts = calloc(SIM_HOSTS, sizeof(*hosts));
  int *inflight = calloc(SIM_HOSTS * SIM_PER_HOST, sizeof(*inflight));
  assert_non_null(hosts);
  assert_non_null(inflight);
  size_t ninflight = 0;
  uint64_t seed = 0xc0ffee, now = 0;
  static const double rates[][2] = {{2, 2}, {0.3, 1}, {5, 3}, {0, 1}, {1.0 / 3, 1.5}};
  char key[32], url[32];
  for (int i = 0; i < SIM_HOSTS; i++) {
    snprintf(key, sizeof(key), "h%03d.test", i);
    sim_host *m = &hosts[i];
    m->h = host(f, key);
    uc_fhost_set_data(m->h, m);
    uc_tbucket_init(&m->bucket, 2, 2, 0);
    m->rate = rates[i % 5][0];
    m->burst = rates[i % 5][1];
    if (i % 5 != 0) {
      uc_frontier_set_rate(f, m->h, m->rate, m->burst, 0);
      uc_tbucket_set_rate(&m->bucket, m->rate, m->burst, 0);
    }
  }
  int next_id = 0;
  for (int step = 0; step < SIM_STEPS; step++) {
    unsigned r = (unsigned)(rng_next(&seed) % 100);
    sim_host *m = &hosts[rng_next(&seed) % SIM_HOSTS];
    if (r < 30) { /* push, one in ten at the front */
      if (m->len < 500) {
        bool front = rng_next(&seed) % 10 == 0;
        int id = next_id++;
        snprintf(url, sizeof(url), "u%d", id);
        assert_int_equal(uc_frontier_push(f, m->h, 0, url, NULL, 1, 0, 0, front, now), 0);
        if (front) {
          m->head = (m->head + 511) % 512;
          m->queue[m->head] = id;
        } else {
          m->queue[(m->head + m->len) % 512] = id;
        }
        m->len++;
      }
    } else if (r < 65) {
      sim_pop(f, hosts, now, inflight, &ninflight);
    } else if (r < 85) { /* a transfer ends */
      if (ninflight > 0) {
        size_t k = rng_next(&seed) % ninflight;
        sim_host *d = &hosts[inflight[k]];
        inflight[k] = inflight[--ninflight];
        d->inflight--;
        uc_frontier_done(f, d->h, now);
      }
    } else if (r < 88) {
      m->held = true;
      uc_frontier_hold(f, m->h);
    } else if (r < 92) {
      m->held = false;
      uc_frontier_release(f, m->h, now);
    } else if (r < 94) {
      uint64_t until = now + rng_next(&seed) % 3000;
      if (until > m->defer_until)
        m->defer_until = until;
      uc_frontier_defer(f, m->h, until, now);
    } else if (r < 97) {
      now += rng_next(&seed) % 50;
    } else { /* jump to the wake time pop announces, and pop right there */
      uint64_t wake = UINT64_MAX;
      for (int i = 0; i < SIM_HOSTS; i++) {
        if (sim_eligible(&hosts[i])) {
          uint64_t t = sim_ready_at(&hosts[i], now);
          wake = t < wake ? t : wake;
        }
      }
      if (wake != UINT64_MAX && wake > now) {
        if (wake - 1 > now)
          sim_pop(f, hosts, wake - 1, inflight, &ninflight); /* not yet: EAGAIN, same wake */
        now = wake;
      }
      sim_pop(f, hosts, now, inflight, &ninflight); /* at the wake time it must go */
    }
    int bad = uc_frontier_check(f);
    if (bad != 0)
      fail_msg("step %d: uc_frontier_check = %d", step, bad);
    size_t queued = 0;
    for (int i = 0; i < SIM_HOSTS; i++) {
      assert_true(uc_fhost_inflight(hosts[i].h) <= SIM_PER_HOST);
      assert_int_equal(uc_fhost_inflight(hosts[i].h), hosts[i].inflight);
      assert_int_equal(uc_fhost_queued(hosts[i].h), hosts[i].len);
      queued += hosts[i].len;
    }
    assert_int_equal(uc_frontier_queued(f), queued);
  }
  /* The B + R*t bound per host, over every window between two pops. */
  size_t total = 0;
  for (int i = 0; i < SIM_HOSTS; i++) {
    const sim_host *m = &hosts[i];
    total += m->npops;
    if (!(m->rate > 0))
      continue;
    for (size_t a = 0; a < m->npops; a++) {
      for (size_t b = a; b < m->npops; b++) {
        double bound = m->burst + m->rate * (double)(m->pops[b] - m->pops[a]) / 1000.0;
        if ((double)(b - a + 1) > bound + 1e-9)
          fail_msg("host %d: %zu pops in [%llu, %llu] > %g", i, b - a + 1,
                   (unsigned long long)m->pops[a], (unsigned long long)m->pops[b], bound);
      }
    }
  }
  assert_true(total > 1000); /* the simulation did dispatch */
  assert_true(now > 60000);  /* over more than a simulated minute */
  uc_frontier_free(f);
  free(hosts);
  free(inflight);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_and_hosts),   cmocka_unit_test(test_fifo),
      cmocka_unit_test(test_front_insertion), cmocka_unit_test(test_item_fields),
      cmocka_unit_test(test_token_gate),
      cmocka_unit_test(test_wait_times),      cmocka_unit_test(test_per_host_cap),
      cmocka_unit_test(test_hold_release),    cmocka_unit_test(test_defer),
      cmocka_unit_test(test_set_rate),        cmocka_unit_test(test_fairness),
      cmocka_unit_test(test_clear),           cmocka_unit_test(test_random_simulation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
