/*
 * test_extract.c - unit tests for extract: link sources, filters, limits.
 * Every case runs for both parsers (main() runs the group twice); the few
 * whose result is a parser's own are marked where they are, with why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"
#include "uvcrawl/extract.h"

#define PAGE "http://ex.com/dir/page.html"
#define MAX_URLS 8

/* The parser of the group being run. */
static uc_parser parser;

/* extract() with the group's parser. */
static int extract(const char *html, size_t len, const char *page_url, const uc_extract_opts *o,
                   uc_links *out) {
  uc_extract_opts with = o != NULL ? *o : (uc_extract_opts){0};
  with.parser = parser;
  return uc_extract(html, len, page_url, &with, out);
}

struct extract_case {
  const char *name;
  const char *html;
  const char *urls[MAX_URLS]; /* expected, in order, NULL-terminated */
  size_t found, skipped;
};

static void check_links(const char *name, const uc_links *l, const char *const *urls) {
  size_t n = 0;
  while (n < MAX_URLS && urls[n] != NULL)
    n++;
  for (size_t i = 0; i < l->count || i < n; i++) {
    const char *got = i < l->count ? l->urls[i] : "(none)";
    const char *want = i < n ? urls[i] : "(none)";
    if (strcmp(got, want) != 0)
      fail_msg("%s: url %zu is \"%s\", expected \"%s\"", name, i, got, want);
  }
}

static void run_cases(const struct extract_case *cases, size_t ncases, const uc_extract_opts *o) {
  for (size_t i = 0; i < ncases; i++) {
    const struct extract_case *c = &cases[i];
    uc_links l;
    int rc = extract(c->html, strlen(c->html), PAGE, o, &l);
    if (rc != 0)
      fail_msg("%s: %s", c->name, uc_errname(rc));
    check_links(c->name, &l, c->urls);
    if (l.found != c->found || l.skipped != c->skipped)
      fail_msg("%s: found %zu skipped %zu, expected %zu %zu", c->name, l.found, l.skipped,
               c->found, c->skipped);
    uc_links_free(&l);
    assert_null(l.urls);
    assert_int_equal(l.count, 0);
  }
}

