/* test_policy.c - scope, patterns, depth and trap guards (policy.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "uvcrawl/error.h"
#include "uvcrawl/policy.h"

static const char *const allow_re[] = {"/docs/"};
static const char *const deny_re[] = {"\\.pdf$", "[?&]sort="};

static void test_checks(void **state) {
  (void)state;
  static const struct {
    uc_scope scope;
    int use_patterns;
    const char *url, *host;
    int depth;
    int expected; /* -1 or a uc_skip */
  } cases[] = {
      {UC_SCOPE_HOST, 0, "http://a.example.com/x", "a.example.com", 1, -1},
      {UC_SCOPE_HOST, 0, "http://b.example.com/x", "b.example.com", 1, UC_SKIP_SCOPE},
      {UC_SCOPE_DOMAIN, 0, "http://b.example.com/x", "b.example.com", 1, -1},
      {UC_SCOPE_DOMAIN, 0, "http://example.org/x", "example.org", 1, UC_SKIP_SCOPE},
      {UC_SCOPE_ANY, 0, "http://example.org/x", "example.org", 1, -1},
      {UC_SCOPE_ANY, 0, "http://example.org/x", "example.org", 3, -1},
      {UC_SCOPE_ANY, 0, "http://example.org/x", "example.org", 4, UC_SKIP_DEPTH},
      {UC_SCOPE_ANY, 1, "http://e.org/docs/a.html", "e.org", 1, -1},
      {UC_SCOPE_ANY, 1, "http://e.org/blog/a.html", "e.org", 1, UC_SKIP_PATTERN},
      {UC_SCOPE_ANY, 1, "http://e.org/docs/a.pdf", "e.org", 1, UC_SKIP_PATTERN},
      {UC_SCOPE_ANY, 1, "http://e.org/docs/?page=2&sort=up", "e.org", 1, UC_SKIP_PATTERN},
      {UC_SCOPE_ANY, 0, "http://e.org/a/b/a/b/a/b/a/x", "e.org", 1, UC_SKIP_REPEATED_SEGMENT},
      {UC_SCOPE_ANY, 0, "http://e.org/a/b/a/b/a/b/x", "e.org", 1, -1}, /* 3 times is fine */
      {UC_SCOPE_ANY, 0, "http://e.org/cal/2026/cal/2026/cal/2026/cal", "e.org", 1,
       UC_SKIP_REPEATED_SEGMENT},
      {UC_SCOPE_ANY, 0, "http://e.org/a/a/a/?q=a/a/a", "e.org", 1, -1}, /* query ignored */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    uc_config cfg;
    uc_config_defaults(&cfg);
    cfg.scope = cases[i].scope;
    cfg.depth = 3;
    if (cases[i].use_patterns) {
      cfg.allow = allow_re, cfg.n_allow = 1;
      cfg.deny = deny_re, cfg.n_deny = 2;
    }
    uc_policy *p;
    char err[128];
    assert_int_equal(uc_policy_new(&p, &cfg, err, sizeof err), 0);
    assert_int_equal(uc_policy_add_seed_host(p, "a.example.com"), 0);
    int got = uc_policy_check(p, cases[i].url, cases[i].host, cases[i].depth);
    if (got != cases[i].expected)
      fail_msg("case %zu (%s): got %d, expected %d", i, cases[i].url, got, cases[i].expected);
    uc_policy_free(p);
  }
}

/* --scope domain by the Public Suffix List: seeds on a.example.co.uk,
 * alice.github.io and an address; {host, in scope}. */
static void test_domain_scope_psl(void **state) {
  (void)state;
  static const struct {
    const char *host;
    bool in_scope;
  } cases[] = {
      {"a.example.co.uk", true},  {"b.example.co.uk", true}, {"example.co.uk", true},
      {"other.co.uk", false},     /* the last two labels alone would say co.uk: in */
      {"co.uk", false},
      {"alice.github.io", true},  {"www.alice.github.io", true},
      {"bob.github.io", false},   /* github.io is a public suffix: one site per user */
      {"github.io", false},
      {"192.0.2.7", true},        {"192.0.2.8", false}, /* an address is its own scope */
      {"2.7", false},             /* never the address's last two "labels" */
  };
  uc_config cfg;
  uc_config_defaults(&cfg);
  cfg.scope = UC_SCOPE_DOMAIN;
  uc_policy *p;
  char err[128];
  assert_int_equal(uc_policy_new(&p, &cfg, err, sizeof err), 0);
  assert_int_equal(uc_policy_add_seed_host(p, "a.example.co.uk"), 0);
  assert_int_equal(uc_policy_add_seed_host(p, "alice.github.io"), 0);
  assert_int_equal(uc_policy_add_seed_host(p, "192.0.2.7"), 0);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char url[300];
    snprintf(url, sizeof url, "http://%s/x", cases[i].host);
    int got = uc_policy_check(p, url, cases[i].host, 1);
    if (got != (cases[i].in_scope ? -1 : UC_SKIP_SCOPE))
      fail_msg("%s: got %d, want %s", cases[i].host, got, cases[i].in_scope ? "in" : "out");
  }
  uc_policy_free(p);
}

