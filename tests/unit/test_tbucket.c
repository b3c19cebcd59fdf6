/* test_tbucket.c - unit tests for the token bucket (tbucket.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>

#include <cmocka.h>

#include "uvcrawl/tbucket.h"

/* Deterministic PRNG (xorshift64*), so failures reproduce. */
static uint64_t rng_next(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545f4914f6cdd1dULL;
}

/* take() on a copy, leaving `b` as it was. */
static bool try_take(const uc_tbucket *b, uint64_t now_ms) {
  uc_tbucket copy = *b;
  return uc_tbucket_take(&copy, now_ms);
}

static void test_refill(void **state) {
  (void)state;
  uc_tbucket b;
  uc_tbucket_init(&b, 10, 1, 1000);
  assert_true(uc_tbucket_take(&b, 1000));
  assert_false(uc_tbucket_take(&b, 1000));
  assert_false(uc_tbucket_take(&b, 1099)); /* 0.99 tokens */
  assert_true(uc_tbucket_take(&b, 1100));
  assert_false(uc_tbucket_take(&b, 1150));
  assert_true(uc_tbucket_take(&b, 1200)); /* the 1150 attempt lost nothing */
}

static void test_burst(void **state) {
  (void)state;
  uc_tbucket b;
  uc_tbucket_init(&b, 1, 5, 0);
  for (int i = 0; i < 5; i++)
    assert_true(uc_tbucket_take(&b, 0));
  assert_false(uc_tbucket_take(&b, 0));
  /* Refill stops at burst: after 100 s there are 5 tokens, not 100. */
  for (int i = 0; i < 5; i++)
    assert_true(uc_tbucket_take(&b, 100000));
  assert_false(uc_tbucket_take(&b, 100000));
  /* burst < 1 counts as 1. */
  uc_tbucket_init(&b, 1, 0, 0);
  assert_true(b.burst == 1.0);
  assert_true(uc_tbucket_take(&b, 0));
  assert_false(uc_tbucket_take(&b, 0));
}

static void test_next_token_at(void **state) {
  (void)state;
  static const struct {
    double rate, burst;
    uint64_t want_after_drain; /* from t=0, bucket emptied at t=0 */
  } cases[] = {
      {10, 1, 100},  {3, 1, 334},  {2, 2, 500},  {0.3, 1, 3334},
      {2.5, 2, 400}, {1000, 1, 1}, {3000, 1, 1}, /* 3 tokens a ms: the next one is 1 ms away */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uc_tbucket b;
    uc_tbucket_init(&b, cases[i].rate, cases[i].burst, 0);
    assert_int_equal(uc_tbucket_next_token_at(&b, 0), 0);
    while (uc_tbucket_take(&b, 0))
      ;
    uint64_t t = uc_tbucket_next_token_at(&b, 0);
    assert_int_equal(t, cases[i].want_after_drain);
    assert_false(try_take(&b, t - 1));
    assert_true(try_take(&b, t));
    /* Asking later, before the token is there, gives the same answer. */
    assert_int_equal(uc_tbucket_next_token_at(&b, t / 2), t);
    assert_int_equal(uc_tbucket_next_token_at(&b, t + 7), t + 7);
  }
}

/* For many fractional rates, at every ms of a busy schedule,
 * next_token_at(now) is the exact first ms at which take() succeeds. */
static void test_next_token_at_exhaustive(void **state) {
  (void)state;
  static const double rates[] = {0.3, 2.5, 1.0 / 3, 0.7, 2.0 / 3, 3, 7, 13.7, 1000.0 / 7, 0.01};
  static const double bursts[] = {1, 1.5, 2, 3.7};
  for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
    for (size_t k = 0; k < sizeof(bursts) / sizeof(bursts[0]); k++) {
      uc_tbucket b;
      uc_tbucket_init(&b, rates[r], bursts[k], 17);
      uint64_t seed = 0x1234 + r * 31 + k;
      for (uint64_t now = 17; now < 17 + 20000; now++) {
        uint64_t next = uc_tbucket_next_token_at(&b, now);
        assert_true(next >= now);
        assert_true(try_take(&b, next));
        if (next > now)
          assert_false(try_take(&b, next - 1));
        else
          assert_true(try_take(&b, now));
        /* Take now and then, sometimes exactly at the announced time. */
        if (next == now || rng_next(&seed) % 8 == 0)
          (void)uc_tbucket_take(&b, now);
      }
    }
  }
}

