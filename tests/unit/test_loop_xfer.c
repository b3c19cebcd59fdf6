/*
 * test_loop_xfer.c - the loop engine's transfer state machine: exactly the
 * moves drawn at the top of src/loop/xfer.c are legal (set_state asserts
 * this table on every transition), and every state but DONE can be left.
 * The engine runs these transitions for real in the integration suite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "loop_int.h"

static void test_legal_moves(void **state) {
  (void)state;
  static const struct {
    xfer_state from, to;
  } legal[] = {
      {XFER_NEW, XFER_RESOLVING},     {XFER_RESOLVING, XFER_RESOLVED},
      {XFER_RESOLVED, XFER_FETCHING}, {XFER_RESOLVED, XFER_DONE},
      {XFER_FETCHING, XFER_FETCHED},  {XFER_FETCHED, XFER_PARSING},
      {XFER_FETCHED, XFER_DONE},      {XFER_PARSING, XFER_DONE},
  };
  for (int from = 0; from < XFER_STATE_COUNT_; from++)
    for (int to = 0; to < XFER_STATE_COUNT_; to++) {
      bool want = false;
      for (size_t i = 0; i < sizeof legal / sizeof *legal; i++)
        want |= legal[i].from == (xfer_state)from && legal[i].to == (xfer_state)to;
      if (loop_xfer_transition_ok((xfer_state)from, (xfer_state)to) != want)
        fail_msg("%d -> %d should be %s", from, to, want ? "legal" : "illegal");
    }
}

static void test_out_of_range(void **state) {
  (void)state;
  assert_false(loop_xfer_transition_ok(XFER_STATE_COUNT_, XFER_DONE));
  assert_false(loop_xfer_transition_ok(XFER_NEW, XFER_STATE_COUNT_));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_legal_moves),
      cmocka_unit_test(test_out_of_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
