/* test_robots.c - unit tests for the RFC 9309 parser and matcher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "uvcrawl/error.h"
#include "uvcrawl/robots.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static uc_robots *parse_n(const char *body, size_t len, const char *agent) {
  uc_robots *r = NULL;
  assert_int_equal(uc_robots_parse(&r, body, len, agent), 0);
  assert_non_null(r);
  return r;
}

static uc_robots *parse(const char *body, const char *agent) {
  return parse_n(body, strlen(body), agent);
}

/* {agent, path, allowed} checked against one robots.txt. */
typedef struct verdict_case {
  const char *agent;
  const char *path;
  bool allowed;
} verdict_case;

static void check_verdicts(const char *body, const verdict_case *cases, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uc_robots *r = parse(body, cases[i].agent);
    bool got = uc_robots_allowed(r, cases[i].path);
    if (got != cases[i].allowed)
      fail_msg("agent %s path %s: got %s", cases[i].agent, cases[i].path,
               got ? "allowed" : "disallowed");
    uc_robots_free(r);
  }
}

/* RFC 9309 section 5.1: the simple example, with several groups. */
static void test_rfc_example(void **state) {
  (void)state;
  static const char body[] = "User-Agent: *\n"
                             "Disallow: *.gif$\n"
                             "Disallow: /example/\n"
                             "Allow: /publications/\n"
                             "\n"
                             "User-Agent: foobot\n"
                             "Disallow:/\n"
                             "Allow:/example/page.html\n"
                             "Allow:/example/allowed.gif\n"
                             "\n"
                             "User-Agent: barbot\n"
                             "User-Agent: bazbot\n"
                             "Disallow: /example/page.html\n"
                             "\n"
                             "User-Agent: quxbot\n"
                             "\n"
                             "EOF\n";
  static const verdict_case cases[] = {
      {"foobot", "/example/page.html", true},
      {"foobot", "/example/allowed.gif", true},
      {"foobot", "/example/other.html", false},
      {"foobot", "/", false},
      {"foobot", "/robots.txt", true},
      {"foobot", "/robots.txt?x=1", true},
      {"barbot", "/example/page.html", false},
      {"barbot", "/example/page.htm", true},
      {"barbot", "/example/", true},
      {"barbot", "/pic.gif", true},
      {"bazbot", "/example/page.html", false},
      {"bazbot", "/example/page.html?q", false},
      {"quxbot", "/example/page.html", true},
      {"quxbot", "/pic.gif", true},
      {"otherbot", "/example/x", false},
      {"otherbot", "/publications/x", true},
      {"otherbot", "/pic.gif", false},
      {"otherbot", "/a/b/pic.gif", false},
      {"otherbot", "/pic.gif?size=2", true},
      {"otherbot", "/", true},
  };
  check_verdicts(body, cases, ARRAY_LEN(cases));
}

/* RFC 9309 section 5.2: the longest match wins. */
static void test_rfc_longest_match(void **state) {
  (void)state;
  static const char body[] = "User-Agent: foobot\n"
                             "Allow: /example/page/\n"
                             "Disallow: /example/page/disallowed.gif\n";
  static const verdict_case cases[] = {
      {"foobot", "/example/page/", true},
      {"foobot", "/example/page/x.html", true},
      {"foobot", "/example/page/disallowed.gif", false},
      {"foobot", "/example/page/disallowed.gif2", false},
  };
  check_verdicts(body, cases, ARRAY_LEN(cases));
}

/* {pattern, path, matches}: "Disallow: pattern" blocks path iff it matches. */
typedef struct match_case {
  const char *pattern;
  const char *path;
  bool matches;
} match_case;

