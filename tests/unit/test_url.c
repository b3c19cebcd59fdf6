/* test_url.c - unit tests for url.c: resolution, normalization, parts. */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"
#include "uvcrawl/url.h"

#define RFC_BASE "http://a/b/c/d;p?q"

struct resolve_case {
  const char *base;
  const char *ref;
  int rc;               /* expected return */
  const char *expected; /* expected URL when rc == 0 */
};

/* The parts that resolution recorded for `url` agree with what the
 * one-part functions give when they parse it again. */
static void check_parts(const char *url, const uc_url_parts *p) {
  char host[1024], *origin = NULL, *path = NULL;
  int port = 0;
  assert_int_equal(uc_url_host_port(url, host, sizeof host, &port), 0);
  assert_int_equal(p->host_len, strlen(host));
  assert_memory_equal(url + p->host_off, host, p->host_len);
  assert_int_equal(p->port, port);
  assert_int_equal(uc_url_origin(url, &origin), 0);
  uc_buf b = UC_BUF_INIT;
  assert_int_equal(uc_url_parts_origin(url, p, &b), 0);
  assert_string_equal(b.data, origin);
  assert_int_equal(uc_url_path_query(url, &path), 0);
  assert_string_equal(url + p->path_off, path);
  assert_true(p->scheme_len == 4 || p->scheme_len == 5);
  uc_url_parts again;
  assert_int_equal(uc_url_parts_of(url, &again), 0);
  assert_true(again.scheme_len == p->scheme_len && again.host_off == p->host_off &&
              again.host_len == p->host_len && again.path_off == p->path_off &&
              again.port == p->port && again.userinfo == p->userinfo);
  uc_buf_free(&b);
  free(origin);
  free(path);
}

/* The same case through a base parsed once: same result, and its parts. */
static void check_parsed_base(size_t i, const struct resolve_case *c) {
  uc_url_base *base = NULL;
  if (c->base != NULL && uc_url_base_new(c->base, &base) != 0)
    return; /* a bad base: uc_url_resolve fails on relative refs alone */
  char *out = NULL;
  uc_url_parts parts;
  int rc = uc_url_resolve_at(base, c->ref, &out, &parts);
  if (rc != c->rc || (rc == 0 && strcmp(out, c->expected) != 0))
    fail_msg("case %zu: resolve_at(%s, \"%s\") = %s \"%s\", expected %s \"%s\"", i,
             c->base ? c->base : "NULL", c->ref, uc_errname(rc), out ? out : "",
             uc_errname(c->rc), c->expected ? c->expected : "");
  if (rc == 0)
    check_parts(out, &parts);
  free(out);
  uc_url_base_free(base);
}

static void check_resolve_cases(const struct resolve_case *cases, size_t n) {
  for (size_t i = 0; i < n; i++) {
    check_parsed_base(i, &cases[i]);
    const struct resolve_case *c = &cases[i];
    char *out = NULL;
    int rc = uc_url_resolve(c->base, c->ref, &out);
    if (rc != c->rc || (rc == 0 && strcmp(out, c->expected) != 0))
      fail_msg("case %zu: resolve(%s, \"%s\") = %s \"%s\", expected %s \"%s\"", i,
               c->base ? c->base : "NULL", c->ref, uc_errname(rc), out ? out : "",
               uc_errname(c->rc), c->expected ? c->expected : "");
    if (rc == 0) {
      /* A normal form is a fixed point. */
      char *again = NULL;
      assert_int_equal(uc_url_normalize(out, &again), 0);
      assert_string_equal(again, out);
      free(again);
    } else {
      assert_null(out);
    }
    free(out);
  }
}

