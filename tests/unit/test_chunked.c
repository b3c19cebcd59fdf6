/* test_chunked.c - the chunked transfer coding's decoder (chunked.h): each
 * case decoded whole and split at every byte, so no state depends on how
 * the bytes arrive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/chunked.h"

static bool collect(void *userp, const char *body, size_t len) {
  return uc_buf_append(userp, body, len) == 0;
}

static const struct {
  const char *wire;        /* a chunked message body as sent */
  const char *body;        /* what it decodes to */
  uc_chunked_state state;  /* where the decoder ends */
} cases[] = {
    {"5\r\nhello\r\n0\r\n\r\n", "hello", UC_CHUNKED_DONE},
    {"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n", "abcdefg", UC_CHUNKED_DONE},
    {"A\r\n0123456789\r\n0\r\n\r\n", "0123456789", UC_CHUNKED_DONE}, /* upper-case hex */
    {"a;name=value\r\n0123456789\r\n0\r\n\r\n", "0123456789", UC_CHUNKED_DONE}, /* extension */
    {"2\nab\n0\n\n", "ab", UC_CHUNKED_DONE},                                 /* bare LF */
    {"2\r\nab\r\n0\r\nExpires: never\r\nX: y\r\n\r\n", "ab", UC_CHUNKED_DONE}, /* trailers */
    {"2\r\nab\r\n0\r\n\r\nafter the end", "ab", UC_CHUNKED_DONE},
    {"0\r\n\r\n", "", UC_CHUNKED_DONE},
    {"5\r\nhel", "hel", UC_CHUNKED_DATA},                 /* cut mid-chunk (--max-body) */
    {"5\r\nhello\r\n", "hello", UC_CHUNKED_SIZE},
    {"x\r\nhello\r\n0\r\n\r\n", "", UC_CHUNKED_BAD},       /* not hex */
    {"\r\nhello", "", UC_CHUNKED_BAD},                      /* no size */
    {"2\r\nabc\r\n0\r\n\r\n", "ab", UC_CHUNKED_BAD},        /* data longer than its size */
    {"11111111111111111\r\nx", "", UC_CHUNKED_BAD},        /* 17 hex digits overflow */
};

static void test_cases(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = strlen(cases[i].wire);
    for (size_t split = 0; split <= n; split++) {
      uc_chunked d = UC_CHUNKED_INIT;
      uc_buf out = UC_BUF_INIT;
      assert_true(uc_chunked_feed(&d, cases[i].wire, split, collect, &out));
      assert_true(uc_chunked_feed(&d, cases[i].wire + split, n - split, collect, &out));
      assert_int_equal(out.len, strlen(cases[i].body));
      if (out.len > 0)
        assert_memory_equal(out.data, cases[i].body, out.len);
      assert_int_equal(d.state, cases[i].state);
      uc_buf_free(&out);
    }
  }
}

static bool stop_at_first(void *userp, const char *body, size_t len) {
  (void)body;
  (void)len;
  (*(int *)userp)++;
  return false;
}

static void test_callback_stops(void **state) {
  (void)state;
  uc_chunked d = UC_CHUNKED_INIT;
  int calls = 0;
  assert_false(uc_chunked_feed(&d, "1\r\na\r\n1\r\nb\r\n0\r\n\r\n", 20, stop_at_first, &calls));
  assert_int_equal(calls, 1);
}

static void test_in_headers(void **state) {
  (void)state;
  static const struct {
    const char *head;
    bool chunked;
  } heads[] = {
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\ntransfer-encoding:Chunked\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", false},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false},
      {"HTTP/1.1 200 OK\r\nX-Transfer-Encoding: chunked\r\n\r\n", false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: notchunked\r\n\r\n", false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked", true}, /* no final CRLF */
  };
  for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
    assert_int_equal(uc_chunked_in_headers(heads[i].head, strlen(heads[i].head)),
                     heads[i].chunked);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cases),
      cmocka_unit_test(test_callback_stops),
      cmocka_unit_test(test_in_headers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
