/* test_record.c - unit tests for JSON string escaping and crawl records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"
#include "uvcrawl/record.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The out-of-memory tests ask realloc for nearly SIZE_MAX bytes. ASan's
 * default is to abort on such a request; this hook (read by the ASan runtime
 * when present, ignored otherwise) makes it return NULL like glibc does.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "allocator_may_return_null=1";
}

/* {input bytes, input length, expected JSON literal}. */
typedef struct escape_case {
  const char *in;
  size_t len;
  const char *want;
} escape_case;

#define S(lit) lit, sizeof(lit) - 1
#define R "\\ufffd"

static const escape_case escape_cases[] = {
    /* plain and escaped ASCII */
    {S(""), "\"\""},
    {S("abc"), "\"abc\""},
    {S("a/b"), "\"a/b\""},
    {S("\""), "\"\\\"\""},
    {S("\\"), "\"\\\\\""},
    {S("say \"hi\"\\n"), "\"say \\\"hi\\\"\\\\n\""},
    {S("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\""},
    {S("\0"), "\"\\u0000\""},
    {S("a\0b"), "\"a\\u0000b\""},
    {S("\x01"), "\"\\u0001\""},
    {S("\x0b"), "\"\\u000b\""},
    {S("\x1b[0m"), "\"\\u001b[0m\""},
    {S("\x1f"), "\"\\u001f\""},
    {S("\x7f"), "\"\\u007f\""},
    {S(" ~"), "\" ~\""},
    /* valid UTF-8 passes through */
    {S("\xC2\x80"), "\"\xC2\x80\""},
    {S("caf\xC3\xA9"), "\"caf\xC3\xA9\""},
    {S("\xDF\xBF"), "\"\xDF\xBF\""},
    {S("\xE0\xA0\x80"), "\"\xE0\xA0\x80\""},
    {S("\xE2\x82\xAC"), "\"\xE2\x82\xAC\""},
    {S("\xED\x9F\xBF"), "\"\xED\x9F\xBF\""},
    {S("\xEE\x80\x80"), "\"\xEE\x80\x80\""},
    {S("\xEF\xBF\xBD"), "\"\xEF\xBF\xBD\""},
    {S("\xE3\x83\x84"), "\"\xE3\x83\x84\""},
    {S("\xF0\x90\x80\x80"), "\"\xF0\x90\x80\x80\""},
    {S("\xF0\x9F\x98\x80!"), "\"\xF0\x9F\x98\x80!\""},
    {S("\xF4\x8F\xBF\xBF"), "\"\xF4\x8F\xBF\xBF\""},
    /* line and paragraph separators are escaped for JavaScript */
    {S("\xE2\x80\xA8"), "\"\\u2028\""},
    {S("a\xE2\x80\xA9z"), "\"a\\u2029z\""},
    {S("\xE2\x80\xA7\xE2\x80\xAA"), "\"\xE2\x80\xA7\xE2\x80\xAA\""},
    /* stray continuation bytes */
    {S("\x80"), "\"" R "\""},
    {S("\xBF"), "\"" R "\""},
    {S("a\x80\x80z"), "\"a" R R "z\""},
    /* overlong forms */
    {S("\xC0\xAF"), "\"" R R "\""},
    {S("\xC1\xBF"), "\"" R R "\""},
    {S("\xE0\x80\xAF"), "\"" R R R "\""},
    {S("\xE0\x9F\xBF"), "\"" R R R "\""},
    {S("\xF0\x80\x80\xAF"), "\"" R R R R "\""},
    {S("\xF0\x8F\xBF\xBF"), "\"" R R R R "\""},
    /* UTF-16 surrogates */
    {S("\xED\xA0\x80"), "\"" R R R "\""},
    {S("\xED\xBF\xBF"), "\"" R R R "\""},
    {S("\xED\xA0\xBD\xED\xB8\x80"), "\"" R R R R R R "\""},
    /* beyond U+10FFFF, and bytes that never lead */
    {S("\xF4\x90\x80\x80"), "\"" R R R R "\""},
    {S("\xF5\x80\x80\x80"), "\"" R R R R "\""},
    {S("\xF8\x88\x80\x80\x80"), "\"" R R R R R "\""},
    {S("\xFE"), "\"" R "\""},
    {S("\xFF"), "\"" R "\""},
    /* truncated sequences */
    {S("\xC3"), "\"" R "\""},
    {S("\xC3 "), "\"" R " \""},
    {S("\xE2\x82"), "\"" R R "\""},
    {S("\xE2\x82z"), "\"" R R "z\""},
    {S("\xF0\x9F\x98"), "\"" R R R "\""},
    {S("\xF0\x9F\x98\xC3\xA9"), "\"" R R R "\xC3\xA9\""},
    {S("\xE2\xE2\x82\xAC"), "\"" R "\xE2\x82\xAC\""},
};

static void test_escape_table(void **state) {
  (void)state;
  for (size_t i = 0; i < ARRAY_LEN(escape_cases); i++) {
    const escape_case *c = &escape_cases[i];
    uc_buf b = UC_BUF_INIT;
    assert_int_equal(uc_json_append_string(&b, c->in, c->len), 0);
    if (strcmp(b.data, c->want) != 0)
      fail_msg("case %zu: got %s want %s", i, b.data, c->want);
    assert_int_equal(b.len, strlen(c->want));
    uc_buf_free(&b);
  }
}

/* Every byte below 0x20 has an escape; none goes out raw. */
static void test_escape_all_controls(void **state) {
  (void)state;
  static const char *const short_form[32] = {
      ['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t",
  };
  for (unsigned c = 0; c < 32; c++) {
    char in = (char)c;
    char want[16];
    if (short_form[c] != NULL)
      snprintf(want, sizeof want, "\"%s\"", short_form[c]);
    else
      snprintf(want, sizeof want, "\"\\u%04x\"", c);
    uc_buf b = UC_BUF_INIT;
    assert_int_equal(uc_json_append_string(&b, &in, 1), 0);
    assert_string_equal(b.data, want);
    uc_buf_free(&b);
  }
}

static void test_string0_and_append(void **state) {
  (void)state;
  uc_buf b = UC_BUF_INIT;
  assert_int_equal(uc_buf_puts(&b, "["), 0);
  assert_int_equal(uc_json_append_string0(&b, NULL), 0);
  assert_int_equal(uc_buf_puts(&b, ","), 0);
  assert_int_equal(uc_json_append_string0(&b, "x\ty"), 0);
  assert_int_equal(uc_buf_puts(&b, ","), 0);
  assert_int_equal(uc_json_append_string0(&b, ""), 0);
  assert_int_equal(uc_buf_puts(&b, ","), 0);
  assert_int_equal(uc_json_append_string(&b, NULL, 0), 0);
  assert_int_equal(uc_buf_puts(&b, "]"), 0);
  assert_string_equal(b.data, "[null,\"x\\ty\",\"\",\"\"]");
  uc_buf_free(&b);
}

static void test_long_strings(void **state) {
  (void)state;
  size_t n = 1 << 20;
  char *s = malloc(n);
  assert_non_null(s);

  memset(s, 'a', n);
  uc_buf b = UC_BUF_INIT;
  assert_int_equal(uc_json_append_string(&b, s, n), 0);
  assert_int_equal(b.len, n + 2);
  assert_true(b.data[0] == '"' && b.data[n + 1] == '"' && b.data[n] == 'a');
  uc_buf_free(&b);

  memset(s, '\n', n);
  assert_int_equal(uc_json_append_string(&b, s, n), 0);
  assert_int_equal(b.len, 2 * n + 2);
  assert_memory_equal(b.data, "\"\\n\\n", 5);
  uc_buf_free(&b);

  /* A run of invalid bytes: six output bytes for each. */
  memset(s, '\xff', n);
  assert_int_equal(uc_json_append_string(&b, s, n), 0);
  assert_int_equal(b.len, 6 * n + 2);
  uc_buf_free(&b);
  free(s);
}

/* A buffer whose next allocation must fail: realloc of nearly SIZE_MAX. */
static uc_buf doomed_buf(void) {
  uc_buf b = {malloc(16), SIZE_MAX - 64, 16};
  assert_non_null(b.data);
  return b;
}

static void test_out_of_memory(void **state) {
  (void)state;
  uc_record r = {.url = "http://a.test/", .engine = "loop", .attempts = 1};
  uc_buf b = doomed_buf();
  char *data = b.data;
  assert_int_equal(uc_record_format(&b, &r), UC_ENOMEM);
  assert_int_equal(b.len, SIZE_MAX - 64);
  assert_ptr_equal(b.data, data);
  assert_int_equal(uc_json_append_string(&b, "x", 1), UC_ENOMEM);
  assert_int_equal(b.len, SIZE_MAX - 64);
  assert_int_equal(uc_json_append_string0(&b, "x"), UC_ENOMEM);
  assert_int_equal(b.len, SIZE_MAX - 64);
  free(data);
}

static const uc_record null_record = {
    .url = "http://a.test/",
    .final_url = NULL,
    .status = 0,
    .depth = 0,
    .parent = NULL,
    .content_type = NULL,
    .bytes = 0,
    .fetch_ms = 0.0,
    .links = -1,
    .new_links = -1,
    .error = "dns",
    .engine = "loop",
    .attempts = 1,
};

static const uc_record full_record = {
    .url = "http://h0001.test/a?b=1",
    .final_url = "http://h0001.test/b",
    .status = 200,
    .depth = 3,
    .parent = "http://h0001.test/",
    .content_type = "text/html; charset=\"utf-8\"",
    .bytes = UINT64_MAX,
    .fetch_ms = 12.34,
    .links = 35,
    .new_links = 20,
    .error = NULL,
    .engine = "threads",
    .attempts = 2,
};

static void test_record_exact(void **state) {
  (void)state;
  uc_buf b = UC_BUF_INIT;
  assert_int_equal(uc_record_format(&b, &null_record), 0);
  assert_string_equal(b.data, "{\"url\":\"http://a.test/\",\"final_url\":null,\"status\":null,"
                              "\"depth\":0,\"parent\":null,\"content_type\":null,\"bytes\":0,"
                              "\"fetch_ms\":0.0,\"links\":null,\"new_links\":null,"
                              "\"error\":\"dns\",\"engine\":\"loop\",\"attempts\":1}\n");

  /* A second record is appended after the first. */
  size_t first = b.len;
  assert_int_equal(uc_record_format(&b, &full_record), 0);
  assert_string_equal(b.data + first,
                      "{\"url\":\"http://h0001.test/a?b=1\",\"final_url\":\"http://h0001.test/b\","
                      "\"status\":200,\"depth\":3,\"parent\":\"http://h0001.test/\","
                      "\"content_type\":\"text/html; charset=\\\"utf-8\\\"\","
                      "\"bytes\":18446744073709551615,\"fetch_ms\":12.3,\"links\":35,"
                      "\"new_links\":20,\"error\":null,\"engine\":\"threads\",\"attempts\":2}\n");
  uc_buf_free(&b);

  /* NULL url and engine are null; zero counts are numbers, not null. */
  uc_record r = {.links = 0, .new_links = 0, .status = 404, .fetch_ms = NAN};
  assert_int_equal(uc_record_format(&b, &r), 0);
  assert_string_equal(b.data, "{\"url\":null,\"final_url\":null,\"status\":404,\"depth\":0,"
                              "\"parent\":null,\"content_type\":null,\"bytes\":0,"
                              "\"fetch_ms\":null,\"links\":0,\"new_links\":0,\"error\":null,"
                              "\"engine\":null,\"attempts\":0}\n");
  uc_buf_free(&b);

  /* Passwords in the three URLs are masked. */
  r = (uc_record){.url = "http://u:secret@a.test/x", .final_url = "http://u:secret@a.test/y",
                  .parent = "http://v:hush@a.test/", .links = -1, .new_links = -1};
  assert_int_equal(uc_record_format(&b, &r), 0);
  assert_non_null(strstr(b.data, "{\"url\":\"http://u:*password*@a.test/x\","
                                  "\"final_url\":\"http://u:*password*@a.test/y\","));
  assert_non_null(strstr(b.data, "\"parent\":\"http://v:*password*@a.test/\""));
  assert_null(strstr(b.data, "secret"));
  assert_null(strstr(b.data, "hush"));
  uc_buf_free(&b);

  /* --record-headers: the headers present, by key, after attempts. */
  const char *hdrs[UC_RECORD_HEADER_COUNT] = {NULL};
  hdrs[UC_RECORD_HEADER_ETAG] = "\"v1\"";
  hdrs[UC_RECORD_HEADER_CONTENT_LENGTH] = "12";
  r = (uc_record){.url = "http://t.test/", .status = 200, .links = -1, .new_links = -1,
                  .engine = "loop", .attempts = 1, .headers = hdrs};
  assert_int_equal(uc_record_format(&b, &r), 0);
  assert_non_null(strstr(b.data, "\"attempts\":1,\"headers\":{\"content-length\":\"12\","
                                  "\"etag\":\"\\\"v1\\\"\"}}\n"));
  uc_buf_free(&b);
  hdrs[UC_RECORD_HEADER_ETAG] = hdrs[UC_RECORD_HEADER_CONTENT_LENGTH] = NULL;
  assert_int_equal(uc_record_format(&b, &r), 0);
  assert_non_null(strstr(b.data, "\"attempts\":1,\"headers\":{}}\n"));
  uc_buf_free(&b);
  assert_string_equal(uc_record_header_name(UC_RECORD_HEADER_LAST_MODIFIED), "Last-Modified");
  assert_null(uc_record_header_name(UC_RECORD_HEADER_COUNT));

  /* A body cut at --max-body: "truncated":true after attempts, else no key. */
  r = (uc_record){.url = "http://t.test/", .status = 200, .links = 3, .new_links = 1,
                  .engine = "loop", .attempts = 1, .truncated = true};
  assert_int_equal(uc_record_format(&b, &r), 0);
  assert_non_null(strstr(b.data, "\"attempts\":1,\"truncated\":true}\n"));
  uc_buf_free(&b);

  /* A cause follows attempts, only when there is one. */
  r = (uc_record){.url = "http://t.test/", .links = -1, .new_links = -1, .error = "robots",
                  .engine = "loop", .cause = "tls"};
  assert_int_equal(uc_record_format(&b, &r), 0);
  assert_string_equal(b.data, "{\"url\":\"http://t.test/\",\"final_url\":null,\"status\":null,"
                              "\"depth\":0,\"parent\":null,\"content_type\":null,\"bytes\":0,"
                              "\"fetch_ms\":0.0,\"links\":null,\"new_links\":null,"
                              "\"error\":\"robots\",\"engine\":\"loop\",\"attempts\":0,"
                              "\"cause\":\"tls\"}\n");
  uc_buf_free(&b);

  /* HTTP and TLS versions and the handshake follow attempts, each only when set. */
  static const struct {
    const char *http, *tls, *handshake, *want;
  } versions[] = {
      {"2", "TLSv1.3", "resumed",
       "\"attempts\":1,\"http_version\":\"2\",\"tls_version\":\"TLSv1.3\","
       "\"tls_handshake\":\"resumed\"}\n"},
      {"2", "TLSv1.3", NULL, "\"attempts\":1,\"http_version\":\"2\",\"tls_version\":\"TLSv1.3\"}\n"},
      {"1.1", NULL, NULL, "\"attempts\":1,\"http_version\":\"1.1\"}\n"},
      {NULL, NULL, NULL, "\"attempts\":1}\n"},
  };
  for (size_t i = 0; i < sizeof versions / sizeof *versions; i++) {
    r = (uc_record){.url = "https://t.test/", .status = 200, .links = 0, .new_links = 0,
                    .engine = "loop", .attempts = 1, .http_version = versions[i].http,
                    .tls_version = versions[i].tls, .tls_handshake = versions[i].handshake};
    assert_int_equal(uc_record_format(&b, &r), 0);
    if (strstr(b.data, versions[i].want) == NULL)
      fail_msg("case %zu: %s lacks %s", i, b.data, versions[i].want);
    uc_buf_free(&b);
  }
}

/* {fetch_ms, its JSON}. */
typedef struct ms_case {
  double ms;
  const char *want;
} ms_case;

static void test_fetch_ms(void **state) {
  (void)state;
  static const ms_case cases[] = {
      {0.0, "0.0"},
      {12.3, "12.3"},
      {12.34, "12.3"},
      {12.36, "12.4"},
      {0.04, "0.0"},
      {0.06, "0.1"},
      {99.96, "100.0"},
      {1.0, "1.0"},
      {1234567.89, "1234567.9"},
      {-0.0, "0.0"},
      {-0.04, "0.0"},
      {-2.5, "-2.5"},
      {1e15, "1000000000000000.0"},
      {1e20, "100000000000000000000.0"},
      {NAN, "null"},
      {INFINITY, "null"},
      {-INFINITY, "null"},
  };
  for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
    uc_record r = null_record;
    r.fetch_ms = cases[i].ms;
    uc_buf b = UC_BUF_INIT;
    assert_int_equal(uc_record_format(&b, &r), 0);
    const char *at = strstr(b.data, "\"fetch_ms\":");
    assert_non_null(at);
    at += strlen("\"fetch_ms\":");
    size_t n = strlen(cases[i].want);
    if (strncmp(at, cases[i].want, n) != 0 || at[n] != ',')
      fail_msg("case %zu (%g): got %.30s want %s", i, cases[i].ms, at, cases[i].want);
    uc_buf_free(&b);
  }
}

/* Is s[0..n) well-formed UTF-8? Written apart from record.c's checker. */
static bool valid_utf8(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint32_t cp;
    size_t k;
    if (s[i] < 0x80) {
      i++;
      continue;
    } else if ((s[i] & 0xE0) == 0xC0) {
      cp = s[i] & 0x1F, k = 1;
    } else if ((s[i] & 0xF0) == 0xE0) {
      cp = s[i] & 0x0F, k = 2;
    } else if ((s[i] & 0xF8) == 0xF0) {
      cp = s[i] & 0x07, k = 3;
    } else {
      return false;
    }
    if (n - i <= k)
      return false;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80)
        return false;
      cp = cp << 6 | (s[i + j] & 0x3F);
    }
    static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += k + 1;
  }
  return true;
}