/* RFC 3986 5.4.1, every example. "g:h" is a scheme we do not crawl. */
static void test_rfc3986_normal(void **state) {
  static const struct resolve_case cases[] = {
      {RFC_BASE, "g:h", UC_ESCHEME, NULL},
      {RFC_BASE, "g", 0, "http://a/b/c/g"},
      {RFC_BASE, "./g", 0, "http://a/b/c/g"},
      {RFC_BASE, "g/", 0, "http://a/b/c/g/"},
      {RFC_BASE, "/g", 0, "http://a/g"},
      {RFC_BASE, "//g", 0, "http://g/"}, /* RFC "http://g", empty path -> "/" */
      {RFC_BASE, "?y", 0, "http://a/b/c/d;p?y"},
      {RFC_BASE, "g?y", 0, "http://a/b/c/g?y"},
      {RFC_BASE, "#s", 0, "http://a/b/c/d;p?q"}, /* fragment dropped */
      {RFC_BASE, "g#s", 0, "http://a/b/c/g"},
      {RFC_BASE, "g?y#s", 0, "http://a/b/c/g?y"},
      {RFC_BASE, ";x", 0, "http://a/b/c/;x"},
      {RFC_BASE, "g;x", 0, "http://a/b/c/g;x"},
      {RFC_BASE, "g;x?y#s", 0, "http://a/b/c/g;x?y"},
      {RFC_BASE, "", 0, "http://a/b/c/d;p?q"},
      {RFC_BASE, ".", 0, "http://a/b/c/"},
      {RFC_BASE, "./", 0, "http://a/b/c/"},
      {RFC_BASE, "..", 0, "http://a/b/"},
      {RFC_BASE, "../", 0, "http://a/b/"},
      {RFC_BASE, "../g", 0, "http://a/b/g"},
      {RFC_BASE, "../..", 0, "http://a/"},
      {RFC_BASE, "../../", 0, "http://a/"},
      {RFC_BASE, "../../g", 0, "http://a/g"},
  };
  check_resolve_cases(cases, sizeof cases / sizeof cases[0]);
}

/* RFC 3986 5.4.2, every example. For "http:g" we take the RFC's "for
 * backward compatibility" reading, which is also what WHATWG and browsers do. */
