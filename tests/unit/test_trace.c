/* test_trace.c - the --trace writer: phase placement, clamping, lanes, the
 * file's head and tail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "uvcrawl/trace.h"

#define MS 1000000ull /* ns */
#define US 1000ull

/* Run `n` transfers through a writer with origin 1 s; returns the file. */
static char *write_trace(const uc_trace_xfer *x, size_t n) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  uc_trace *t = NULL;
  assert_int_equal(uc_trace_new(&t, f, "loop", 1000 * MS), 0);
  assert_int_equal(uc_trace_name_thread(t, 42, "loop thread"), 0);
  assert_int_equal(uc_trace_name_thread(t, 42, "loop thread"), 0); /* once */
  for (size_t i = 0; i < n; i++)
    assert_int_equal(uc_trace_transfer(t, &x[i]), 0);
  assert_int_equal(uc_trace_counter(t, "in flight", 1500 * MS, 3), 0);
  assert_int_equal(uc_trace_close(t), 0);
  assert_int_not_equal(uc_trace_counter(t, "late", 1600 * MS, 1), 0); /* closed */
  uc_trace_free(t);
  fclose(f);
  return text;
}

static void test_transfer_phases(void **state) {
  (void)state;
  /* Queued 1000-1010 ms (token 1002-1008), dns 1010-1011, curl ran
   * 100 us..., ending at 1020 ms; parsed 1020.1-1020.6 on tid 42. */
  uc_trace_xfer x = {
      .url = "http://a.test/\"q\"",
      .status = 200,
      .queued_ns = 1000 * MS,
      .wait_from_ns = 1002 * MS,
      .wait_until_ns = 1008 * MS,
      .dispatched_ns = 1010 * MS,
      .dns_start_ns = 1010 * MS,
      .dns_end_ns = 1011 * MS,
      .curl_end_ns = 1020 * MS,
      .curl = {.namelookup = 10,
               .connect = 110,
               .pretransfer = 120,
               .starttransfer = 5000,
               .total = 8000},
      .parse_tid = 42,
      .parse_start_ns = 1020 * MS + 100 * US,
      .parse_end_ns = 1020 * MS + 600 * US,
      .end_ns = 1021 * MS,
  };
  char *text = write_trace(&x, 1);
  static const char *const want[] = {
      "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n",
      "\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":42,\"args\":{\"name\":\"loop "
      "thread\"}",
      "\"name\":\"transfer\",\"ph\":\"X\",\"pid\":2,\"tid\":1,\"cat\":\"xfer\",\"ts\":0.000,"
      "\"dur\":21000.000,\"args\":{\"id\":1,\"url\":\"http://a.test/\\\"q\\\"\",\"status\":200,"
      "\"error\":null}",
      "\"name\":\"queued\",\"ph\":\"X\",\"pid\":2,\"tid\":1,\"cat\":\"xfer\",\"ts\":0.000,"
      "\"dur\":10000.000",
      "\"name\":\"token\",\"ph\":\"X\",\"pid\":2,\"tid\":1,\"cat\":\"xfer\",\"ts\":2000.000,"
      "\"dur\":6000.000",
      "\"name\":\"dns\",\"ph\":\"X\",\"pid\":2,\"tid\":1,\"cat\":\"xfer\",\"ts\":10000.000,"
      "\"dur\":1000.000",
      /* curl started at 1020 ms - 8000 us = 1012 ms */
      "\"name\":\"connect\",\"ph\":\"X\",\"pid\":2,\"tid\":1,\"cat\":\"xfer\",\"ts\":12010.000,"
      "\"dur\":100.000",
      "\"name\":\"ttfb\",\"ph\":\"X\",\"pid\":2,\"tid\":1,\"cat\":\"xfer\",\"ts\":12120.000,"
      "\"dur\":4880.000",
      "\"name\":\"receive\",\"ph\":\"X\",\"pid\":2,\"tid\":1,\"cat\":\"xfer\",\"ts\":17000.000,"
      "\"dur\":3000.000",
      "\"name\":\"parse\",\"ph\":\"X\",\"pid\":1,\"tid\":42,\"cat\":\"thread\",\"ts\":20100.000,"
      "\"dur\":500.000",
      "\"name\":\"in flight\",\"ph\":\"C\",\"pid\":1,\"tid\":0,\"ts\":500000.000,"
      "\"args\":{\"value\":3.000}}\n]}\n",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    if (strstr(text, want[i]) == NULL)
      fail_msg("missing %s\nin:\n%s", want[i], text);
  assert_null(strstr(text, "\"tls\"")); /* no appconnect: no TLS span */
  free(text);
}

/* Edges are clamped: nothing before the origin or the previous phase,
 * nothing after the end; a transfer that never reached curl has no curl
 * phases. */
static void test_clamping(void **state) {
  (void)state;
  uc_trace_xfer x = {
      .url = "u",
      .error = "dns",
      .queued_ns = 999 * MS, /* before the origin */
      .dispatched_ns = 1001 * MS,
      .dns_start_ns = 1000 * MS, /* before dispatch: moved to it */
      .dns_end_ns = 1005 * MS,   /* after the end: cut */
      .end_ns = 1003 * MS,
  };
  char *text = write_trace(&x, 1);
  static const char *const want[] = {
      "\"name\":\"transfer\",\"ph\":\"X\",\"pid\":2,\"tid\":1,\"cat\":\"xfer\",\"ts\":0.000,"
      "\"dur\":3000.000,\"args\":{\"id\":1,\"url\":\"u\",\"status\":0,\"error\":\"dns\"}",
      "\"name\":\"queued\",\"ph\":\"X\",\"pid\":2,\"tid\":1,\"cat\":\"xfer\",\"ts\":0.000,"
      "\"dur\":1000.000",
      "\"name\":\"dns\",\"ph\":\"X\",\"pid\":2,\"tid\":1,\"cat\":\"xfer\",\"ts\":1000.000,"
      "\"dur\":2000.000",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    if (strstr(text, want[i]) == NULL)
      fail_msg("missing %s\nin:\n%s", want[i], text);
  assert_null(strstr(text, "\"connect\""));
  assert_null(strstr(text, "\"receive\""));
  free(text);
}

/* Lanes: a transfer reuses a lane whose last one ended before it began. */
static void test_lanes(void **state) {
  (void)state;
  static const struct {
    uint64_t start_ms, end_ms, lane;
  } cases[] = {
      {1000, 1010, 1}, {1005, 1020, 2}, /* overlaps lane 1 */
      {1010, 1030, 1},                  /* lane 1 is free from 1010 */
      {1015, 1016, 3},                  /* both busy */
      {1020, 1025, 3},                  /* lane 3 (ended 1016) is the one free longest */
  };
  size_t n = sizeof cases / sizeof cases[0];
  uc_trace_xfer x[5];
  memset(x, 0, sizeof x);
  for (size_t i = 0; i < n; i++) {
    x[i].url = "u";
    x[i].queued_ns = x[i].dispatched_ns = cases[i].start_ms * MS;
    x[i].end_ns = cases[i].end_ms * MS;
  }
  char *text = write_trace(x, n);
  for (size_t i = 0; i < n; i++) {
    char want[128];
    snprintf(want, sizeof want,
             "\"name\":\"transfer\",\"ph\":\"X\",\"pid\":2,\"tid\":%llu,"
             "\"cat\":\"xfer\",\"ts\":%llu.000,",
             (unsigned long long)cases[i].lane,
             (unsigned long long)(cases[i].start_ms - 1000) * 1000);
    if (strstr(text, want) == NULL)
      fail_msg("case %zu: missing %s\nin:\n%s", i, want, text);
  }
  assert_non_null(strstr(text, "\"args\":{\"name\":\"transfers 0003\"}"));
  assert_null(strstr(text, "transfers 0004"));
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_transfer_phases),
      cmocka_unit_test(test_clamping),
      cmocka_unit_test(test_lanes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
