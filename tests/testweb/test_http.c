/* test_http.c - table-driven unit tests for testweb's request parser and
 * site routing (no sockets). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"
#include "site.h"

static const struct {
  const char *in;
  int rc;            /* > 0: expect the whole input consumed */
  const char *target;
  const char *host;
  int keep_alive, gzip;
} http_cases[] = {
  {"GET / HTTP/1.1\r\nHost: h0001.test\r\n\r\n", 1, "/", "h0001.test", 1, 0},
  {"GET /a HTTP/1.1\r\nHost:h0001.test:99 \r\nConnection: close\r\n\r\n", 1,
   "/a", "h0001.test:99", 0, 0},
  {"HEAD /x HTTP/1.0\r\nHost: a\r\n\r\n", 1, "/x", "a", 0, 0},
  {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1, "/", "", 1, 0},
  {"GET / HTTP/1.1\nHost: a\nAccept-Encoding: br, GZIP;q=1\n\n", 1, "/", "a",
   1, 1},
  {"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 1, "/", "a", 1, 0},
  {"GET http://H0002.test:8/p?q HTTP/1.1\r\nHost: other\r\n\r\n", 1, "/p?q",
   "H0002.test:8", 1, 0},
  {"GET / HTTP/1.1\r\nHost: a\r\n", 0, NULL, NULL, 0, 0},
  {"GET / HTTP/1.1\r\n\r\n", TW_HTTP_EBAD, NULL, NULL, 0, 0},
  {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", TW_HTTP_EBAD, NULL, NULL, 0, 0},
  {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", TW_HTTP_EBAD, NULL, NULL, 0, 0},
  {"get / HTTP/1.1\r\nHost: a\r\n\r\n", TW_HTTP_EBAD, NULL, NULL, 0, 0},
  {"GET / HTTP/1.1\r\nHost a\r\n\r\n", TW_HTTP_EBAD, NULL, NULL, 0, 0},
  {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", TW_HTTP_EBAD, NULL, NULL, 0, 0},
  {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", TW_HTTP_EBAD, NULL, NULL, 0, 0},
  {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", TW_HTTP_EBAD, NULL, NULL, 0, 0},
  {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", TW_HTTP_EBAD,
   NULL, NULL, 0, 0},
  {"GET x HTTP/1.1\r\nHost: a\r\n\r\n", TW_HTTP_EBAD, NULL, NULL, 0, 0},
};

static void test_parse_table(void **state)
{
  for (size_t i = 0; i < sizeof(http_cases) / sizeof(http_cases[0]); i++) {
    tw_http_req req;
    const char *in = http_cases[i].in;
    int rc = tw_http_parse(in, strlen(in), 16384, &req);
    if (http_cases[i].rc > 0) {
      assert_int_equal(rc, (int)strlen(in));
      assert_string_equal(req.target, http_cases[i].target);
      assert_string_equal(req.host, http_cases[i].host);
      assert_int_equal(req.keep_alive, http_cases[i].keep_alive);
      assert_int_equal(req.accept_gzip, http_cases[i].gzip);
    } else {
      assert_int_equal(rc, http_cases[i].rc);
    }
  }
}

static void test_parse_limits(void **state)
{
  char big[20000];
  tw_http_req req;
  memset(big, 'a', sizeof(big));
  memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
  assert_int_equal(tw_http_parse(big, sizeof(big), 16384, &req),
                   TW_HTTP_ETOOBIG);
  /* a long target is 414, not a crash */
  char uri[3000];
  memset(uri, 'b', sizeof(uri));
  memcpy(uri, "GET /", 5);
  memcpy(uri + 2970, " HTTP/1.1\r\nHost: a\r\n\r\n", 23);
  assert_int_equal(tw_http_parse(uri, 2993, 16384, &req), TW_HTTP_EURI);
  /* pipelined: only the first head is consumed */
  const char *two = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\n";
  assert_int_equal(tw_http_parse(two, strlen(two), 16384, &req), 28);
  assert_string_equal(req.target, "/1");
}

static void test_site_routes(void **state)
{
  tw_site_opts o = {.seed = 1, .hosts = 12, .pages = 100, .links = 20};
  static const struct {
    const char *path;
    tw_route_kind kind;
    long arg;
  } cases[] = {
    {"/", TW_R_PAGE, 0},
    {"/d3/p13.html", TW_R_PAGE, 13},
    {"/d3/p13.html?x", TW_R_PAGE, 13},
    {"/d4/p13.html", TW_R_NOTFOUND, 0},
    {"/d3/p013.html", TW_R_NOTFOUND, 0},
    {"/d0/p100.html", TW_R_NOTFOUND, 0},
    {"/d3/p13r.html", TW_R_ALIAS, 13},
    {"/missing/7.html", TW_R_MISSING, 7},
    {"/nofollow/7.html", TW_R_NOFOLLOW, 7},
    {"/fault/redirect/4", TW_R_FREDIRECT, 4},
    {"/fault/429?after=9", TW_R_F429, 9},
    {"/fault/flaky/3/abc", TW_R_FFLAKY, 3},
    {"/fault/flaky/3/", TW_R_NOTFOUND, 0},
    {"/robots.txt", TW_R_ROBOTS, 0},
    {"/fault/loop2", TW_R_FLOOP2, 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    tw_route r = tw_site_route(&o, cases[i].path);
    assert_int_equal(r.kind, cases[i].kind);
    if (r.kind != TW_R_NOTFOUND)
      assert_int_equal(r.arg, cases[i].arg);
  }
  assert_int_equal(tw_site_host_parse(&o, "h0012.test"), 12);
  assert_int_equal(tw_site_host_parse(&o, "H0003.TEST:8080"), 3);
  assert_int_equal(tw_site_host_parse(&o, "h0013.test"), 0);
  assert_int_equal(tw_site_host_parse(&o, "h3.test"), 0);
  assert_int_equal(tw_site_host_parse(&o, "h0000.test"), 0);
  assert_int_equal(tw_site_host_parse(&o, ""), 0);
}

static void test_site_links(void **state)
{
  tw_site_opts o = {.seed = 5, .hosts = 4, .pages = 50, .links = 30,
                    .cross_pct = 20, .broken_pct = 5};
  tw_link a[30], b[30];
  for (int h = 1; h <= 4; h++) {
    for (int p = 0; p < 50; p++) {
      memset(a, 0, sizeof(a)); /* hrefs are compared past their NULs */
      memset(b, 0, sizeof(b));
      tw_site_page_links(&o, h, p, 8080, a);
      tw_site_page_links(&o, h, p, 8080, b);
      assert_memory_equal(a, b, sizeof(a));
      for (int i = 0; i < 30; i++) {
        assert_true(a[i].host >= 1 && a[i].host <= 4);
        assert_true((a[i].page >= 0) != (a[i].missing >= 0));
        assert_true(a[i].page < 50);
      }
    }
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse_table),
    cmocka_unit_test(test_parse_limits),
    cmocka_unit_test(test_site_routes),
    cmocka_unit_test(test_site_links),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