static const match_case match_cases[] = {
    {"/", "/", true},
    {"/", "/any/thing", true},
    {"/*", "/", true},
    {"/*", "/fish", true},
    {"/$", "/", true},
    {"/$", "/page", false},
    {"/fish", "/fish", true},
    {"/fish", "/fish.html", true},
    {"/fish", "/fish/salmon.html", true},
    {"/fish", "/fishheads", true},
    {"/fish", "/fishheads/yummy.html", true},
    {"/fish", "/fish.php?id=anything", true},
    {"/fish", "/Fish.asp", false},
    {"/fish", "/catfish", false},
    {"/fish", "/?id=fish", false},
    {"/fish", "/desert/fish", false},
    {"/fish*", "/fish", true},
    {"/fish*", "/fish.html", true},
    {"/fish*", "/fish/salmon.html", true},
    {"/fish*", "/fishheads", true},
    {"/fish*", "/fishheads/yummy.html", true},
    {"/fish*", "/fish.php?id=anything", true},
    {"/fish*", "/Fish.asp", false},
    {"/fish*", "/catfish", false},
    {"/fish*", "/?id=fish", false},
    {"/fish*", "/desert/fish", false},
    {"/fish/", "/fish/", true},
    {"/fish/", "/fish/?id=anything", true},
    {"/fish/", "/fish/salmon.htm", true},
    {"/fish/", "/fish", false},
    {"/fish/", "/fish.html", false},
    {"/fish/", "/animals/fish/", false},
    {"/fish/", "/Fish/Salmon.asp", false},
    {"/*.php", "/index.php", true},
    {"/*.php", "/filename.php", true},
    {"/*.php", "/folder/filename.php", true},
    {"/*.php", "/folder/filename.php?parameters", true},
    {"/*.php", "/folder/any.php.file.html", true},
    {"/*.php", "/filename.php/", true},
    {"/*.php", "/", false},
    {"/*.php", "/windows.PHP", false},
    {"/*.php$", "/filename.php", true},
    {"/*.php$", "/folder/filename.php", true},
    {"/*.php$", "/filename.php?parameters", false},
    {"/*.php$", "/filename.php/", false},
    {"/*.php$", "/filename.php5", false},
    {"/*.php$", "/windows.PHP", false},
    {"/fish*.php", "/fish.php", true},
    {"/fish*.php", "/fishheads/catfish.php?parameters", true},
    {"/fish*.php", "/Fish.PHP", false},
    {"/this/*/exactly", "/this/is/exactly", true},
    {"/this/*/exactly", "/this/a/b/exactly/more", true},
    {"/this/*/exactly", "/this/exactly", false},
    {"/this/path/exactly$", "/this/path/exactly", true},
    {"/this/path/exactly$", "/this/path/exactly/", false},
    {"*.gif$", "/a/b.gif", true},
    {"*.gif$", "/a.gif?x", false},
    {"/a*", "/a", true},
    {"/**", "/x", true},
    {"/a*$", "/a", true},
    {"/a*$", "/abc", true},
    {"/a*c$", "/abc", true},
    {"/a*c$", "/acbc", true},
    {"/a*c$", "/abcd", false},
    {"/a*b*c", "/xabc", false},
    {"/a*b*c", "/aXbYc", true},
    {"/a*b*c", "/acb", false},
    {"/a$b", "/a$b", true},
    {"/a$b", "/a", false},
    {"/ex?q=1", "/ex?q=1&r=2", true},
    {"/ex?q=1", "/ex?q=2", false},
    /* percent-encoding equivalence (RFC 9309 2.2.2) */
    {"/foo/bar?baz=quz", "/foo/bar?baz=quz", true},
    {"/foo/bar/\xE3\x83\x84", "/foo/bar/%E3%83%84", true},
    {"/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84", true},
    {"/foo/bar/%E3%83%84", "/foo/bar/%e3%83%84", true},
    {"/foo/bar/%e3%83%84", "/foo/bar/\xE3\x83\x84", true},
    {"/foo/bar/%62%61%7A", "/foo/bar/baz", true},
    {"/foo/bar/baz", "/foo/bar/%62%61%7a", true},
    {"/%7Efoo", "/~foo", true},
    {"/~foo", "/%7efoo", true},
    {"/a%2fb", "/a/b", false},
    {"/a/b", "/a%2Fb", false},
    {"/a%2fb", "/a%2Fb", true},
    {"/a%2Ab", "/aXb", false},
    {"/a%2Ab", "/a%2ab", true},
    {"/a b", "/a%20b", true},
    {"/%zz", "/%zz", true},
    {"/50%", "/50%", true},
};

