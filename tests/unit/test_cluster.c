/*
 * test_cluster - what a cluster agent decides without Redis: the --cluster
 * URL, and which agent owns a host (rendezvous hashing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cluster.h"
#include "uvcrawl/error.h"

static void test_parse_url(void **state) {
  static const struct {
    const char *url;
    int rc;
    const char *host, *path, *name;
    int port;
  } cases[] = {
      {"redis://127.0.0.1:6379/crawl1", 0, "127.0.0.1", "", "crawl1", 6379},
      {"redis://localhost:7000", 0, "localhost", "", "uvcrawl", 7000},
      {"unix:///tmp/r.sock", 0, "", "/tmp/r.sock", "uvcrawl", 0},
      {"unix:///tmp/r.sock?name=a-b_c.1", 0, "", "/tmp/r.sock", "a-b_c.1", 0},
      {"redis://127.0.0.1/x", UC_EINVAL, NULL, NULL, NULL, 0},   /* no port */
      {"redis://127.0.0.1:0/x", UC_EINVAL, NULL, NULL, NULL, 0}, /* port 0 */
      {"redis://h:99999", UC_EINVAL, NULL, NULL, NULL, 0},
      {"redis://h:6379/bad name", UC_EINVAL, NULL, NULL, NULL, 0},
      {"redis://h:6379/", UC_EINVAL, NULL, NULL, NULL, 0},       /* empty name */
      {"unix://relative.sock", UC_EINVAL, NULL, NULL, NULL, 0},
      {"http://h:6379/x", UC_EINVAL, NULL, NULL, NULL, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uc_cluster_addr a;
    char err[256] = "";
    int rc = uc_cluster_parse_url(cases[i].url, &a, err, sizeof err);
    if (rc != cases[i].rc)
      fail_msg("%s: rc %d, want %d", cases[i].url, rc, cases[i].rc);
    if (rc != 0) {
      assert_non_null(strstr(err, cases[i].url));
      continue;
    }
    assert_string_equal(a.host, cases[i].host);
    assert_string_equal(a.path, cases[i].path);
    assert_string_equal(a.name, cases[i].name);
    assert_int_equal(a.port, cases[i].port);
  }
}

/* Each agent gets about 1/N of the hosts, and going from N to N+1 agents
 * moves only the hosts the new agent wins (the point of rendezvous
 * hashing: host-hash mod N would move almost all). */
static void test_owner(void **state) {
  enum { HOSTS = 30000 };
  for (unsigned n = 1; n <= 8; n++) {
    unsigned count[9] = {0}, moved = 0;
    for (unsigned i = 0; i < HOSTS; i++) {
      char host[32];
      int len = snprintf(host, sizeof host, "h%05u.test", i);
      unsigned k = uc_cluster_owner(host, (size_t)len, n);
      assert_true(k < n);
      assert_int_equal(k, uc_cluster_owner(host, (size_t)len, n)); /* a pure function */
      count[k]++;
      unsigned k1 = uc_cluster_owner(host, (size_t)len, n + 1);
      if (k1 != k) {
        assert_int_equal(k1, n); /* only to the new agent */
        moved++;
      }
    }
    for (unsigned k = 0; k < n; k++) /* within 5% of an even share */
      assert_true(count[k] > HOSTS / n * 95 / 100 && count[k] < HOSTS / n * 105 / 100);
    /* about 1/(n+1) of the hosts move */
    assert_true(moved > HOSTS / (n + 1) * 90 / 100 && moved < HOSTS / (n + 1) * 110 / 100);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_url),
      cmocka_unit_test(test_owner),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