static int hexdig(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes the JSON string literal at s (BMP \u escapes only), to UTF-8. */
static size_t json_decode(const char *s, size_t n, char *out) {
  size_t o = 0;
  assert_true(n >= 2 && s[0] == '"' && s[n - 1] == '"');
  for (size_t i = 1; i < n - 1; i++) {
    if (s[i] != '\\') {
      out[o++] = s[i];
      continue;
    }
    char e = s[++i];
    switch (e) {
    case '"':
      out[o++] = '"';
      break;
    case '\\':
      out[o++] = '\\';
      break;
    case '/':
      out[o++] = '/';
      break;
    case 'b':
      out[o++] = '\b';
      break;
    case 'f':
      out[o++] = '\f';
      break;
    case 'n':
      out[o++] = '\n';
      break;
    case 'r':
      out[o++] = '\r';
      break;
    case 't':
      out[o++] = '\t';
      break;
    case 'u': {
      uint32_t cp = 0;
      for (int k = 0; k < 4; k++) {
        int d = hexdig(s[++i]);
        assert_true(d >= 0);
        cp = cp << 4 | (uint32_t)d;
      }
      if (cp < 0x80) {
        out[o++] = (char)cp;
      } else if (cp < 0x800) {
        out[o++] = (char)(0xC0 | cp >> 6);
        out[o++] = (char)(0x80 | (cp & 0x3F));
      } else {
        out[o++] = (char)(0xE0 | cp >> 12);
        out[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[o++] = (char)(0x80 | (cp & 0x3F));
      }
      break;
    }
    default:
      fail_msg("bad escape \\%c", e);
    }
  }
  return o;
}

static uint32_t lcg(uint32_t *x) {
  *x = *x * 1103515245u + 12345u;
  return *x >> 16;
}

/* Valid UTF-8 in, the same bytes back out of a JSON decoder. */
static void test_round_trip_valid(void **state) {
  (void)state;
  /* clang-format off */
  static const char *const pieces[] = {
      "a", "Z", " ", "\"", "\\", "/", "\n", "\r", "\t", "\b", "\f", "\x01", "\x1f", "\x7f",
      "\0", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xE2\x80\xA8", "\xE2\x80\xA9",
      "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF"};
  /* clang-format on */
  uint32_t x = 7;
  char in[1024], back[1024];
  for (int round = 0; round < 2000; round++) {
    size_t n = 0, count = lcg(&x) % 64;
    for (size_t k = 0; k < count; k++) {
      size_t p = lcg(&x) % ARRAY_LEN(pieces);
      size_t plen = pieces[p][0] == '\0' ? 1 : strlen(pieces[p]);
      memcpy(in + n, pieces[p], plen);
      n += plen;
    }
    uc_buf b = UC_BUF_INIT;
    assert_int_equal(uc_json_append_string(&b, in, n), 0);
    assert_true(b.len <= sizeof back);
    size_t m = json_decode(b.data, b.len, back);
    assert_int_equal(m, n);
    assert_memory_equal(back, in, n);
    uc_buf_free(&b);
  }
}

/* Any bytes in any field: still one line, valid UTF-8, no raw controls. */
static void test_record_is_one_clean_line(void **state) {
  (void)state;
  uint32_t x = 99;
  char fields[4][200];
  for (int round = 0; round < 2000; round++) {
    for (int f = 0; f < 4; f++) {
      size_t n = lcg(&x) % (sizeof fields[f] - 1);
      for (size_t k = 0; k < n; k++)
        fields[f][k] = (char)(lcg(&x) % 255 + 1); /* any byte but NUL */
      fields[f][n] = '\0';
    }
    uc_record r = full_record;
    r.url = fields[0];
    r.final_url = fields[1];
    r.error = fields[2];
    r.content_type = fields[3];
    uc_buf b = UC_BUF_INIT;
    assert_int_equal(uc_record_format(&b, &r), 0);
    assert_true(b.len >= 3 && b.data[0] == '{' && b.data[b.len - 2] == '}');
    assert_true(b.data[b.len - 1] == '\n');
    for (size_t i = 0; i + 1 < b.len; i++) {
      unsigned char c = (unsigned char)b.data[i];
      if (c < 0x20 || c == 0x7f)
        fail_msg("raw control 0x%02x at %zu", c, i);
    }
    assert_true(valid_utf8((const unsigned char *)b.data, b.len));
    assert_null(strstr(b.data, "\xE2\x80\xA8"));
    assert_null(strstr(b.data, "\xE2\x80\xA9"));
    uc_buf_free(&b);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_escape_table),
      cmocka_unit_test(test_escape_all_controls),
      cmocka_unit_test(test_string0_and_append),
      cmocka_unit_test(test_long_strings),
      cmocka_unit_test(test_out_of_memory),
      cmocka_unit_test(test_record_exact),
      cmocka_unit_test(test_fetch_ms),
      cmocka_unit_test(test_round_trip_valid),
      cmocka_unit_test(test_record_is_one_clean_line),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