static void test_match_table(void **state) {
  (void)state;
  for (size_t i = 0; i < ARRAY_LEN(match_cases); i++) {
    const match_case *c = &match_cases[i];
    char body[256];
    int n = snprintf(body, sizeof body, "User-agent: *\nDisallow: %s\n", c->pattern);
    assert_true(n > 0 && (size_t)n < sizeof body);
    uc_robots *r = parse(body, "uvcrawl");
    assert_int_equal(uc_robots_rule_count(r), 1);
    bool got = !uc_robots_allowed(r, c->path);
    if (got != c->matches)
      fail_msg("pattern %s path %s: expected %s", c->pattern, c->path,
               c->matches ? "match" : "no match");
    uc_robots_free(r);
  }
}

/* {robots.txt, path, allowed} for ties and precedence between rules. */
typedef struct precedence_case {
  const char *body;
  const char *path;
  bool allowed;
} precedence_case;

static void test_precedence(void **state) {
  (void)state;
  static const precedence_case cases[] = {
      {"User-agent: *\nAllow: /p\nDisallow: /\n", "/page", true},
      {"User-agent: *\nAllow: /folder\nDisallow: /folder\n", "/folder/page", true},
      {"User-agent: *\nDisallow: /folder\nAllow: /folder\n", "/folder/page", true},
      {"User-agent: *\nAllow: /page\nDisallow: /*.htm\n", "/page.htm", false},
      {"User-agent: *\nAllow: /page\nDisallow: /*.ht\n", "/page.htm", true},
      {"User-agent: *\nAllow: /$\nDisallow: /\n", "/", true},
      {"User-agent: *\nAllow: /$\nDisallow: /\n", "/page.htm", false},
      {"User-agent: *\nDisallow: /a\nAllow: /a*\n", "/abc", true},
      {"User-agent: *\nAllow: /~me\nDisallow: /%7Eme/x\n", "/~me/xy", false},
      {"User-agent: *\nDisallow: /x\n", "/y", true},
      {"User-agent: *\nDisallow: /\n", "", false},
      {"User-agent: *\nDisallow: /\n", "/robots.txt", true},
      {"User-agent: *\nDisallow: /robots.txt\n", "/robots.txt", true},
      {"User-agent: *\nDisallow: /\n", "/robots.txtx", false},
  };
  for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
    uc_robots *r = parse(cases[i].body, "uvcrawl");
    if (uc_robots_allowed(r, cases[i].path) != cases[i].allowed)
      fail_msg("case %zu path %s", i, cases[i].path);
    uc_robots_free(r);
  }
}

static void test_group_selection(void **state) {
  (void)state;
  static const char body[] = "User-agent: *\n"
                             "Disallow: /star\n"
                             "\n"
                             "User-agent: uvcrawl\n"
                             "Disallow: /mine\n";
  static const verdict_case cases[] = {
      {"uvcrawl", "/mine", false},
      {"uvcrawl", "/star", true},
      {"UVCrawl", "/mine", false},
      {"uvcrawl/0.1 (+https://example.org/bot)", "/mine", false},
      {"uvcrawl/0.1 (+https://example.org/bot)", "/star", true},
      {"uvcrawler", "/mine", true},
      {"uvcrawler", "/star", false},
      {"uvcraw", "/star", false},
      {"other", "/mine", true},
      {"other", "/star", false},
  };
  check_verdicts(body, cases, ARRAY_LEN(cases));

  /* The file's user-agent value is cut to its name part too. */
  static const char versioned[] = "User-agent: *\nDisallow: /\n\n"
                                  "User-agent: Uvcrawl/2.0\nDisallow: /private\n";
  static const verdict_case vcases[] = {
      {"uvcrawl", "/private/x", false},
      {"uvcrawl", "/public", true},
      {"otherbot", "/public", false},
  };
  check_verdicts(versioned, vcases, ARRAY_LEN(vcases));
}

