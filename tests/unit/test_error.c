/* test_error.c - unit tests for the error codes (error.h, error.c).
 *
 * The table below is built from UC_ERRNO_MAP itself, so a code added to the
 * list is covered without editing this file. For every code it checks that
 * uc_strerror() gives the list's message and uc_errname() gives "UC_E" plus
 * the list's name, and that all values are negative and distinct (a positive
 * or duplicated value would make a failure look like success or like another
 * failure). It also pins what 0 and unknown codes give, as error.c returns
 * them: "success"/"UC_OK" and "unknown error"/"UC_E?".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>

#include <cmocka.h>

#include "uvcrawl/error.h"

static const struct {
  int code;
  const char *name;
  const char *msg;
} codes[] = {
#define ERROR_CASE_(name, value, msg) {UC_E##name, "UC_E" #name, msg},
    UC_ERRNO_MAP(ERROR_CASE_)
#undef ERROR_CASE_
};
#define N_CODES (sizeof codes / sizeof codes[0])

static void test_each_code(void **state) {
  (void)state;
  for (size_t i = 0; i < N_CODES; i++) {
    assert_string_equal(uc_strerror(codes[i].code), codes[i].msg);
    assert_string_equal(uc_errname(codes[i].code), codes[i].name);
  }
}

static void test_values_negative_and_distinct(void **state) {
  (void)state;
  for (size_t i = 0; i < N_CODES; i++) {
    if (codes[i].code >= 0)
      fail_msg("%s = %d is not negative", codes[i].name, codes[i].code);
    for (size_t j = i + 1; j < N_CODES; j++)
      if (codes[i].code == codes[j].code)
        fail_msg("%s and %s share the value %d", codes[i].name, codes[j].name, codes[i].code);
  }
}

static void test_success(void **state) {
  (void)state;
  assert_int_equal(UC_OK, 0);
  assert_string_equal(uc_strerror(0), "success");
  assert_string_equal(uc_errname(0), "UC_OK");
}

static void test_unknown(void **state) {
  (void)state;
  /* Below the lowest code is unknown whatever the list holds. */
  int lowest = 0;
  for (size_t i = 0; i < N_CODES; i++)
    if (codes[i].code < lowest)
      lowest = codes[i].code;
  const int unknown[] = {1, -9999, lowest - 1, INT_MIN, INT_MAX};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    assert_string_equal(uc_strerror(unknown[i]), "unknown error");
    assert_string_equal(uc_errname(unknown[i]), "UC_E?");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_code),
      cmocka_unit_test(test_values_negative_and_distinct),
      cmocka_unit_test(test_success),
      cmocka_unit_test(test_unknown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
