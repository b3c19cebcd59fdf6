/* test_buf.c - the growable buffer (buf.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"

static void test_append_and_printf(void **state) {
  (void)state;
  uc_buf b = UC_BUF_INIT;
  assert_int_equal(uc_buf_puts(&b, "abc"), 0);
  assert_int_equal(uc_buf_append(&b, "\0d", 2), 0);
  assert_int_equal(b.len, 5);
  assert_memory_equal(b.data, "abc\0d", 6); /* NUL-terminated after the data */
  assert_int_equal(uc_buf_printf(&b, "-%d-%s", 42, "x"), 0);
  assert_memory_equal(b.data + 5, "-42-x", 6);
  uc_buf_reset(&b);
  assert_int_equal(b.len, 0);
  assert_string_equal(b.data, "");
  uc_buf_free(&b);
  assert_null(b.data);
}

static void test_growth(void **state) {
  (void)state;
  uc_buf b = UC_BUF_INIT;
  char big[1000];
  memset(big, 'z', sizeof big);
  for (int i = 0; i < 1000; i++)
    assert_int_equal(uc_buf_append(&b, big, sizeof big), 0);
  assert_int_equal(b.len, 1000000);
  assert_true(b.cap > b.len);
  assert_int_equal(uc_buf_printf(&b, "%0500d", 7), 0); /* longer than the stack buffer */
  assert_int_equal(b.len, 1000500);
  assert_int_equal(b.data[b.len - 1], '7');
  char *s = uc_buf_steal(&b);
  assert_null(b.data);
  assert_int_equal(strlen(s), 1000500);
  free(s);
}

static void test_overflow_refused(void **state) {
  (void)state;
  uc_buf b = UC_BUF_INIT;
  assert_int_equal(uc_buf_puts(&b, "x"), 0);
  assert_int_equal(uc_buf_reserve(&b, SIZE_MAX - 1), UC_ENOMEM);
  assert_string_equal(b.data, "x"); /* unchanged */
  uc_buf_free(&b);
}

static void test_error_names(void **state) {
  (void)state;
  static const struct {
    int code;
    const char *name, *message;
  } cases[] = {
      {0, "UC_OK", "success"},
      {UC_ENOMEM, "UC_ENOMEM", "out of memory"},
      {UC_EBADURL, "UC_EBADURL", "malformed URL"},
      {UC_ENOTFOUND, "UC_ENOTFOUND", "not found"},
      {-999, "UC_E?", "unknown error"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    assert_string_equal(uc_errname(cases[i].code), cases[i].name);
    assert_string_equal(uc_strerror(cases[i].code), cases[i].message);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_append_and_printf),
      cmocka_unit_test(test_growth),
      cmocka_unit_test(test_overflow_refused),
      cmocka_unit_test(test_error_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