static void test_group_merge(void **state) {
  (void)state;
  static const char body[] = "User-agent: uvcrawl\n"
                             "Disallow: /a\n"
                             "\n"
                             "User-agent: *\n"
                             "Disallow: /star\n"
                             "\n"
                             "User-agent: UVCRAWL\n"
                             "Disallow: /b\n"
                             "User-agent: uvcrawl\n" /* after rules: a new group */
                             "Disallow: /c\n";
  uc_robots *r = parse(body, "uvcrawl");
  assert_int_equal(uc_robots_rule_count(r), 3);
  assert_false(uc_robots_allowed(r, "/a"));
  assert_false(uc_robots_allowed(r, "/b"));
  assert_false(uc_robots_allowed(r, "/c"));
  assert_true(uc_robots_allowed(r, "/star"));
  uc_robots_free(r);

  /* Several "*" groups merge as well. */
  r = parse("User-agent: *\nDisallow: /x\nUser-agent: foo\nDisallow: /f\n"
            "User-agent: *\nDisallow: /y\n",
            "uvcrawl");
  assert_int_equal(uc_robots_rule_count(r), 2);
  assert_false(uc_robots_allowed(r, "/x"));
  assert_false(uc_robots_allowed(r, "/y"));
  assert_true(uc_robots_allowed(r, "/f"));
  uc_robots_free(r);

  /* One header naming both "*" and us: the rules are ours. */
  r = parse("User-agent: *\nUser-agent: uvcrawl\nDisallow: /both\n", "uvcrawl");
  assert_int_equal(uc_robots_rule_count(r), 1);
  assert_false(uc_robots_allowed(r, "/both"));
  uc_robots_free(r);

  /* Blank lines and a Sitemap line inside the header do not split it. */
  r = parse("User-agent: foo\n\nSitemap: https://x.test/s.xml\nUser-agent: uvcrawl\n"
            "Disallow: /s\n",
            "uvcrawl");
  assert_false(uc_robots_allowed(r, "/s"));
  uc_robots_free(r);
}

static void test_group_fallback(void **state) {
  (void)state;
  /* A group naming us without rules beats a strict "*" group. */
  uc_robots *r = parse("User-agent: *\nDisallow: /\n\nUser-agent: uvcrawl\n", "uvcrawl");
  assert_int_equal(uc_robots_rule_count(r), 0);
  assert_true(uc_robots_allowed(r, "/anything"));
  uc_robots_free(r);

  /* No group for us and no "*" group: allow all. */
  r = parse("User-agent: foo\nDisallow: /\n", "uvcrawl");
  assert_int_equal(uc_robots_rule_count(r), 0);
  assert_true(uc_robots_allowed(r, "/"));
  uc_robots_free(r);

  /* Rules before any user-agent line belong to no group. */
  r = parse("Disallow: /early\nUser-agent: *\nDisallow: /late\n", "uvcrawl");
  assert_int_equal(uc_robots_rule_count(r), 1);
  assert_true(uc_robots_allowed(r, "/early"));
  assert_false(uc_robots_allowed(r, "/late"));
  uc_robots_free(r);

  /* "Disallow:" with no value allows everything. */
  r = parse("User-agent: *\nDisallow:\n", "uvcrawl");
  assert_int_equal(uc_robots_rule_count(r), 0);
  assert_true(uc_robots_allowed(r, "/x"));
  uc_robots_free(r);

  /* "*bot" is not the "*" agent and not us. */
  r = parse("User-agent: *bot\nDisallow: /\n", "uvcrawl");
  assert_true(uc_robots_allowed(r, "/x"));
  uc_robots_free(r);
}