static void test_long_idle(void **state) {
  (void)state;
  uc_tbucket b;
  uc_tbucket_init(&b, 2.5, 3, 0);
  while (uc_tbucket_take(&b, 0))
    ;
  uint64_t huge = UINT64_MAX - 10;
  for (int i = 0; i < 3; i++)
    assert_true(uc_tbucket_take(&b, huge));
  assert_false(uc_tbucket_take(&b, huge));
  assert_true(b.tokens >= 0 && b.tokens <= b.burst);
  /* The next token is 400 ms away, which does not fit: saturate. */
  assert_int_equal(uc_tbucket_next_token_at(&b, huge), UINT64_MAX);
  /* An absurdly slow rate saturates instead of overflowing. */
  uc_tbucket_init(&b, 1e-300, 1, 5);
  assert_true(uc_tbucket_take(&b, 5));
  assert_int_equal(uc_tbucket_next_token_at(&b, 5), UINT64_MAX);
  assert_false(uc_tbucket_take(&b, UINT64_MAX / 2));
}

static void test_time_backwards(void **state) {
  (void)state;
  uc_tbucket b;
  uc_tbucket_init(&b, 10, 1, 1000);
  assert_true(uc_tbucket_take(&b, 1000));
  /* Going back adds nothing and does not move last_ms back ... */
  assert_false(uc_tbucket_take(&b, 500));
  assert_false(uc_tbucket_take(&b, 0));
  assert_int_equal(b.last_ms, 1000);
  uc_tbucket_set_rate(&b, 10, 1, 600);
  assert_int_equal(b.last_ms, 1000);
  assert_true(uc_tbucket_next_token_at(&b, 500) >= 1100);
  /* ... so the time from 1000 is not counted twice. */
  assert_false(uc_tbucket_take(&b, 1099));
  assert_true(uc_tbucket_take(&b, 1100));
  assert_false(uc_tbucket_take(&b, 1100));
}

static void test_fractional_rates(void **state) {
  (void)state;
  /* 0.3/s: one token every 3333.3 ms. From empty at 0, the k-th token
   * arrives at ceil(k * 10000 / 3) ms. */
  uc_tbucket b;
  uc_tbucket_init(&b, 0.3, 2, 0);
  assert_true(uc_tbucket_take(&b, 0));
  assert_true(uc_tbucket_take(&b, 0));
  int got = 0;
  for (uint64_t now = 0; now <= 100001; now++) {
    if (uc_tbucket_take(&b, now)) {
      got++;
      assert_int_equal(now, (got * 10000 + 2) / 3); /* ceil(got * 10000 / 3) */
    }
  }
  assert_int_equal(got, 30); /* 0.3 * 100 s */
  /* With burst 1 the bucket is full at 3333.3 ms and the 0.7 ms until the
   * next whole ms is lost: one token every 3334 ms. */
  uc_tbucket_init(&b, 0.3, 1, 0);
  assert_true(uc_tbucket_take(&b, 0));
  for (uint64_t k = 1; k <= 30; k++) {
    assert_false(uc_tbucket_take(&b, k * 3334 - 1));
    assert_true(uc_tbucket_take(&b, k * 3334));
  }
  /* 2.5/s: tokens every 400 ms exactly. */
  uc_tbucket_init(&b, 2.5, 1, 0);
  assert_true(uc_tbucket_take(&b, 0));
  for (int k = 1; k <= 100; k++) {
    assert_false(uc_tbucket_take(&b, (uint64_t)k * 400 - 1));
    assert_true(uc_tbucket_take(&b, (uint64_t)k * 400));
  }
}

static void test_rate_change(void **state) {
  (void)state;
  uc_tbucket b;
  /* Up: 1/s drained at 0; at 500 ms switch to 10/s with 0.5 tokens banked. */
  uc_tbucket_init(&b, 1, 1, 0);
  assert_true(uc_tbucket_take(&b, 0));
  uc_tbucket_set_rate(&b, 10, 1, 500);
  assert_false(uc_tbucket_take(&b, 549));
  assert_true(uc_tbucket_take(&b, 550));
  assert_int_equal(uc_tbucket_next_token_at(&b, 550), 650);
  /* Down: a full 10/s burst-5 bucket becomes 1/s burst 2: clamped. */
  uc_tbucket_init(&b, 10, 5, 0);
  uc_tbucket_set_rate(&b, 1, 2, 0);
  assert_true(uc_tbucket_take(&b, 0));
  assert_true(uc_tbucket_take(&b, 0));
  assert_false(uc_tbucket_take(&b, 0));
  assert_int_equal(uc_tbucket_next_token_at(&b, 0), 1000);
  /* Down keeps a partial refill at the old rate. */
  uc_tbucket_init(&b, 10, 1, 0);
  assert_true(uc_tbucket_take(&b, 0));
  uc_tbucket_set_rate(&b, 0.5, 1, 50); /* 0.5 token banked at 10/s */
  assert_int_equal(uc_tbucket_next_token_at(&b, 50), 1050);
  assert_false(uc_tbucket_take(&b, 1049));
  assert_true(uc_tbucket_take(&b, 1050));
}