/* --accept/--reject: extensions judge links before the fetch, types judge
 * responses; {accept, reject, url or type, passes}. */
static void test_accept_reject(void **state) {
  (void)state;
  static const char *const pdf_html[] = {"pdf", "HTML"}, *const jpg[] = {"jpg"};
  static const char *const html_type[] = {"text/html"}, *const images[] = {"image/*"};
  static const char *const mixed[] = {"pdf", "text/html"};
  static const struct {
    const char *const *accept;
    size_t n_accept;
    const char *const *reject;
    size_t n_reject;
    const char *subject; /* a URL (extension cases) or a Content-Type (type cases) */
    bool is_type, passes;
  } cases[] = {
      {pdf_html, 2, NULL, 0, "http://a.test/x.pdf", false, true},
      {pdf_html, 2, NULL, 0, "http://a.test/d/x.HTML?q=1.jpg", false, true},
      {pdf_html, 2, NULL, 0, "http://a.test/x.jpg", false, false},
      {pdf_html, 2, NULL, 0, "http://a.test/", false, true},           /* no extension */
      {pdf_html, 2, NULL, 0, "http://a.test/v1.2/page", false, true}, /* a dot in a directory */
      {pdf_html, 2, NULL, 0, "http://a.test/x.", false, true},        /* empty extension */
      {NULL, 0, jpg, 1, "http://a.test/a.JPG", false, false},
      {NULL, 0, jpg, 1, "http://a.test/a.jpeg", false, true},
      {NULL, 0, jpg, 1, "http://a.test/a.jpg#frag.pdf", false, false},
      {html_type, 1, NULL, 0, "http://a.test/a.jpg", false, true}, /* a type list judges no URL */
      {html_type, 1, NULL, 0, "text/html; charset=utf-8", true, true},
      {html_type, 1, NULL, 0, "TEXT/HTML", true, true},
      {html_type, 1, NULL, 0, "text/htmlx", true, false},
      {html_type, 1, NULL, 0, "application/octet-stream", true, false},
      {html_type, 1, NULL, 0, "", true, true}, /* no Content-Type: judged by nothing */
      {NULL, 0, images, 1, "image/png", true, false},
      {NULL, 0, images, 1, "imagex/png", true, true},
      {NULL, 0, images, 1, "text/html", true, true},
      {pdf_html, 2, NULL, 0, "image/png", true, true}, /* an extension list judges no type */
      {mixed, 2, images, 1, "text/html", true, true},
      {mixed, 2, images, 1, "application/pdf", true, false},
      {mixed, 2, images, 1, "http://a.test/x.pdf", false, true},
      {mixed, 2, images, 1, "http://a.test/x.png", false, false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    uc_config cfg;
    uc_config_defaults(&cfg);
    cfg.scope = UC_SCOPE_ANY;
    cfg.accept = cases[i].accept, cfg.n_accept = cases[i].n_accept;
    cfg.reject = cases[i].reject, cfg.n_reject = cases[i].n_reject;
    bool passes;
    if (cases[i].is_type) {
      passes = uc_policy_type_ok(&cfg, cases[i].subject);
    } else {
      uc_policy *p;
      char err[128];
      assert_int_equal(uc_policy_new(&p, &cfg, err, sizeof err), 0);
      int got = uc_policy_check(p, cases[i].subject, "a.test", 1);
      assert_true(got == -1 || got == UC_SKIP_EXTENSION);
      passes = got == -1;
      uc_policy_free(p);
    }
    if (passes != cases[i].passes)
      fail_msg("case %zu (%s): %s", i, cases[i].subject, passes ? "passes" : "refused");
  }
  assert_true(uc_policy_type_ok(&(uc_config){0}, NULL));
}

static void test_url_length(void **state) {
  (void)state;
  uc_config cfg;
  uc_config_defaults(&cfg);
  cfg.scope = UC_SCOPE_ANY;
  cfg.max_url_length = 30;
  uc_policy *p;
  char err[128];
  assert_int_equal(uc_policy_new(&p, &cfg, err, sizeof err), 0);
  assert_int_equal(uc_policy_check(p, "http://e.org/123456789012345", "e.org", 1), -1);
  assert_int_equal(uc_policy_check(p, "http://e.org/1234567890123456789", "e.org", 1),
                   UC_SKIP_URL_LENGTH);
  uc_policy_free(p);
}

static void test_bad_regex(void **state) {
  (void)state;
  static const char *const bad[] = {"(unclosed"};
  uc_config cfg;
  uc_config_defaults(&cfg);
  cfg.deny = bad, cfg.n_deny = 1;
  uc_policy *p = NULL;
  char err[128] = "";
  assert_int_equal(uc_policy_new(&p, &cfg, err, sizeof err), UC_EINVAL);
  assert_null(p);
  assert_non_null(strstr(err, "(unclosed"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_checks),
      cmocka_unit_test(test_domain_scope_psl),
      cmocka_unit_test(test_accept_reject),
      cmocka_unit_test(test_url_length),
      cmocka_unit_test(test_bad_regex),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