/* {robots.txt, expected Crawl-delay} for agent "uvcrawl". */
typedef struct delay_case {
  const char *body;
  double delay;
} delay_case;

static void test_crawl_delay(void **state) {
  (void)state;
  static const delay_case cases[] = {
      {"User-agent: *\nCrawl-delay: 2\n", 2.0},
      {"User-agent: *\nCrawl-delay: 0.5\n", 0.5},
      {"User-agent: *\nCrawl-delay: .25\n", 0.25},
      {"User-agent: *\nCrawl-delay: 0\n", 0.0},
      {"User-agent: *\ncrawl-DELAY:   10   # slow down\n", 10.0},
      {"User-agent: *\nCrawl-delay: abc\n", -1.0},
      {"User-agent: *\nCrawl-delay: -1\n", -1.0},
      {"User-agent: *\nCrawl-delay: 1.5s\n", -1.0},
      {"User-agent: *\nCrawl-delay: 1e3\n", -1.0},
      {"User-agent: *\nCrawl-delay: 1.2.3\n", -1.0},
      {"User-agent: *\nCrawl-delay: .\n", -1.0},
      {"User-agent: *\nCrawl-delay:\n", -1.0},
      {"User-agent: *\nCrawl-delay: nan\n", -1.0},
      {"User-agent: *\nCrawl-delay: -1\nCrawl-delay: 3\n", 3.0},
      {"User-agent: *\nCrawl-delay: 4\nCrawl-delay: 3\n", 4.0},
      {"User-agent: *\nCrawl-delay: 9\n\nUser-agent: uvcrawl\nCrawl-delay: 1\n", 1.0},
      {"User-agent: *\nCrawl-delay: 9\n\nUser-agent: uvcrawl\nDisallow: /x\n", -1.0},
      {"User-agent: other\nCrawl-delay: 9\n\nUser-agent: *\nCrawl-delay: 7\n", 7.0},
      {"User-agent: other\nCrawl-delay: 9\n", -1.0},
      {"", -1.0},
  };
  for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
    uc_robots *r = parse(cases[i].body, "uvcrawl");
    double got = uc_robots_crawl_delay(r);
    if (got != cases[i].delay)
      fail_msg("case %zu: got %g expected %g", i, got, cases[i].delay);
    uc_robots_free(r);
  }
}

