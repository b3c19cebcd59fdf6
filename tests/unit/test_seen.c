/* test_seen.c - unit tests for the visited set (seen.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "uvcrawl/error.h"
#include "uvcrawl/seen.h"

/* Reference vectors from the SipHash paper (Appendix A) and the reference
 * implementation's vectors.h: key 00 01 .. 0f, message 00 01 .. (len-1). */
static void test_siphash_vectors(void **state) {
  (void)state;
  static const struct {
    size_t len;
    uint64_t want;
  } cases[] = {
      {0, 0x726fdb47dd0e0e31ULL},  /* vectors.h[0]: 31 0e 0e dd 47 db 6f 72 */
      {1, 0x74f839c593dc67fdULL},  /* vectors.h[1]: fd 67 dc 93 c5 39 f8 74 */
      {7, 0xab0200f58b01d137ULL},  /* vectors.h[7]: 37 d1 01 8b f5 00 02 ab */
      {8, 0x93f5f5799a932462ULL},  /* vectors.h[8]: 62 24 93 9a 79 f5 f5 93 */
      {15, 0xa129ca6149be45e5ULL}, /* the paper's worked example */
      {16, 0x3f2acc7f57c29bdbULL}, /* vectors.h[16]: db 9b c2 57 7f cc 2a 3f */
  };
  uint64_t key[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
  unsigned char msg[64];
  for (size_t i = 0; i < sizeof(msg); i++)
    msg[i] = (unsigned char)i;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint64_t got = uc_siphash24(key, msg, cases[i].len);
    if (got != cases[i].want)
      print_error("len %zu: got %016llx want %016llx\n", cases[i].len, (unsigned long long)got,
                  (unsigned long long)cases[i].want);
    assert_int_equal(got, cases[i].want);
  }
}

static void test_insert_contains(void **state) {
  (void)state;
  uc_seen *s;
  assert_int_equal(uc_seen_new(&s, NULL), 0);
  static const char *const urls[] = {
      "http://a.test/", "http://a.test/x", "http://b.test/", "https://a.test/", "",
  };
  for (size_t i = 0; i < 5; i++)
    assert_false(uc_seen_contains(s, urls[i], strlen(urls[i])));
  for (size_t i = 0; i < 5; i++) {
    assert_int_equal(uc_seen_insert(s, urls[i], strlen(urls[i])), 1);
    assert_true(uc_seen_contains(s, urls[i], strlen(urls[i])));
    assert_int_equal(uc_seen_count(s), i + 1);
  }
  /* Length matters, not NUL termination. */
  assert_false(uc_seen_contains(s, "http://a.test/xyz", 16));
  assert_true(uc_seen_contains(s, "http://a.test/xyz", 15));
  uc_seen_free(s);
  uc_seen_free(NULL);
}

static void test_duplicates(void **state) {
  (void)state;
  uc_seen *s;
  assert_int_equal(uc_seen_new(&s, NULL), 0);
  assert_int_equal(uc_seen_insert(s, "http://a.test/", 14), 1);
  for (int i = 0; i < 10; i++)
    assert_int_equal(uc_seen_insert(s, "http://a.test/", 14), 0);
  uint64_t fp = uc_seen_hash(s, "http://a.test/", 14);
  assert_int_equal(uc_seen_insert_hash(s, fp), 0);
  assert_int_equal(uc_seen_count(s), 1);
  uc_seen_free(s);
}

static void test_zero_fingerprint(void **state) {
  (void)state;
  uc_seen *s;
  assert_int_equal(uc_seen_new(&s, NULL), 0);
  /* 0 is the empty-slot marker: it is stored as 1. */
  assert_int_equal(uc_seen_insert_hash(s, 0), 1);
  assert_int_equal(uc_seen_insert_hash(s, 1), 0);
  assert_int_equal(uc_seen_insert_hash(s, 0), 0);
  assert_int_equal(uc_seen_count(s), 1);
  assert_int_equal(uc_seen_insert_hash(s, 2), 1);
  assert_int_equal(uc_seen_count(s), 2);
  /* Fingerprints that land on the same home slot probe past each other. */
  assert_int_equal(uc_seen_insert_hash(s, 2 + 1024), 1);
  assert_int_equal(uc_seen_insert_hash(s, 2 + 2048), 1);
  assert_int_equal(uc_seen_insert_hash(s, 2 + 1024), 0);
  assert_int_equal(uc_seen_count(s), 4);
  uc_seen_free(s);
}

/* uc_seen_hash is SipHash-2-4 under the set's own key, except that 0 (the
 * empty-slot marker) becomes 1. No input is known whose SipHash-2-4 is 0
 * (finding one costs about 2^64 hashes), so the 0 -> 1 rule lives in one
 * function, uc_seen_fp, which is tested with a 0 directly; the rest of the
 * contract is checked on real hashes: the fingerprint is the keyed hash,
 * under the set's key (not a fixed one), and is never 0. */
static void test_hash_never_zero(void **state) {
  (void)state;
  assert_int_equal(uc_seen_fp(0), 1);
  assert_int_equal(uc_seen_fp(1), 1);
  assert_int_equal(uc_seen_fp(0x8000000000000000ull), 0x8000000000000000ull);
  uc_seen_opts o1 = {.key = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull}};
  uc_seen_opts o2 = {.key = {1, 2}};
  uc_seen *s1, *s2;
  assert_int_equal(uc_seen_new(&s1, &o1), 0);
  assert_int_equal(uc_seen_new(&s2, &o2), 0);
  char url[64];
  int differ = 0;
  for (int i = 0; i < 100000; i++) {
    int n = snprintf(url, sizeof(url), "http://h%d.test/", i);
    uint64_t h1 = uc_seen_hash(s1, url, (size_t)n), h2 = uc_seen_hash(s2, url, (size_t)n);
    assert_int_not_equal(h1, 0);
    assert_int_not_equal(h2, 0);
    assert_int_equal(h1, uc_siphash24(o1.key, url, (size_t)n));
    assert_int_equal(h2, uc_siphash24(o2.key, url, (size_t)n));
    differ += h1 != h2;
  }
  assert_int_equal(differ, 100000);
  uc_seen_free(s1);
  uc_seen_free(s2);
}