static void test_rfc3986_abnormal(void **state) {
  static const struct resolve_case cases[] = {
      {RFC_BASE, "../../../g", 0, "http://a/g"},
      {RFC_BASE, "../../../../g", 0, "http://a/g"},
      {RFC_BASE, "/./g", 0, "http://a/g"},
      {RFC_BASE, "/../g", 0, "http://a/g"},
      {RFC_BASE, "g.", 0, "http://a/b/c/g."},
      {RFC_BASE, ".g", 0, "http://a/b/c/.g"},
      {RFC_BASE, "g..", 0, "http://a/b/c/g.."},
      {RFC_BASE, "..g", 0, "http://a/b/c/..g"},
      {RFC_BASE, "./../g", 0, "http://a/b/g"},
      {RFC_BASE, "./g/.", 0, "http://a/b/c/g/"},
      {RFC_BASE, "g/./h", 0, "http://a/b/c/g/h"},
      {RFC_BASE, "g/../h", 0, "http://a/b/c/h"},
      {RFC_BASE, "g;x=1/./y", 0, "http://a/b/c/g;x=1/y"},
      {RFC_BASE, "g;x=1/../y", 0, "http://a/b/c/y"},
      {RFC_BASE, "g?y/./x", 0, "http://a/b/c/g?y/./x"},
      {RFC_BASE, "g?y/../x", 0, "http://a/b/c/g?y/../x"},
      {RFC_BASE, "g#s/./x", 0, "http://a/b/c/g"},
      {RFC_BASE, "g#s/../x", 0, "http://a/b/c/g"},
      {RFC_BASE, "http:g", 0, "http://a/b/c/g"},
  };
  check_resolve_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_normalization(void **state) {
  static const struct resolve_case cases[] = {
      /* scheme and host case */
      {NULL, "HTTP://Example.COM/Path", 0, "http://example.com/Path"},
      {NULL, "HtTpS://WWW.X.ORG", 0, "https://www.x.org/"},
      /* default ports */
      {NULL, "http://x.com:80/a", 0, "http://x.com/a"},
      {NULL, "https://x.com:443/a", 0, "https://x.com/a"},
      {NULL, "http://x.com:443/a", 0, "http://x.com:443/a"},
      {NULL, "https://x.com:80/", 0, "https://x.com:80/"},
      {NULL, "http://x.com:8080", 0, "http://x.com:8080/"},
      {NULL, "http://x.com:/", 0, "http://x.com/"},
      /* fragment */
      {NULL, "http://x.com/a#frag", 0, "http://x.com/a"},
      {NULL, "http://x.com/a?b#frag?c", 0, "http://x.com/a?b"},
      {NULL, "http://x.com#", 0, "http://x.com/"},
      /* dot segments, also percent-encoded */
      {NULL, "http://x.com/a/./b/../c", 0, "http://x.com/a/c"},
      {NULL, "http://x.com/../../a", 0, "http://x.com/a"},
      {NULL, "http://x.com/a/%2e%2E/b", 0, "http://x.com/b"},
      {NULL, "http://x.com/a/%2E/b", 0, "http://x.com/a/b"},
      {NULL, "http://x.com/a/%2e", 0, "http://x.com/a/"},
      {NULL, "http://x.com/a.%2e/b", 0, "http://x.com/a../b"},
      /* percent-encoding: case, unreserved decoded, reserved kept */
      {NULL, "http://x.com/%7e%41%2f%3a%2D%2e%5F", 0, "http://x.com/~A%2F%3A-._"},
      {NULL, "http://x.com/a%c3%a9", 0, "http://x.com/a%C3%A9"},
      {NULL, "http://x.com/?q=%7Ex%3d%26", 0, "http://x.com/?q=~x%3D%26"},
      {NULL, "http://x.com/%zz%4", 0, "http://x.com/%25zz%254"},
      {NULL, "http://x.com/100%", 0, "http://x.com/100%25"},
      /* bytes not allowed raw get encoded */
      {NULL, "http://x.com/<>\"{}|^`", 0, "http://x.com/%3C%3E%22%7B%7D%7C%5E%60"},
      {NULL, "http://x.com/?a[]=1&b=[2]", 0, "http://x.com/?a%5B%5D=1&b=%5B2%5D"},
      {NULL, "http://x.com/a?b?c/d:e@f", 0, "http://x.com/a?b?c/d:e@f"},
      {NULL, "http://x.com/!$&'()*+,;=:@", 0, "http://x.com/!$&'()*+,;=:@"},
      /* empty path, empty query */
      {NULL, "http://x.com", 0, "http://x.com/"},
      {NULL, "http://x.com?a=1", 0, "http://x.com/?a=1"},
      {NULL, "http://x.com/?", 0, "http://x.com/"},
      /* query kept in order */
      {NULL, "http://x.com/?b=2&a=1&b=1", 0, "http://x.com/?b=2&a=1&b=1"},
      /* IP addresses */
      {NULL, "http://0x7f.1/", 0, "http://127.0.0.1/"},
      {NULL, "http://[::1]:80/", 0, "http://[::1]/"},
      {NULL, "http://[::FFFF:1.2.3.4]:8080/", 0, "http://[::ffff:1.2.3.4]:8080/"},
      {NULL, "http://[FE80::1%25eth0]/", 0, "http://[fe80::1%25eth0]/"},
      /* user info kept; percent-encoded host decoded */
      {NULL, "http://u:p@H.com/", 0, "http://u:p@h.com/"},
      {NULL, "http:// a%7e%3a:b:%2f@h.com/", 0, "http://%20a~%3A:b:%2F@h.com/"},
      {NULL, "http://%41.com/", 0, "http://a.com/"},
      /* WHATWG leniencies for http(s) */
      {NULL, "http:/x.com/a", 0, "http://x.com/a"},
      {NULL, "http:x.com", 0, "http://x.com/"},
      {NULL, "http:///x.com/a", 0, "http://x.com/a"},
      {NULL, "http:\\\\x.com\\a\\b?c\\d", 0, "http://x.com/a/b?c%5Cd"},
      {"http://a/b/c", "https:g", 0, "https://g/"},
      {"https://a/b/c", "https:g", 0, "https://a/b/g"},
      {"http://a/b/c", "x\\y", 0, "http://a/b/x/y"},
  };
  check_resolve_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_relative_forms(void **state) {
  static const struct resolve_case cases[] = {
      /* protocol-relative takes base's scheme */
      {"https://a.com/x", "//b.com/p?q", 0, "https://b.com/p?q"},
      {"http://a.com/x", "//B.com:80", 0, "http://b.com/"},
      {"https://a.com/x", "//b.com:443/", 0, "https://b.com/"},
      {"http://a.com/x/y", "///c", 0, "http://c/"},
      /* the base is normalized too, and may carry a fragment */
      {"HTTP://A.COM:80/x/./y#f", "z", 0, "http://a.com/x/z"},
      {"http://a.com/x", "?", 0, "http://a.com/x"},
      {"http://a.com/x?q", "#", 0, "http://a.com/x?q"},
      /* absolute refs ignore the base */
      {"http://a.com/x", "https://b.com/y", 0, "https://b.com/y"},
      {"http://a.com/dir/", "page.html", 0, "http://a.com/dir/page.html"},
      {"http://a.com/dir", "page.html", 0, "http://a.com/page.html"},
      /* a base we do not crawl, or a broken base */
      {"ftp://a.com/x", "y", UC_ESCHEME, NULL},
      {"a.com/x", "y", UC_EBADURL, NULL},
      {"http://", "y", UC_EBADURL, NULL},
      {NULL, "y", UC_EBADURL, NULL},
      {NULL, "//a.com/y", UC_EBADURL, NULL},
  };
  check_resolve_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_whitespace_and_bytes(void **state) {
  static const struct resolve_case cases[] = {
      {RFC_BASE, "  g  ", 0, "http://a/b/c/g"},
      {RFC_BASE, "\t\n\f\r g \r\n", 0, "http://a/b/c/g"},
      {RFC_BASE, "g\th\ni\rj", 0, "http://a/b/c/ghij"},
      {NULL, "\n  http://x.com/a\tb  \n", 0, "http://x.com/ab"},
      {NULL, "ht\ntp://x.c\tom/", 0, "http://x.com/"},
      {RFC_BASE, "a b/c d", 0, "http://a/b/c/a%20b/c%20d"},
      {RFC_BASE, "?x y", 0, "http://a/b/c/d;p?x%20y"}, /* not "x+y" */
      {NULL, "http://x.com/a b?c d", 0, "http://x.com/a%20b?c%20d"},
      {RFC_BASE, "g #frag", 0, "http://a/b/c/g%20"},
      /* UTF-8 in paths and queries */
      {RFC_BASE, "caf\xc3\xa9?q=\xc3\xbc", 0, "http://a/b/c/caf%C3%A9?q=%C3%BC"},
      {NULL, "http://x.com/\xe2\x82\xac", 0, "http://x.com/%E2%82%AC"},
      {NULL, "http://x.com/\xff\xfe", 0, "http://x.com/%FF%FE"},
      /* other control bytes make the reference malformed */
      {RFC_BASE, "g\x01h", UC_EBADURL, NULL},
      {RFC_BASE, "\x01g\x1f", 0, "http://a/b/c/g"}, /* C0 stripped at the ends */
      {RFC_BASE, "g\x7fh", UC_EBADURL, NULL},
      {NULL, "http://x.com/\x1b[0m", UC_EBADURL, NULL},
  };
  check_resolve_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_schemes(void **state) {
  static const struct resolve_case cases[] = {
      {RFC_BASE, "javascript:alert(1)", UC_ESCHEME, NULL},
      {RFC_BASE, "JavaScript:void(0)", UC_ESCHEME, NULL},
      {RFC_BASE, " javascript:x", UC_ESCHEME, NULL},
      {RFC_BASE, "mailto:a@b.c", UC_ESCHEME, NULL},
      {RFC_BASE, "data:text/html,<b>x</b>", UC_ESCHEME, NULL},
      {RFC_BASE, "ftp://x.com/", UC_ESCHEME, NULL},
      {RFC_BASE, "tel:+1234", UC_ESCHEME, NULL},
      {RFC_BASE, "file:///etc/passwd", UC_ESCHEME, NULL},
      {RFC_BASE, "ws://x.com/", UC_ESCHEME, NULL},
      {RFC_BASE, "localhost:8080/x", UC_ESCHEME, NULL},
      {NULL, "https://x.com/", 0, "https://x.com/"},
      /* not a scheme: the colon comes after a slash */
      {RFC_BASE, "./a:b", 0, "http://a/b/c/a:b"},
      {RFC_BASE, "a/b:c", 0, "http://a/b/c/a/b:c"},
  };
  check_resolve_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_malformed(void **state) {
  static const struct resolve_case cases[] = {
      {NULL, "http://", UC_EBADURL, NULL},
      {NULL, "https:", UC_EBADURL, NULL},
      {NULL, "http://[::1", UC_EBADURL, NULL},
      {NULL, "http://[zz::1]/", UC_EBADURL, NULL},
      {NULL, "http://a b/", UC_EBADURL, NULL},
      {NULL, "http://a<b/", UC_EBADURL, NULL},
      {NULL, "", UC_EBADURL, NULL},
      {NULL, "   ", UC_EBADURL, NULL},
      {NULL, "#frag", UC_EBADURL, NULL},
      {NULL, "http://x:99999/", UC_EBADURL, NULL},
      {NULL, "http://x:-1/", UC_EBADURL, NULL},
      {NULL, "http://x:8o/", UC_EBADURL, NULL},
      {NULL, "x.com/a", UC_EBADURL, NULL},
      {NULL, "://x.com/", UC_EBADURL, NULL},
      {RFC_BASE, "http://", UC_EBADURL, NULL},
      {RFC_BASE, "//", UC_EBADURL, NULL},
      {RFC_BASE, "//[::1/", UC_EBADURL, NULL},
  };
  check_resolve_cases(cases, sizeof cases / sizeof cases[0]);
}

static char *repeat(const char *prefix, char c, size_t n) {
  size_t plen = strlen(prefix);
  char *s = malloc(plen + n + 1);
  assert_non_null(s);
  memcpy(s, prefix, plen);
  memset(s + plen, c, n);
  s[plen + n] = '\0';
  return s;
}

static void test_too_long(void **state) {
  char *out = NULL;
  /* just fits */
  char *url = repeat("http://x.com/", 'a', UC_URL_MAX_LEN - strlen("http://x.com/"));
  assert_int_equal(uc_url_normalize(url, &out), 0);
  assert_int_equal(strlen(out), UC_URL_MAX_LEN);
  free(out);
  out = NULL;
  free(url);
  /* one byte more */
  url = repeat("http://x.com/", 'a', UC_URL_MAX_LEN + 1 - strlen("http://x.com/"));
  assert_int_equal(uc_url_normalize(url, &out), UC_ETOOLONG);
  assert_null(out);
  free(url);
  /* grows past the limit by percent-encoding */
  url = repeat("http://x.com/", '"', UC_URL_MAX_LEN / 2);
  assert_int_equal(uc_url_normalize(url, &out), UC_ETOOLONG);
  free(url);
  /* a huge reference is refused before parsing */
  url = repeat("", 'a', 10 * UC_URL_MAX_LEN);
  assert_int_equal(uc_url_resolve(RFC_BASE, url, &out), UC_ETOOLONG);
  free(url);
  /* long but shrinking: dot segments */
  url = repeat("http://x.com/", 'a', 100);
  assert_int_equal(uc_url_resolve(url, "../../../../../../b", &out), 0);
  assert_string_equal(out, "http://x.com/b");
  free(out);
  free(url);
}

/* Pseudo-random bytes (a fixed LCG): no crash, no leak, and any success is a
 * fixed point. Run under ASan this is a small in-tree fuzz. */
static void test_random_bytes(void **state) {
  static const char *const prefixes[] = {"", "http://", "https://h.com/", "//", "?", "../"};
  static const char alphabet[] = "abc/.?#%:@[]\\ \t\x01\x80\xc3\xa9" "2F";
  uint32_t seed = 12345;
  for (int i = 0; i < 3000; i++) {
    char ref[64];
    size_t plen = strlen(prefixes[i % 6]);
    memcpy(ref, prefixes[i % 6], plen);
    seed = seed * 1103515245u + 12345u;
    size_t n = plen + (seed >> 16) % 40;
    for (size_t j = plen; j < n; j++) {
      seed = seed * 1103515245u + 12345u;
      ref[j] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
    }
    ref[n] = '\0';
    char *out = NULL;
    int rc = uc_url_resolve(i % 2 ? RFC_BASE : NULL, ref, &out);
    if (rc == 0) {
      assert_true(strncmp(out, "http://", 7) == 0 || strncmp(out, "https://", 8) == 0);
      assert_null(strchr(out, '#'));
      if (strchr(out, ' ') != NULL)
        fail_msg("space in \"%s\" from \"%s\"", out, ref);
      char *again = NULL;
      assert_int_equal(uc_url_normalize(out, &again), 0);
      assert_string_equal(again, out);
      free(again);
    } else {
      assert_true(rc == UC_EBADURL || rc == UC_ESCHEME || rc == UC_ETOOLONG);
      assert_null(out);
    }
    free(out);
  }
}

/*
 * Hosts that percent-decoding turns into something else. curl 7.88 reads an
 * IPv4 number before it decodes the host, so "%33" was the name "3", and
 * normalizing "http://3/" again gave "http://0.0.0.3/": not a fixed point
 * (check_resolve_cases normalizes every result again).
 */
static void test_decoded_host(void **state) {
  static const struct resolve_case cases[] = {
      /* fuzz_url regress-idempotent-1.txt (no newline: a ref against this base) */
      {"http://a.test/b/c/d;p?q", "http:///%33//%a33\xeb", 0, "http://0.0.0.3//%A33%EB"},
      {NULL, "http://%33/", 0, "http://0.0.0.3/"},
      {NULL, "http://%31%32%37.1/", 0, "http://127.0.0.1/"},
      {NULL, "http://%30x7F.1:8080/a", 0, "http://127.0.0.1:8080/a"},
      {NULL, "http://%32%31%33%30%37%30%36%34%33%33/", 0, "http://127.0.0.1/"},
      {RFC_BASE, "//%31.2.3.4/x", 0, "http://1.2.3.4/x"},
      /* decoded, but not a number: a name as before */
      {NULL, "http://%64%65%61%64.test/", 0, "http://dead.test/"},
      {NULL, "http://%31%32%37.1.test/", 0, "http://127.1.test/"},
      {NULL, "http://4294967296/", 0, "http://4294967296/"}, /* too big for IPv4 */
      /* a decoded '%' is no host byte ("%25" would be decoded once more) */
      {NULL, "http://%2525/", UC_EBADURL, NULL},
      {NULL, "http://a%2525b.test/", UC_EBADURL, NULL},
  };
  check_resolve_cases(cases, sizeof cases / sizeof cases[0]);
  char host[64];
  assert_int_equal(uc_url_host("http://%33/", host, sizeof host), 0);
  assert_string_equal(host, "0.0.0.3");
  char *origin = NULL;
  assert_int_equal(uc_url_origin("http://%31%32%37.1:81/", &origin), 0);
  assert_string_equal(origin, "http://127.0.0.1:81");
  free(origin);
}

/* punycode needs a UTF-8 locale in curl 7.88 (see url.h). Both needs are
 * met on every machine setup.sh prepares (C.UTF-8 ships in Debian 12's
 * libc-bin; Debian's libcurl is built with libidn2), so a missing one fails
 * the test: cmocka's skip() would read as a pass. */
static void test_idn(void **state) {
  char *out = NULL;
  if (setlocale(LC_CTYPE, "C.UTF-8") == NULL && setlocale(LC_CTYPE, "en_US.UTF-8") == NULL)
    fail_msg("no UTF-8 locale (C.UTF-8 or en_US.UTF-8): IDN cannot be tested");
  curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
  if (!(v->features & CURL_VERSION_IDN)) {
    setlocale(LC_CTYPE, "C");
    fail_msg("libcurl %s has no IDN support: IDN cannot be tested", v->version);
  }
  assert_int_equal(uc_url_normalize("http://b\xc3\xbc" "cher.de/\xc3\xa4", &out), 0);
  assert_string_equal(out, "http://xn--bcher-kva.de/%C3%A4");
  free(out);
  assert_int_equal(uc_url_resolve("http://a.com/", "//B\xc3\x9c" "CHER.de", &out), 0);
  assert_string_equal(out, "http://xn--bcher-kva.de/");
  free(out);
  char host[64];
  assert_int_equal(uc_url_host("http://b\xc3\xbc" "cher.de:81/", host, sizeof host), 0);
  assert_string_equal(host, "xn--bcher-kva.de");
  /* IDN mapping happens after curl reads IPv4 numbers and checks the host's
   * bytes: fullwidth digits make a number, and fullwidth '/', '@', ':' or '%'
   * must not become a path, user info, a port or an escape. */
  static const struct resolve_case mapped[] = {
      {NULL, "http://\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.\xef\xbc\x91/", 0, "http://127.0.0.1/"},
      {NULL, "http://\xef\xbd\x81\xef\xbc\x8f\xef\xbd\x82.test/x", UC_EBADURL, NULL},
      {NULL, "http://\xef\xbd\x81\xef\xbc\xa0\xef\xbd\x82/", UC_EBADURL, NULL},
      {NULL, "http://\xef\xbd\x81\xef\xbc\x9a\xef\xbc\x98\xef\xbc\x90.test/", UC_EBADURL, NULL},
      {NULL, "http://\xef\xbc\x85\xef\xbc\x94\xef\xbc\x91.test/", UC_EBADURL, NULL},
      {NULL, "http://\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3.test/", 0, "http://abc.test/"},
  };
  check_resolve_cases(mapped, sizeof mapped / sizeof mapped[0]);
  setlocale(LC_CTYPE, "C");
  /* in the C locale curl cannot convert: the host is kept, lower-cased */
  assert_int_equal(uc_url_normalize("http://B\xc3\xbc" "cher.de/", &out), 0);
  assert_string_equal(out, "http://b\xc3\xbc" "cher.de/");
  free(out);
}

struct part_case {
  const char *url;
  int rc;
  const char *expected;
};

static void test_origin(void **state) {
  static const struct part_case cases[] = {
      {"http://x.com/a/b?c#d", 0, "http://x.com"},
      {"HTTPS://X.Com:443/", 0, "https://x.com"},
      {"http://X.com:8080/a", 0, "http://x.com:8080"},
      {"https://x.com:80/a", 0, "https://x.com:80"},
      {"http://user:pw@x.com/", 0, "http://x.com"},
      {"http://[::1]:8080/", 0, "http://[::1]:8080"},
      {"http://127.0.0.1/", 0, "http://127.0.0.1"},
      {"  http://h0001.test/p  ", 0, "http://h0001.test"},
      {"ftp://x.com/", UC_ESCHEME, NULL},
      {"/relative", UC_EBADURL, NULL},
      {"http://", UC_EBADURL, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *out = NULL;
    int rc = uc_url_origin(cases[i].url, &out);
    assert_int_equal(rc, cases[i].rc);
    if (rc == 0)
      assert_string_equal(out, cases[i].expected);
    free(out);
  }
}

static void test_path_query(void **state) {
  static const struct part_case cases[] = {
      {"http://x.com", 0, "/"},
      {"http://x.com/a/b?c=1#d", 0, "/a/b?c=1"},
      {"http://x.com/a/../b/%7e?q=%3d", 0, "/b/~?q=%3D"},
      {"http://x.com/a b", 0, "/a%20b"},
      {"http://x.com/?", 0, "/"},
      {"mailto:x@y", UC_ESCHEME, NULL},
      {"", UC_EBADURL, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *out = NULL;
    int rc = uc_url_path_query(cases[i].url, &out);
    assert_int_equal(rc, cases[i].rc);
    if (rc == 0)
      assert_string_equal(out, cases[i].expected);
    free(out);
  }
}

/* One parse gives the host and the port to connect to. */
static void test_host_port(void **state) {
  (void)state;
  static const struct {
    const char *url;
    int rc;
    const char *host;
    int port;
  } cases[] = {
      {"http://X.COM:8080/a", 0, "x.com", 8080},
      {"http://x.com/", 0, "x.com", 80},
      {"https://x.com/", 0, "x.com", 443},
      {"https://x.com:443/", 0, "x.com", 443},
      {"http://[::1]:9/", 0, "[::1]", 9},
      {"http://127.0.0.1/", 0, "127.0.0.1", 80},
      {"ftp://x.com/", UC_ESCHEME, NULL, 0},
      {"http://a b/", UC_EBADURL, NULL, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char buf[64];
    int port = -1;
    int rc = uc_url_host_port(cases[i].url, buf, sizeof buf, &port);
    assert_int_equal(rc, cases[i].rc);
    if (rc == 0) {
      assert_string_equal(buf, cases[i].host);
      assert_int_equal(port, cases[i].port);
    }
  }
}

static void test_host(void **state) {
  static const struct part_case cases[] = {
      {"http://X.COM:8080/a", 0, "x.com"},
      {"https://u:p@Sub.Example.org/", 0, "sub.example.org"},
      {"http://[::1]:8080/", 0, "[::1]"},
      {"http://0x7f.0.0.1/", 0, "127.0.0.1"},
      {"http://h0001.test/", 0, "h0001.test"},
      {"javascript:x", UC_ESCHEME, NULL},
      {"http://a b/", UC_EBADURL, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char buf[64];
    int rc = uc_url_host(cases[i].url, buf, sizeof buf);
    assert_int_equal(rc, cases[i].rc);
    if (rc == 0)
      assert_string_equal(buf, cases[i].expected);
  }
  char small[6];
  assert_int_equal(uc_url_host("http://abcde.f/", small, sizeof small), UC_ETOOLONG);
  assert_string_equal(small, "");
  assert_int_equal(uc_url_host("http://abcde/", small, sizeof small), 0);
  assert_string_equal(small, "abcde");
  assert_int_equal(uc_url_host("http://abcde/", small, 0), UC_ETOOLONG);
}

static void test_domain(void **state) {
  static const struct {
    const char *host, *domain;
  } cases[] = {
      {"a.b.example.com", "example.com"},
      {"www.example.com", "example.com"},
      {"example.com", "example.com"},
      {"h0001.test", "h0001.test"},
      {"x.h0001.test", "h0001.test"},
      {"localhost", "localhost"},
      {"", ""},
      {"127.0.0.1", "127.0.0.1"},
      {"[::1]", "[::1]"},
      {"::1", "::1"},
      {"a.example.com.", "example.com."},
      /* The Public Suffix List (libpsl): */
      {"a.example.co.uk", "example.co.uk"},
      {"example.co.uk", "example.co.uk"},
      {"co.uk", "co.uk"},               /* a public suffix is its own scope */
      {"a.b.example.co.uk.", "example.co.uk."},
      {"github.io", "github.io"},
      {"user.github.io", "user.github.io"}, /* the private section: one site each */
      {"a.b.user.github.io", "user.github.io"},
      {"www.city.kawasaki.jp", "city.kawasaki.jp"}, /* an exception rule (!city.kawasaki.jp) */
      {"a.b.kawasaki.jp", "a.b.kawasaki.jp"},     /* a wildcard rule (*.kawasaki.jp) */
      {"10.0.0.1", "10.0.0.1"},  /* libpsl alone would say "0.1" */
      {"[2001:db8::1]", "[2001:db8::1]"},
      {".com", ".com"},
  };
  /* The same answers from the list compiled into libpsl and from the newest
   * one at hand (Debian's publicsuffix package). */
  struct psl_ctx_st *latest = uc_url_psl_load();
  assert_non_null(latest);
  const struct psl_ctx_st *lists[2] = {NULL, latest};
  for (int l = 0; l < 2; l++)
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      const char *d = uc_url_domain(lists[l], cases[i].host);
      if (strcmp(d, cases[i].domain) != 0)
        fail_msg("list %d: %s -> %s, want %s", l, cases[i].host, d, cases[i].domain);
      assert_true(d >= cases[i].host && d <= cases[i].host + strlen(cases[i].host));
    }
  uc_url_psl_free(latest);
  uc_url_psl_free(NULL);
}

/* Passwords in userinfo are found and masked; nothing else is touched. */
static void test_password_mask(void **state) {
  (void)state;
  static const struct {
    const char *url, *masked;
  } cases[] = {
      {"http://user:pw@h.test/", "http://user:*password*@h.test/"},
      {"https://u:p%40ss@h.test:8080/a?b#c", "https://u:*password*@h.test:8080/a?b#c"},
      {"http://u:a:b@c@h.test/", "http://u:*password*@h.test/"}, /* the last '@' ends it */
      {"http://user@h.test/", "http://user@h.test/"},          /* no password */
      {"http://user:@h.test/", "http://user:@h.test/"},        /* an empty one */
      {"http://h.test/a:b@c", "http://h.test/a:b@c"},          /* '@' in the path */
      {"http://h.test?x=u:p@q", "http://h.test?x=u:p@q"},      /* ... in the query */
      {"/rel/u:p@x://", "/rel/u:p@x://"},                      /* no scheme */
      {"", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uc_buf b = UC_BUF_INIT;
    assert_int_equal(uc_url_mask(cases[i].url, &b), 0);
    assert_string_equal(b.data != NULL ? b.data : "", cases[i].masked);
    uc_buf_free(&b);
  }
  size_t start, len;
  assert_true(uc_url_password("http://u:secret@h/", &start, &len));
  assert_int_equal(start, 9);
  assert_int_equal(len, 6);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc3986_normal),
      cmocka_unit_test(test_rfc3986_abnormal),
      cmocka_unit_test(test_normalization),
      cmocka_unit_test(test_relative_forms),
      cmocka_unit_test(test_whitespace_and_bytes),
      cmocka_unit_test(test_schemes),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_too_long),
      cmocka_unit_test(test_random_bytes),
      cmocka_unit_test(test_decoded_host),
      cmocka_unit_test(test_idn),
      cmocka_unit_test(test_origin),
      cmocka_unit_test(test_path_query),
      cmocka_unit_test(test_host),
      cmocka_unit_test(test_host_port),
      cmocka_unit_test(test_domain),
      cmocka_unit_test(test_password_mask),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return failed;
}