/* Line syntax: CRLF, CR, BOM, comments, spacing, case, missing colons. */
static void test_syntax(void **state) {
  (void)state;
  static const precedence_case cases[] = {
      {"User-agent: *\r\nDisallow: /crlf\r\n", "/crlf", false},
      {"User-agent: *\rDisallow: /cr\r", "/cr", false},
      {"User-agent: *\r\n\r\nDisallow: /mixed\nAllow: /mixed/ok\r", "/mixed/ok", true},
      {"User-agent: *\r\n\r\nDisallow: /mixed\nAllow: /mixed/ok\r", "/mixed/no", false},
      {"\xEF\xBB\xBFUser-agent: *\nDisallow: /bom\n", "/bom", false},
      {"# header comment\nUser-agent: * # all\nDisallow: /c # comment\n", "/c", false},
      {"User-agent: *\nDisallow: /c#frag\n", "/c", false},
      {"User-agent: *\nDisallow: /c#frag\n", "/b", true},
      {"User-agent: *\n# Disallow: /commented\n", "/commented", true},
      {"  USER-AGENT  :  *  \n\tdisALLOW\t:\t/sp\t\n", "/sp", false},
      {"User-agent: *\nDisallow /nocolon\n", "/nocolon", true},
      {"User-agent *\nDisallow: /x\n", "/x", true},
      {"User-agent: *\nDisallow: /last", "/last", false},
      {"User-agent: *\nNoindex: /n\nDisallow: /d\n", "/n", true},
      {"User-agent: *\nNoindex: /n\nDisallow: /d\n", "/d", false},
      {"useragent: *\nDisallow: /typo\n", "/typo", false},
      {"User-agent: *\nDisallow: /a b\n", "/a%20b", false},
      {"", "/", true},
      {"\n\n\r\n", "/", true},
      {"\xEF\xBB\xBF", "/", true},
  };
  for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
    uc_robots *r = parse(cases[i].body, "uvcrawl");
    if (uc_robots_allowed(r, cases[i].path) != cases[i].allowed)
      fail_msg("case %zu path %s", i, cases[i].path);
    uc_robots_free(r);
  }

  /* An embedded NUL is just a byte: the line goes on past it. */
  static const char nul[] = "User-agent: *\nDisallow: /n\0ul\nDisallow: /after\n";
  uc_robots *r = parse_n(nul, sizeof nul - 1, "uvcrawl");
  assert_int_equal(uc_robots_rule_count(r), 2);
  assert_false(uc_robots_allowed(r, "/after"));
  assert_false(uc_robots_allowed(r, "/n%00ul"));
  assert_true(uc_robots_allowed(r, "/n"));
  uc_robots_free(r);

  /* An empty body, with or without a pointer. */
  r = parse_n(NULL, 0, "uvcrawl");
  assert_int_equal(uc_robots_rule_count(r), 0);
  assert_true(uc_robots_allowed(r, "/"));
  assert_true(uc_robots_crawl_delay(r) == -1.0);
  uc_robots_free(r);
}

/* Pads with comment lines up to `at` bytes, then appends `tail`. */
static char *body_with_tail_at(size_t at, const char *head, const char *tail, size_t *len) {
  size_t hlen = strlen(head), tlen = strlen(tail);
  assert_true(at > hlen);
  char *body = malloc(at + tlen);
  assert_non_null(body);
  memcpy(body, head, hlen);
  memset(body + hlen, ' ', at - hlen);
  for (size_t i = hlen; i + 80 < at; i += 80) {
    body[i] = '#';
    body[i + 79] = '\n';
  }
  body[at - 1] = '\n';
  memcpy(body + at, tail, tlen);
  *len = at + tlen;
  return body;
}

static void test_size_cap(void **state) {
  (void)state;
  size_t len;
  char *body = body_with_tail_at(UC_ROBOTS_MAX_BYTES, "User-agent: *\nDisallow: /early\n",
                                 "Disallow: /late\n", &len);
  uc_robots *r = parse_n(body, len, "uvcrawl");
  assert_int_equal(uc_robots_rule_count(r), 1);
  assert_false(uc_robots_allowed(r, "/early"));
  assert_true(uc_robots_allowed(r, "/late"));
  uc_robots_free(r);
  free(body);

  /* Just inside the cap still counts. */
  body = body_with_tail_at(UC_ROBOTS_MAX_BYTES - 20, "User-agent: *\n", "Disallow: /in\n", &len);
  assert_true(len < UC_ROBOTS_MAX_BYTES);
  r = parse_n(body, len, "uvcrawl");
  assert_false(uc_robots_allowed(r, "/in"));
  uc_robots_free(r);
  free(body);
}