static void test_growth(void **state) {
  (void)state;
  uc_seen *s;
  uc_seen_opts o = {.expected = 0, .key = {1, 2}};
  assert_int_equal(uc_seen_new(&s, &o), 0);
  size_t mem0 = uc_seen_memory(s);
  char url[64];
  enum { N = 200000 }; /* 16 slots -> 2^18: 14 doublings */
  for (int i = 0; i < N; i++) {
    int n = snprintf(url, sizeof(url), "http://h%d.test/p%d", i % 97, i);
    assert_int_equal(uc_seen_insert(s, url, (size_t)n), 1);
  }
  assert_int_equal(uc_seen_count(s), N);
  assert_true(uc_seen_memory(s) > mem0);
  for (int i = 0; i < N; i++) {
    int n = snprintf(url, sizeof(url), "http://h%d.test/p%d", i % 97, i);
    assert_true(uc_seen_contains(s, url, (size_t)n));
    assert_int_equal(uc_seen_insert(s, url, (size_t)n), 0);
  }
  int false_hits = 0;
  for (int i = N; i < 2 * N; i++) {
    int n = snprintf(url, sizeof(url), "http://h%d.test/p%d", i % 97, i);
    false_hits += uc_seen_contains(s, url, (size_t)n);
  }
  assert_int_equal(false_hits, 0); /* chance of any: ~N^2/2^64 */
  assert_int_equal(uc_seen_count(s), N);
  uc_seen_free(s);
}

static void test_keys_differ(void **state) {
  (void)state;
  uc_seen *a, *b, *c;
  uc_seen_opts ka = {.key = {0, 0}}, kb = {.key = {1, 0}}, kc = {.key = {0, 1}};
  assert_int_equal(uc_seen_new(&a, &ka), 0);
  assert_int_equal(uc_seen_new(&b, &kb), 0);
  assert_int_equal(uc_seen_new(&c, &kc), 0);
  const char *u = "http://a.test/";
  uint64_t ha = uc_seen_hash(a, u, strlen(u));
  uint64_t hb = uc_seen_hash(b, u, strlen(u));
  uint64_t hc = uc_seen_hash(c, u, strlen(u));
  assert_int_not_equal(ha, hb);
  assert_int_not_equal(ha, hc);
  assert_int_not_equal(hb, hc);
  /* Same key, same fingerprint: deterministic. */
  uc_seen *a2;
  assert_int_equal(uc_seen_new(&a2, &ka), 0);
  assert_int_equal(uc_seen_hash(a2, u, strlen(u)), ha);
  /* A fingerprint from one set is what insert() stores in another with the
   * same key (the threaded engine relies on this). */
  assert_int_equal(uc_seen_insert_hash(a2, ha), 1);
  assert_true(uc_seen_contains(a2, u, strlen(u)));
  assert_int_equal(uc_seen_insert(a2, u, strlen(u)), 0);
  uc_seen_free(a);
  uc_seen_free(a2);
  uc_seen_free(b);
  uc_seen_free(c);
}

static void test_memory(void **state) {
  (void)state;
  uc_seen *s;
  assert_int_equal(uc_seen_new(&s, NULL), 0);
  size_t small = uc_seen_memory(s);
  assert_true(small >= 16 * sizeof(uint64_t));
  assert_true(small <= 16 * sizeof(uint64_t) + 128);
  /* 12 entries fit 16 slots at load 3/4; the 13th doubles the table. */
  for (uint64_t fp = 1; fp <= 12; fp++)
    assert_int_equal(uc_seen_insert_hash(s, fp), 1);
  assert_int_equal(uc_seen_memory(s), small);
  assert_int_equal(uc_seen_insert_hash(s, 13), 1);
  assert_int_equal(uc_seen_memory(s), small + 16 * sizeof(uint64_t));
  uc_seen_free(s);

  /* The sizing hint avoids growth: 1000 URLs at load <= 3/4 -> 2048 slots. */
  uc_seen_opts o = {.expected = 1000};
  assert_int_equal(uc_seen_new(&s, &o), 0);
  size_t sized = uc_seen_memory(s);
  assert_true(sized >= 2048 * sizeof(uint64_t) && sized < 2048 * sizeof(uint64_t) + 128);
  for (uint64_t fp = 1; fp <= 1000; fp++)
    assert_int_equal(uc_seen_insert_hash(s, fp * 0x9e3779b97f4a7c15ULL), 1);
  assert_int_equal(uc_seen_memory(s), sized);
  /* Bytes per entry stay within 8 / load for load in (3/8, 3/4]. */
  double per = (double)uc_seen_memory(s) / 1000.0;
  assert_true(per < 8.0 / 0.375 + 1);
  uc_seen_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_siphash_vectors), cmocka_unit_test(test_insert_contains),
      cmocka_unit_test(test_duplicates),      cmocka_unit_test(test_zero_fingerprint),
      cmocka_unit_test(test_hash_never_zero), cmocka_unit_test(test_growth),
      cmocka_unit_test(test_keys_differ),     cmocka_unit_test(test_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
