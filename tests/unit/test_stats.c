/* test_stats.c - stats as JSON and as a summary (stats.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "uvcrawl/stats.h"

static void test_json(void **state) {
  (void)state;
  uc_stats s;
  memset(&s, 0, sizeof s);
  s.pages = 10;
  s.status_2xx = 7;
  s.failures[UC_FAIL_DNS] = 2;
  s.failures[UC_FAIL_TIMEOUT] = 1;
  s.skipped[UC_SKIP_SEEN] = 40;
  s.peak_inflight = 9999;
  s.elapsed_s = 2.0;
  s.parse_ns = 1500000;
  s.threads_started = 37;
  s.tls_handshakes = 5;
  s.tls_resumed = 3;
  s.failures[UC_FAIL_CERT_EXPIRED] = 4;
  uc_buf b = UC_BUF_INIT;
  assert_int_equal(uc_stats_format_json(&b, &s, "loop"), 0);
  static const char *const want[] = {
      "{\"engine\":\"loop\",\"elapsed_s\":2.000,\"pages\":10,\"pages_per_s\":5.0,",
      "\"status\":{\"2xx\":7,\"3xx\":0,\"4xx\":0,\"5xx\":0},\"errors\":7,",
      "\"errors_by_kind\":{\"dns\":2,\"refused\":0,\"connect\":0,\"timeout\":1,",
      "\"reset\":0,\"tls\":0,\"cert-unknown-ca\":0,\"cert-expired\":4,\"cert-wrong-name\":0,",
      "\"skipped\":{\"duplicate\":40,",
      "\"parse_ms\":1.500,",
      "\"peak_inflight\":9999,",
      "\"interrupted\":false,\"threads_started\":37,\"records\":10,\"html_pages\":0,"
      "\"requests\":0,\"seeds_ok\":0,\"ended\":\"done\",\"truncated\":0,"
      "\"tls_handshakes\":5,\"tls_resumed\":3}\n",
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    if (strstr(b.data, want[i]) == NULL)
      fail_msg("missing %s in %s", want[i], b.data);
  assert_int_equal(strchr(b.data, '\n') - b.data, (long)b.len - 1); /* one line */
  uc_buf_free(&b);
}

static void test_names(void **state) {
  (void)state;
  assert_null(uc_fail_name(UC_FAIL_NONE));
  assert_string_equal(uc_fail_name(UC_FAIL_HEADERS), "headers-too-large");
  assert_string_equal(uc_fail_name(UC_FAIL_REDIRECTS), "too-many-redirects");
  assert_null(uc_fail_name(UC_FAIL_COUNT_));
  assert_string_equal(uc_skip_name(UC_SKIP_REPEATED_SEGMENT), "repeated_segment");
}

static void test_summary(void **state) {
  (void)state;
  uc_stats s;
  memset(&s, 0, sizeof s);
  s.pages = 3;
  s.html_pages = 2;
  s.requests = 5;
  s.hosts = 1;
  s.failures[UC_FAIL_RESET] = 1;
  s.interrupted = 1;
  s.ended = UC_END_INTERRUPTED;
  s.unfetched = 17;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_int_equal(uc_stats_print_summary(f, &s, "threads"), 0);
  fclose(f);
  assert_non_null(strstr(text, "uvcrawl (threads): 3 records in"));
  assert_non_null(strstr(text, ": 2 HTML pages, 1 failed; 1 host, "));
  assert_non_null(strstr(text, "  5 requests (robots.txt and retries included)"));
  assert_non_null(strstr(text, "errors: reset 1"));
  assert_non_null(strstr(text, "interrupted (drained): 17 queued URLs left unfetched"));
  free(text);

  /* Why it ended, and a crawl that fetched no seed. */
  static const struct {
    uc_end ended;
    uint64_t seeds_ok, hosts;
    const char *want;
  } cases[] = {
      {UC_END_DONE, 1, 2, "2 hosts, 0.0 MB\n"},
      {UC_END_DONE, 1, 1, "  ended: nothing left to fetch\n"},
      {UC_END_DONE, 0, 1, "  ended: nothing left to fetch; no seed could be fetched\n"},
      {UC_END_MAX_PAGES, 3, 1, "  ended: --max-pages reached\n"},
      {UC_END_FATAL, 1, 1, "  ended: a fatal condition (said above)\n"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    memset(&s, 0, sizeof s);
    s.ended = cases[i].ended;
    s.seeds_ok = cases[i].seeds_ok;
    s.hosts = cases[i].hosts;
    f = open_memstream(&text, &len);
    assert_int_equal(uc_stats_print_summary(f, &s, "loop"), 0);
    fclose(f);
    if (strstr(text, cases[i].want) == NULL)
      fail_msg("case %zu: want '%s' in:\n%s", i, cases[i].want, text);
    free(text);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_summary),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
