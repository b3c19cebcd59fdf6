/* test_charset.c - declared encodings and conversion (charset.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "uvcrawl/charset.h"
#include "uvcrawl/extract.h"

static void test_detect(void **state) {
  (void)state;
  static const struct {
    const char *content_type, *body, *expected;
  } cases[] = {
      {"text/html; charset=ISO-8859-1", "", "iso-8859-1"},
      {"text/html;charset=\"Shift_JIS\"", "", "shift_jis"},
      {"text/html", "<html><head><meta charset=\"windows-1251\">", "windows-1251"},
      {NULL, "<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=koi8-r\">",
       "koi8-r"},
      {"text/html; charset=utf-8", "<meta charset=latin1>", "utf-8"}, /* header wins */
      {"text/html", "<p>no declaration</p>", ""},
      {"text/html", "<p>charset=big5 in text, not a meta</p>", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char buf[32];
    uc_charset_detect(cases[i].content_type, cases[i].body, strlen(cases[i].body), buf,
                      sizeof buf);
    assert_string_equal(buf, cases[i].expected);
  }
}

/* A latin-1 href resolves to the UTF-8 percent-encoding a browser sends. */
static void test_latin1_href(void **state) {
  (void)state;
  const char body[] = "<meta charset=iso-8859-1><a href=\"/caf\xe9.html\">x</a>";
  char *utf8 = NULL;
  size_t len = 0;
  assert_int_equal(uc_charset_to_utf8("text/html", body, sizeof body - 1, &utf8, &len), 0);
  assert_non_null(utf8);
  uc_links links;
  assert_int_equal(uc_extract(utf8, len, "http://a.test/", NULL, &links), 0);
  assert_int_equal(links.count, 1);
  assert_string_equal(links.urls[0], "http://a.test/caf%C3%A9.html");
  uc_links_free(&links);
  free(utf8);
}

static void test_passthrough_and_unknown(void **state) {
  (void)state;
  char *out = (char *)1;
  size_t len = 1;
  assert_int_equal(uc_charset_to_utf8("text/html; charset=utf-8", "x", 1, &out, &len), 0);
  assert_null(out); /* no copy needed */
  assert_int_equal(uc_charset_to_utf8("text/html; charset=no-such-thing", "x", 1, &out, &len), 0);
  assert_null(out);
  const char sjis[] = "<a href=\"/\x83\x65\x83\x58\x83\x67\">t</a>"; /* "テスト" */
  assert_int_equal(uc_charset_to_utf8("text/html; charset=shift_jis", sjis, sizeof sjis - 1,
                                      &out, &len), 0);
  assert_non_null(out);
  assert_non_null(memmem(out, len, "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88", 9));
  free(out);
  const char bad[] = "\x81\x81\x81"; /* invalid in Shift_JIS: replaced, not dropped */
  assert_int_equal(uc_charset_to_utf8("text/html; charset=shift_jis", bad, 3, &out, &len), 0);
  assert_non_null(memmem(out, len, "\xef\xbf\xbd", 3));
  free(out);
}

/* uc_charset_as_is says what uc_charset_to_utf8 decides, converting nothing. */
static void test_as_is(void **state) {
  (void)state;
  static const struct {
    const char *content_type, *body;
    bool as_is;
  } cases[] = {
      {"text/html; charset=utf-8", "x", true},
      {"text/html", "<p>no label</p>", true},
      {NULL, "<meta charset=us-ascii>", true},
      {"text/html; charset=no-such-thing", "x", true},
      {"text/html; charset=shift_jis", "x", false},
      {"text/html", "<meta charset=iso-8859-1>", false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = strlen(cases[i].body), len = 0;
    char *out = NULL;
    assert_int_equal(uc_charset_as_is(cases[i].content_type, cases[i].body, n), cases[i].as_is);
    assert_int_equal(uc_charset_to_utf8(cases[i].content_type, cases[i].body, n, &out, &len), 0);
    assert_int_equal(out == NULL, cases[i].as_is);
    free(out);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_detect),
      cmocka_unit_test(test_latin1_href),
      cmocka_unit_test(test_passthrough_and_unknown),
      cmocka_unit_test(test_as_is),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