static void test_unlimited(void **state) {
  (void)state;
  uc_tbucket b;
  uc_tbucket_init(&b, 0, 1, 0);
  for (int i = 0; i < 100000; i++)
    assert_true(uc_tbucket_take(&b, 0));
  assert_int_equal(uc_tbucket_next_token_at(&b, 0), 0);
  assert_int_equal(uc_tbucket_next_token_at(&b, 12345), 12345);
  uc_tbucket_init(&b, -1, 1, 0);
  assert_true(uc_tbucket_take(&b, 0));
  assert_true(uc_tbucket_take(&b, 0));
  /* Limiting an unlimited bucket starts it full. */
  uc_tbucket_set_rate(&b, 1, 2, 10);
  assert_true(uc_tbucket_take(&b, 10));
  assert_true(uc_tbucket_take(&b, 10));
  assert_false(uc_tbucket_take(&b, 10));
  assert_int_equal(uc_tbucket_next_token_at(&b, 10), 1010);
  /* And lifting the limit lets everything through. */
  uc_tbucket_set_rate(&b, 0, 1, 20);
  assert_true(uc_tbucket_take(&b, 20));
  assert_int_equal(uc_tbucket_next_token_at(&b, 20), 20);
}

/* Over a simulated 60 s with takes attempted at random ms, the successes in
 * every window [t_i, t_j] number at most B + R * (t_j - t_i) / 1000; and the
 * bucket is not stingier than that in total. */
static void test_rate_bound_property(void **state) {
  (void)state;
  static const struct {
    double rate, burst;
  } cfgs[] = {{0.3, 1}, {2.5, 2}, {2, 2}, {1.0 / 3, 1.5}, {7, 1}, {13.7, 4}, {50, 10}, {0.05, 3}};
  for (size_t c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++) {
    double rate = cfgs[c].rate, burst = cfgs[c].burst;
    uint64_t seed = 0x9e3779b97f4a7c15ULL ^ c;
    for (int dense = 0; dense < 2; dense++) {
      uc_tbucket b;
      uc_tbucket_init(&b, rate, burst, 0);
      size_t cap = (size_t)(burst + rate * 60 + 2), n = 0;
      uint64_t *ok = malloc(cap * sizeof(*ok));
      assert_non_null(ok);
      for (uint64_t now = 0; now < 60000; now++) {
        /* dense: try every ms (several times); sparse: ~1 ms in 50. */
        int tries = dense ? 1 + (int)(rng_next(&seed) % 3) : (rng_next(&seed) % 50 == 0);
        for (int k = 0; k < tries; k++) {
          if (uc_tbucket_take(&b, now)) {
            assert_true(n < cap);
            ok[n++] = now;
          }
        }
      }
      for (size_t i = 0; i < n; i++) {
        for (size_t j = i; j < n; j++) {
          double bound = burst + rate * (double)(ok[j] - ok[i]) / 1000.0;
          if ((double)(j - i + 1) > bound + 1e-9)
            fail_msg("rate %g burst %g: %zu takes in [%llu, %llu] > %g", rate, burst, j - i + 1,
                     (unsigned long long)ok[i], (unsigned long long)ok[j], bound);
        }
      }
      if (dense) /* trying every ms, nothing is left on the table */
        assert_true((double)n >= floor(burst + rate * 59.999) - 1);
      free(ok);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_refill),           cmocka_unit_test(test_burst),
      cmocka_unit_test(test_next_token_at),    cmocka_unit_test(test_next_token_at_exhaustive),
      cmocka_unit_test(test_long_idle),        cmocka_unit_test(test_time_backwards),
      cmocka_unit_test(test_fractional_rates), cmocka_unit_test(test_rate_change),
      cmocka_unit_test(test_unlimited),        cmocka_unit_test(test_rate_bound_property),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