static void test_sources(void **state) {
  static const struct extract_case cases[] = {
      {"a", "<a href=x>x</a>", {"http://ex.com/dir/x"}, 1, 0},
      {"area", "<map><area href=/m shape=rect></map>", {"http://ex.com/m"}, 1, 0},
      {"link alternate", "<link rel=alternate href=/feed>", {"http://ex.com/feed"}, 1, 0},
      {"link next/prev/canonical",
       "<link rel=next href=p2><link rel=PREV href=p0><link rel=canonical href=/c><link href=n>",
       {"http://ex.com/dir/p2", "http://ex.com/dir/p0", "http://ex.com/c", "http://ex.com/dir/n"},
       4, 0},
      {"link stylesheet and icons skipped",
       "<link rel=stylesheet href=s.css><link rel='shortcut icon' href=/f.ico>"
       "<link rel='alternate stylesheet' href=a.css><link rel=apple-touch-icon href=t.png>",
       {NULL}, 0, 0},
      {"link hints skipped",
       "<link rel=preload href=a.js><link rel=dns-prefetch href=//cdn.com>"
       "<link rel=preconnect href=//cdn.com><link rel=manifest href=/m.json>",
       {NULL}, 0, 0},
      {"frame", "<frameset><frame src=f1><frame src=/f2></frameset>",
       {"http://ex.com/dir/f1", "http://ex.com/f2"}, 2, 0},
      {"iframe", "<iframe src='//other.com/x'></iframe>", {"http://other.com/x"}, 1, 0},
      {"no href or src", "<a name=top>x</a><iframe></iframe><link rel=next>", {NULL}, 0, 0},
      {"img and script are not links", "<img src=i.png><script src=s.js></script>", {NULL}, 0, 0},
      {"svg a is not an HTML link", "<svg><a href=/s><circle/></a></svg><a href=/h>",
       {"http://ex.com/h"}, 1, 0},
      {"document order across sources",
       "<head><link rel=next href=/1></head><body><a href=/2><iframe src=/3></iframe>"
       "<area href=/4></body>",
       {"http://ex.com/1", "http://ex.com/2", "http://ex.com/3", "http://ex.com/4"}, 4, 0},
      {"template and noscript", "<template><a href=/t></a></template><noscript><a href=/n></a>"
                                "</noscript>",
       {"http://ex.com/t", "http://ex.com/n"}, 2, 0},
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_want_stylesheets(void **state) {
  static const struct extract_case cases[] = {
      {"stylesheet wanted", "<link rel=stylesheet href=s.css><link rel=icon href=/f.ico>"
                            "<link rel=preload href=p.js><a href=a>",
       {"http://ex.com/dir/s.css", "http://ex.com/f.ico", "http://ex.com/dir/a"}, 3, 0},
  };
  uc_extract_opts o = {.want_stylesheets = true};
  run_cases(cases, sizeof cases / sizeof cases[0], &o);
}

static void test_base_href(void **state) {
  static const struct extract_case cases[] = {
      {"relative base", "<base href=/other/><a href=x>", {"http://ex.com/other/x"}, 1, 0},
      {"absolute base", "<base href='https://cdn.com/b/'><a href=x><a href=/y>",
       {"https://cdn.com/b/x", "https://cdn.com/y"}, 2, 0},
      {"first base wins, even after links",
       "<a href=x><base href=/one/><base href=/two/><a href=y>",
       {"http://ex.com/one/x", "http://ex.com/one/y"}, 2, 0},
      {"base without href is ignored", "<base target=_blank><base href=/b/><a href=x>",
       {"http://ex.com/b/x"}, 1, 0},
      {"unusable base is ignored", "<base href='javascript:x'><a href=x>",
       {"http://ex.com/dir/x"}, 1, 0},
      {"fragment resolves against the base", "<base href=/b/><a href=#top>",
       {"http://ex.com/b/"}, 1, 0},
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_meta_refresh(void **state) {
  static const struct extract_case cases[] = {
      {"classic", "<meta http-equiv=refresh content='5; url=/x'>", {"http://ex.com/x"}, 1, 0},
      {"upper case", "<META HTTP-EQUIV=REFRESH CONTENT='0;URL=/x'>", {"http://ex.com/x"}, 1, 0},
      {"no number", "<meta http-equiv=refresh content='url=y'>", {"http://ex.com/dir/y"}, 1, 0},
      {"no url=", "<meta http-equiv=refresh content='0; /z'>", {"http://ex.com/z"}, 1, 0},
      {"quoted", "<meta http-equiv=refresh content=\"3;URL='/q?a=1'\">",
       {"http://ex.com/q?a=1"}, 1, 0},
      {"double-quoted", "<meta http-equiv=refresh content='3; url = \"/d\" '>",
       {"http://ex.com/d"}, 1, 0},
      {"comma and spaces", "<meta http-equiv=refresh content='  1 ,  url=/c  '>",
       {"http://ex.com/c"}, 1, 0},
      {"fractional", "<meta http-equiv=refresh content='1.5;url=/f'>", {"http://ex.com/f"}, 1, 0},
      {"absolute", "<meta http-equiv=refresh content='0;url=https://b.com/'>",
       {"https://b.com/"}, 1, 0},
      {"only a delay", "<meta http-equiv=refresh content=5>", {NULL}, 0, 0},
      {"empty quoted", "<meta http-equiv=refresh content=\"5;url=''\">", {NULL}, 0, 0},
      {"other http-equiv", "<meta http-equiv=content-type content='text/html; url=/no'>",
       {NULL}, 0, 0},
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_nofollow(void **state) {
  static const char rel[] = "<a href=/a rel=nofollow>a</a><a href=/b rel='external NoFollow'>b"
                            "</a><area rel=nofollow href=/c><a href=/d>d</a>";
  static const char meta[] = "<meta name=ROBOTS content='noindex, NOFOLLOW'><a href=/a>a</a>"
                             "<a href=/b>b</a>";
  static const char none[] = "<meta name=robots content=none><a href=/a>a</a>";
  static const char index[] = "<meta name=robots content='index,follow'><a href=/a>a</a>";
  static const char other[] = "<meta name=googlebot content=nofollow><a href=/a>a</a>";
  uc_links l;
  uc_extract_opts follow = {.ignore_nofollow = true};

  assert_int_equal(extract(rel, strlen(rel), PAGE, NULL, &l), 0);
  check_links("rel", &l, (const char *[]){"http://ex.com/d", NULL});
  assert_int_equal(l.found, 4);
  assert_int_equal(l.skipped, 3);
  assert_false(l.nofollow);
  uc_links_free(&l);
  assert_int_equal(extract(rel, strlen(rel), PAGE, &follow, &l), 0);
  check_links("rel ignored", &l,
              (const char *[]){"http://ex.com/a", "http://ex.com/b", "http://ex.com/c",
                               "http://ex.com/d", NULL});
  assert_int_equal(l.skipped, 0);
  uc_links_free(&l);

  assert_int_equal(extract(meta, strlen(meta), PAGE, NULL, &l), 0);
  assert_int_equal(l.count, 0);
  assert_int_equal(l.found, 2);
  assert_int_equal(l.skipped, 2);
  assert_true(l.nofollow);
  assert_true(l.noindex);
  uc_links_free(&l);
  assert_int_equal(extract(meta, strlen(meta), PAGE, &follow, &l), 0);
  check_links("meta ignored", &l, (const char *[]){"http://ex.com/a", "http://ex.com/b", NULL});
  assert_true(l.nofollow);
  uc_links_free(&l);

  assert_int_equal(extract(none, strlen(none), PAGE, NULL, &l), 0);
  assert_int_equal(l.count, 0);
  assert_true(l.nofollow && l.noindex);
  uc_links_free(&l);
  assert_int_equal(extract(index, strlen(index), PAGE, NULL, &l), 0);
  assert_int_equal(l.count, 1);
  assert_false(l.nofollow || l.noindex);
  uc_links_free(&l);
  assert_int_equal(extract(other, strlen(other), PAGE, NULL, &l), 0);
  assert_int_equal(l.count, 1);
  assert_false(l.nofollow);
  uc_links_free(&l);
}

static void test_schemes_and_malformed(void **state) {
  static const struct extract_case cases[] = {
      {"skipped schemes",
       "<a href='javascript:void(0)'>j</a><a href='mailto:a@b.c'>m</a>"
       "<a href='data:text/html,x'>d</a><a href='tel:123'>t</a><a href='ftp://x/'>f</a>"
       "<a href='  JavaScript:x'>J</a><a href=ok>ok</a>",
       {"http://ex.com/dir/ok"}, 7, 6},
      {"malformed", "<a href='http://'>1</a><a href='http://[::1'>2</a><a href='http://a b/'>3"
                    "</a><a href='http://x:99999/'>4</a>",
       {NULL}, 4, 4},
      {"https and http kept", "<a href=https://s.com/><a href=HTTP://P.COM>",
       {"https://s.com/", "http://p.com/"}, 2, 0},
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_attributes(void **state) {
  static const struct extract_case cases[] = {
      {"entities", "<a href=\"/a?x=1&amp;y=2\">", {"http://ex.com/a?x=1&y=2"}, 1, 0},
      {"numeric entities", "<a href='/&#97;&#x62;?q=&lt;'>", {"http://ex.com/ab?q=%3C"}, 1, 0},
      {"entity without ;", "<a href='/p?a=1&copy=2'>", {"http://ex.com/p?a=1&copy=2"}, 1, 0},
      {"whitespace", "<a href='  \n\t/w \n'>", {"http://ex.com/w"}, 1, 0},
      {"newline inside", "<a href='/a\nb'>", {"http://ex.com/ab"}, 1, 0},
      {"inner space", "<a href='/a b'>", {"http://ex.com/a%20b"}, 1, 0},
      {"unquoted", "<a href=/u?v=1 class=x>", {"http://ex.com/u?v=1"}, 1, 0},
      {"upper-case names", "<A HREF=/up>", {"http://ex.com/up"}, 1, 0},
      {"utf-8", "<a href='/caf\xc3\xa9'>", {"http://ex.com/caf%C3%A9"}, 1, 0},
      {"empty href is the page", "<a href=''>", {PAGE}, 1, 0},
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_dedup(void **state) {
  static const struct extract_case cases[] = {
      {"same href twice", "<a href=/x><a href=/x>", {"http://ex.com/x"}, 2, 0},
      {"spellings of one URL",
       "<a href=/x><a href='http://EX.com:80/x#f'><a href='/./y/../x'><a href=%2Fx>",
       {"http://ex.com/x", "http://ex.com/dir/%2Fx"}, 4, 0},
      {"fragments are the page itself", "<a href=#top><a href=#bottom><a href=''><a href=x>",
       {PAGE, "http://ex.com/dir/x"}, 4, 0},
      {"order of first appearance", "<a href=/b><a href=/a><a href=/b><a href=/c><a href=/a>",
       {"http://ex.com/b", "http://ex.com/a", "http://ex.com/c"}, 5, 0},
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);
}

static void test_many_links(void **state) {
  uc_buf html = UC_BUF_INIT;
  for (int i = 0; i < 3000; i++)
    assert_int_equal(uc_buf_printf(&html, "<a href=/p%d>%d</a><a href=/p%d>\n", i, i, i / 2), 0);
  uc_links l;
  assert_int_equal(extract(html.data, html.len, PAGE, NULL, &l), 0);
  assert_int_equal(l.count, 3000);
  assert_int_equal(l.found, 6000);
  assert_string_equal(l.urls[0], "http://ex.com/p0");
  assert_string_equal(l.urls[2999], "http://ex.com/p2999");
  uc_links_free(&l);
  uc_buf_free(&html);
}

static void test_malformed_html(void **state) {
  static const struct extract_case cases[] = {
      {"unclosed tags", "<div><p><a href=/a>a<div><a href=/b>", {"http://ex.com/a", "http://ex.com/b"},
       2, 0},
      {"stray end tags", "</a></div></p><a href=/s>s</a></a></body></html></html>",
       {"http://ex.com/s"}, 1, 0},
      {"unclosed attribute quote", "<a href=/ok>x</a><a href=\"/broken>y</a>", {"http://ex.com/ok"},
       1, 0},
      {"garbage bytes", "\xff\xfe<a href=/g\xff>\x80\x81</a><\x01><<>>", {"http://ex.com/g%EF%BF%BD"},
       1, 0},
      {"empty", "", {NULL}, 0, 0},
      {"text only", "just some text, no markup", {NULL}, 0, 0},
      {"comment hides a link", "<!-- <a href=/c> --><a href=/v>", {"http://ex.com/v"}, 1, 0},
      {"script hides a link", "<script>document.write('<a href=/s>')</script><a href=/v>",
       {"http://ex.com/v"}, 1, 0},
      {"doctype and pi", "<!DOCTYPE html><?xml version='1.0'?><a href=/d>", {"http://ex.com/d"},
       1, 0},
  };
  run_cases(cases, sizeof cases / sizeof cases[0], NULL);

  /* NUL bytes inside the buffer */
  static const char nul[] = "<a href=/n1>\0</a><a href='/n\0x'>\0<a href=/n3>";
  uc_links l;
  assert_int_equal(extract(nul, sizeof nul - 1, PAGE, NULL, &l), 0);
  check_links("nul", &l,
              (const char *[]){"http://ex.com/n1", "http://ex.com/n%EF%BF%BDx", "http://ex.com/n3",
                               NULL});
  uc_links_free(&l);
  /* NULL with length 0 */
  assert_int_equal(extract(NULL, 0, PAGE, NULL, &l), 0);
  assert_int_equal(l.count, 0);
  uc_links_free(&l);
}

static void test_bad_page_url(void **state) {
  static const char html[] = "<a href=/x>";
  static const char *const bad[] = {"", "/relative", "mailto:a@b", "http://", "ftp://x/"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uc_links l;
    memset(&l, 0x5a, sizeof l);
    assert_int_equal(extract(html, sizeof html - 1, bad[i], NULL, &l), UC_EBADURL);
    assert_null(l.urls);
    assert_int_equal(l.count, 0);
    uc_links_free(&l);
  }
}

static char *repeat_tag(const char *open, size_t n, const char *tail) {
  uc_buf b = UC_BUF_INIT;
  for (size_t i = 0; i < n; i++)
    assert_int_equal(uc_buf_puts(&b, open), 0);
  assert_int_equal(uc_buf_puts(&b, tail), 0);
  return uc_buf_steal(&b);
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_deep_nesting(void **state) {
  uc_links l;
  /* 100,000 nested divs: refused quickly, without parsing */
  char *deep = repeat_tag("<div>", 100000, "<a href=/deep>");
  double t0 = cpu_seconds();
  assert_int_equal(extract(deep, strlen(deep), PAGE, NULL, &l), UC_ETOODEEP);
  assert_true(cpu_seconds() - t0 < 0.5);
  assert_null(l.urls);
  free(deep);
  /* other deep shapes */
  static const char *const shapes[] = {"<b>", "<x-el>", "<div/>", "<svg><g>", "<table><tr><td>",
                                       "<ul><li>"};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    /* Note: libxml2 honours "/>" on any element (HTML5 only on void and
     * foreign ones), so for it "<div/>" repeated is flat, not deep. */
    if (parser == UC_PARSER_LIBXML2 && strcmp(shapes[i], "<div/>") == 0)
      continue;
    deep = repeat_tag(shapes[i], 20000, "");
    int rc = extract(deep, strlen(deep), PAGE, NULL, &l);
    if (rc != UC_ETOODEEP)
      fail_msg("deep shape \"%s\": %s", shapes[i], uc_errname(rc));
    free(deep);
  }
  /* the limit is an option */
  char *d300 = repeat_tag("<div>", 300, "<a href=/ok>");
  assert_int_equal(extract(d300, strlen(d300), PAGE, NULL, &l), 0);
  assert_int_equal(l.count, 1);
  uc_links_free(&l);
  uc_extract_opts o = {.max_nesting = 100};
  assert_int_equal(extract(d300, strlen(d300), PAGE, &o, &l), UC_ETOODEEP);
  free(d300);
  /* long flat pages with implied end tags and void elements are not deep */
  static const char *const flat[] = {"<p>text", "<li>item", "<tr><td>a<td>b", "<br><img src=x>",
                                     "<div></div>", "<option>o", "<dt>t<dd>d",
                                     "<svg><path d='M0'/></svg>", "<script>if(a<b)x='<div>'</script>",
                                     "<!-- <div> -->", "<textarea><div></textarea>"};
  for (size_t i = 0; i < sizeof flat / sizeof flat[0]; i++) {
    /* Note: libxml2 parses markup inside a textarea, and its </textarea>
     * cannot close the <div> opened there: each repetition nests. */
    if (parser == UC_PARSER_LIBXML2 && strstr(flat[i], "<textarea>") != NULL)
      continue;
    char *wide = repeat_tag(flat[i], 5000, "<a href=/wide>");
    if (extract(wide, strlen(wide), PAGE, NULL, &l) != 0)
      fail_msg("flat shape \"%s\" refused", flat[i]);
    assert_int_equal(l.count, 1);
    uc_links_free(&l);
    free(wide);
  }
}

static void test_truncated(void **state) {
  static const char html[] = "<a href=/one>1</a><a href=/two>2</a><a href=/three>3</a>";
  uc_links l;
  /* cut inside the second tag: the first link only */
  uc_extract_opts o = {.max_bytes = 25};
  assert_int_equal(extract(html, sizeof html - 1, PAGE, &o, &l), 0);
  check_links("truncated", &l, (const char *[]){"http://ex.com/one", NULL});
  uc_links_free(&l);
  /* cut inside an attribute value: gumbo ends the tag at EOF */
  o.max_bytes = 30;
  assert_int_equal(extract(html, sizeof html - 1, PAGE, &o, &l), 0);
  assert_true(l.count >= 1);
  uc_links_free(&l);
  /* a body that just stops */
  assert_int_equal(extract(html, 10, PAGE, NULL, &l), 0);
  uc_links_free(&l);
}

static void test_random_bytes(void **state) {
  static const char *const pieces[] = {"<a href=", "/x", "'", "\"", ">", "<div>", "</div>",
                                       "<!--", "-->", "<script>", "</script>", "<base href=",
                                       "&amp;", "\xff", " ", "#", "<meta http-equiv=refresh content=",
                                       "<svg>", "/>", "<table>", "<td>"};
  uint32_t seed = 7;
  for (int i = 0; i < 500; i++) {
    uc_buf b = UC_BUF_INIT;
    assert_int_equal(uc_buf_reserve(&b, 0), 0);
    seed = seed * 1103515245u + 12345u;
    int n = (int)((seed >> 16) % 60);
    for (int j = 0; j < n; j++) {
      seed = seed * 1103515245u + 12345u;
      assert_int_equal(uc_buf_puts(&b, pieces[(seed >> 16) % (sizeof pieces / sizeof pieces[0])]), 0);
    }
    uc_links l;
    int rc = extract(b.data, b.len, PAGE, NULL, &l);
    assert_true(rc == 0 || rc == UC_ETOODEEP);
    for (size_t k = 0; k < l.count; k++)
      assert_true(strncmp(l.urls[k], "http", 4) == 0);
    assert_true(l.count + l.skipped <= l.found);
    uc_links_free(&l);
    uc_buf_free(&b);
  }
}

/*
 * n bytes of s placed right before an inaccessible page, with no NUL after
 * them: a read past the end faults in any build, not only under ASan.
 * Returns the start; free with guarded_free(start, n).
 */
static char *guarded_copy(const char *s, size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t span = (n + page - 1) / page * page + page;
  char *base = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(base != MAP_FAILED);
  assert_int_equal(mprotect(base + span - page, page, PROT_NONE), 0);
  char *start = base + span - page - n;
  memcpy(start, s, n);
  return start;
}

static void guarded_free(char *start, size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t span = (n + page - 1) / page * page + page;
  assert_int_equal(munmap(start + n + page - span, span), 0);
}

/*
 * Bodies that end right after "</name" of an open raw text element: the
 * pre-scan read the byte after the name (one past the end) to see whether
 * the end tag goes on. Found by fuzz_extract (regress-prescan-overflow.html).
 */
static void test_body_ends_in_end_tag_name(void **state) {
  static const struct extract_case cases[] = {
      {"iframe", "<iframe src=/f></iframe", {"http://ex.com/f"}, 1, 0},
      {"script", "<a href=/a>a</a><script>x</script", {"http://ex.com/a"}, 1, 0},
      {"style upper", "<a href=/s>s</a><style>p{}</STYLE", {"http://ex.com/s"}, 1, 0},
      {"title", "<title>t</title", {NULL}, 0, 0},
      {"textarea", "<textarea></textarea", {NULL}, 0, 0},
      {"partial name", "<a href=/p>p</a><script>x</scrip", {"http://ex.com/p"}, 1, 0},
      {"fuzz regress-prescan-overflow",
       "<meta name=\"roboer.test/f\"></iframe><link rel=\"aSte=\"/no\">no</a>a href=\"/no\""
       "<html><head>a>nob<se href=\"/base/\"><meta http-equiv=\"reluncl cl\">x</a><a "
       "rel=\"nofollow\" h</ref=\"/n\">n</a><arrea href=\"/area\"><iframe "
       "sarc=\"//other>.test/f\"></iframe",
       {NULL}, 0, 0}, /* no href survives the mangling: the point is no overread */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct extract_case *c = &cases[i];
    size_t len = strlen(c->html);
    char *body = guarded_copy(c->html, len);
    uc_links l;
    int rc = extract(body, len, PAGE, NULL, &l);
    if (rc != 0)
      fail_msg("%s: %s", c->name, uc_errname(rc));
    check_links(c->name, &l, c->urls);
    if (l.found != c->found || l.skipped != c->skipped)
      fail_msg("%s: found %zu skipped %zu, expected %zu %zu", c->name, l.found, l.skipped,
               c->found, c->skipped);
    uc_links_free(&l);
    guarded_free(body, len);
  }
}

/* Fed in pieces of every size (even inside a tag or a UTF-8 sequence),
 * an extractor gives what one uc_extract() call gives, also when it was
 * ended (uc_extractor_end) before its finish. */
static void test_fed_in_pieces(void **state) {
  static const char *const pages[] = {
      ("<base href=/b/><a href=x>x</a><link rel=next href=/n><meta http-equiv=refresh "
       "content='0;url=/r'><iframe src=/f></iframe><a href='/caf\xc3\xa9'>"),
      "<meta name=robots content=nofollow><a href=/a><svg><a href=/s></a></svg>",
      "\xff<a href='/\xe2\x82\xac\xe2\x82'>\xf0\x9f\x98\x80<a href=/z>",
  };
  uc_extract_opts o = {.parser = parser};
  for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
    size_t len = strlen(pages[i]);
    uc_links want;
    assert_int_equal(uc_extract(pages[i], len, PAGE, &o, &want), 0);
    assert_true(want.count < MAX_URLS);
    const char *urls[MAX_URLS] = {NULL};
    for (size_t k = 0; k < want.count; k++)
      urls[k] = want.urls[k];
    for (size_t piece = 1; piece <= len; piece++) {
      uc_extractor *x;
      assert_int_equal(uc_extractor_new(&x, PAGE, &o), 0);
      for (size_t at = 0; at < len; at += piece)
        assert_int_equal(uc_extractor_feed(x, pages[i] + at, at + piece < len ? piece : len - at),
                         0);
      if (piece % 2 == 1) { /* ended first: the parse done, then a feed ignored */
        assert_int_equal(uc_extractor_end(x), 0);
        assert_int_equal(uc_extractor_feed(x, "<a href=/late>", 14), 0);
      }
      uc_links got;
      assert_int_equal(uc_extractor_finish(x, &got), 0);
      uc_extractor_free(x);
      char name[64];
      snprintf(name, sizeof name, "page %zu in pieces of %zu", i, piece);
      check_links(name, &got, urls);
      assert_int_equal(got.found, want.found);
      assert_int_equal(got.skipped, want.skipped);
      uc_links_free(&got);
    }
    uc_links_free(&want);
  }
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  uc_extract_global_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sources),
      cmocka_unit_test(test_want_stylesheets),
      cmocka_unit_test(test_base_href),
      cmocka_unit_test(test_meta_refresh),
      cmocka_unit_test(test_nofollow),
      cmocka_unit_test(test_schemes_and_malformed),
      cmocka_unit_test(test_attributes),
      cmocka_unit_test(test_dedup),
      cmocka_unit_test(test_many_links),
      cmocka_unit_test(test_malformed_html),
      cmocka_unit_test(test_bad_page_url),
      cmocka_unit_test(test_deep_nesting),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_random_bytes),
      cmocka_unit_test(test_body_ends_in_end_tag_name),
      cmocka_unit_test(test_fed_in_pieces),
  };
  parser = UC_PARSER_GUMBO;
  int failed = cmocka_run_group_tests_name("gumbo", tests, NULL, NULL);
  parser = UC_PARSER_LIBXML2;
  failed += cmocka_run_group_tests_name("libxml2", tests, NULL, NULL);
  curl_global_cleanup();
  return failed;
}