static void test_garbage(void **state) {
  (void)state;
  /* Deterministic pseudo-random bytes (an LCG), including NULs and CRs. */
  size_t len = 64 * 1024;
  char *body = malloc(len);
  assert_non_null(body);
  uint32_t x = 12345;
  for (int round = 0; round < 8; round++) {
    for (size_t i = 0; i < len; i++) {
      x = x * 1103515245u + 12345u;
      body[i] = (char)(x >> 16);
    }
    uc_robots *r = parse_n(body, len, "uvcrawl");
    assert_true(uc_robots_allowed(r, "/robots.txt"));
    (void)uc_robots_allowed(r, "/some/path?q=1");
    uc_robots_free(r);
  }
  free(body);

  /* Text-like garbage: colons, stars and percents everywhere. */
  static const char junk[] = ":::\n*:*\n%%%:%zz\nUser-agent:\nAllow:*$*$\n$:$\n"
                             "Disallow: %\nDisallow: *\nCrawl-delay: ::\n";
  uc_robots *r = parse(junk, "uvcrawl");
  assert_int_equal(uc_robots_rule_count(r), 0);
  assert_true(uc_robots_allowed(r, "/"));
  uc_robots_free(r);
}

/* Many stars against a long run of "a": exponential with naive backtracking. */
static void test_pathological_wildcards(void **state) {
  (void)state;
  static const char body[] = "User-agent: *\n"
                             "Disallow: /*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n"
                             "Disallow: /*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b$\n"
                             "Allow: /*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*c\n";
  uc_robots *r = parse(body, "uvcrawl");
  size_t n = 20000;
  char *path = malloc(n + 2);
  assert_non_null(path);
  path[0] = '/';
  memset(path + 1, 'a', n);
  path[n + 1] = '\0';
  clock_t start = clock();
  assert_true(uc_robots_allowed(r, path));
  path[n] = 'b';
  assert_false(uc_robots_allowed(r, path));
  double secs = (double)(clock() - start) / CLOCKS_PER_SEC;
  assert_true(secs < 5.0);
  free(path);
  uc_robots_free(r);
}

static void test_allow_disallow_all(void **state) {
  (void)state;
  uc_robots *r = NULL;
  assert_int_equal(uc_robots_new_allow_all(&r), 0);
  assert_true(uc_robots_allowed(r, "/"));
  assert_true(uc_robots_allowed(r, "/any?thing"));
  assert_int_equal(uc_robots_rule_count(r), 0);
  assert_true(uc_robots_crawl_delay(r) == -1.0);
  uc_robots_free(r);

  r = NULL;
  assert_int_equal(uc_robots_new_disallow_all(&r), 0);
  assert_false(uc_robots_allowed(r, "/"));
  assert_false(uc_robots_allowed(r, "/any?thing"));
  assert_true(uc_robots_allowed(r, "/robots.txt"));
  assert_int_equal(uc_robots_rule_count(r), 1);
  assert_true(uc_robots_crawl_delay(r) == -1.0);
  uc_robots_free(r);

  uc_robots_free(NULL);
}

/* A long path takes the heap scratch buffer in uc_robots_allowed. */
static void test_long_path(void **state) {
  (void)state;
  uc_robots *r = parse("User-agent: *\nDisallow: /*%7E$\n", "uvcrawl");
  size_t n = 100000;
  char *path = malloc(n + 1);
  assert_non_null(path);
  memset(path, 'x', n);
  path[0] = '/';
  path[n - 1] = '~';
  path[n] = '\0';
  assert_false(uc_robots_allowed(r, path));
  path[n - 1] = 'y';
  assert_true(uc_robots_allowed(r, path));
  free(path);
  uc_robots_free(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc_example),
      cmocka_unit_test(test_rfc_longest_match),
      cmocka_unit_test(test_match_table),
      cmocka_unit_test(test_precedence),
      cmocka_unit_test(test_group_selection),
      cmocka_unit_test(test_group_merge),
      cmocka_unit_test(test_group_fallback),
      cmocka_unit_test(test_crawl_delay),
      cmocka_unit_test(test_syntax),
      cmocka_unit_test(test_size_cap),
      cmocka_unit_test(test_garbage),
      cmocka_unit_test(test_pathological_wildcards),
      cmocka_unit_test(test_allow_disallow_all),
      cmocka_unit_test(test_long_path),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
