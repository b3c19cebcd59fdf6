/*
 * test_sitemap.c - sitemaps (urlset, index, gzip, limits, hostile XML) and
 * the Sitemap: lines of robots.txt.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"
#include "uvcrawl/sitemap.h"

#define BASE "https://a.test/sitemaps/main.xml"
#define URLSET "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
               "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
#define INDEX "<?xml version=\"1.0\"?><sitemapindex " \
              "xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"

/* The URLs of `l` joined with "|" into `out` (reset first). */
static const char *join(const uc_links *l, uc_buf *out) {
  uc_buf_reset(out);
  assert_int_equal(uc_buf_puts(out, ""), 0);
  for (size_t k = 0; k < l->count; k++)
    assert_int_equal(uc_buf_printf(out, "%s%s", k ? "|" : "", l->urls[k]), 0);
  return out->data;
}

/* {document, rc, index, the URLs as "|"-joined list} */
static void test_documents(void **state) {
  (void)state;
  static const struct {
    const char *doc;
    int rc;
    bool index;
    const char *urls;
  } cases[] = {
      {URLSET "<url><loc>https://a.test/x</loc><lastmod>2024-01-01</lastmod></url>"
              "<url><loc> https://A.test:443/y#frag \n</loc></url></urlset>",
       0, false, "https://a.test/x|https://a.test/y"},
      {URLSET "<url><loc>../p.html</loc></url><url><loc>/q</loc></url></urlset>", 0, false,
       "https://a.test/p.html|https://a.test/q"},  /* relative: resolved against the file */
      {URLSET "<url><loc>https://a.test/x</loc></url><url><loc>https://a.test/x</loc></url>"
              "<url><loc>mailto:x@a.test</loc></url><url><loc></loc></url></urlset>",
       0, false, "https://a.test/x"}, /* duplicates once; other schemes and empties skipped */
      {URLSET "<url><loc>https://a.test/?a=1&amp;b=2</loc></url></urlset>", 0, false,
       "https://a.test/?a=1&b=2"}, /* XML escapes undone */
      {URLSET "<url><loc><![CDATA[https://a.test/c]]></loc></url></urlset>", 0, false,
       "https://a.test/c"},
      {INDEX "<sitemap><loc>https://a.test/s1.xml.gz</loc></sitemap>"
             "<sitemap><loc>https://b.test/s2.xml</loc><lastmod>x</lastmod></sitemap>"
             "</sitemapindex>",
       0, true, "https://a.test/s1.xml.gz|https://b.test/s2.xml"},
      {"<urlset><url><loc>https://a.test/nons</loc></url></urlset>", 0, false,
       "https://a.test/nons"}, /* no namespace: accepted, as crawlers do */
      {URLSET "</urlset>", 0, false, ""},
      {URLSET "<url><loc>https://a.test/x</loc></url>", UC_EINVAL, false, ""}, /* unclosed */
      {"<html><body>not a sitemap</body></html>", UC_EINVAL, false, ""},
      {"", UC_EINVAL, false, ""},
      {"https://a.test/plain-text-sitemap", UC_EINVAL, false, ""},
      /* An external entity is not read (no NOENT, NONET): no file content leaks. */
      {"<?xml version=\"1.0\"?><!DOCTYPE u [<!ENTITY x SYSTEM \"file:///etc/hostname\">]>"
       "<urlset><url><loc>https://a.test/&x;</loc></url></urlset>",
       0, false, "https://a.test/"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    uc_sitemap sm;
    int rc = uc_sitemap_parse(cases[i].doc, strlen(cases[i].doc), BASE, &sm);
    if (rc != cases[i].rc)
      fail_msg("case %zu: rc %d, want %d", i, rc, cases[i].rc);
    uc_buf joined = UC_BUF_INIT;
    if (strcmp(join(&sm.links, &joined), cases[i].urls) != 0 || sm.index != cases[i].index)
      fail_msg("case %zu: got %s (index %d), want %s", i, joined.data, sm.index, cases[i].urls);
    uc_buf_free(&joined);
    uc_links_free(&sm.links);
  }
}

/* gzip of `len` bytes of `data` (one member, as gzip(1) writes). */
static void gzip_bytes(const char *data, size_t len, uc_buf *out) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  size_t cap = deflateBound(&zs, (uLong)len) + 64;
  assert_int_equal(uc_buf_reserve(out, cap), 0);
  zs.next_in = (Bytef *)(uintptr_t)data;
  zs.avail_in = (uInt)len;
  zs.next_out = (Bytef *)out->data;
  zs.avail_out = (uInt)cap;
  assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out->len = zs.total_out;
  deflateEnd(&zs);
}

static void test_gzip_and_limits(void **state) {
  (void)state;
  const char *doc = URLSET "<url><loc>https://a.test/gz</loc></url></urlset>";
  uc_buf gz = UC_BUF_INIT;
  gzip_bytes(doc, strlen(doc), &gz);
  uc_sitemap sm;
  assert_int_equal(uc_sitemap_parse(gz.data, gz.len, BASE, &sm), 0);
  assert_int_equal(sm.links.count, 1);
  assert_string_equal(sm.links.urls[0], "https://a.test/gz");
  uc_links_free(&sm.links);
  /* Cut short: refused, not half-read. */
  assert_int_equal(uc_sitemap_parse(gz.data, gz.len / 2, BASE, &sm), UC_EINVAL);
  uc_buf_free(&gz);

  /* A gzip bomb: 51 MiB of spaces in a few dozen KiB is over 50 MB. */
  size_t big = UC_SITEMAP_MAX_BYTES + (1u << 20);
  char *spaces = malloc(big);
  assert_non_null(spaces);
  memset(spaces, ' ', big);
  gzip_bytes(spaces, big, &gz);
  assert_true(gz.len < big / 100);
  assert_int_equal(uc_sitemap_parse(gz.data, gz.len, BASE, &sm), UC_EINVAL);
  uc_buf_free(&gz);
  /* ... and uncompressed. */
  assert_int_equal(uc_sitemap_parse(spaces, big, BASE, &sm), UC_EINVAL);
  free(spaces);

  /* 50,001 URLs: the first 50,000 are read, and the cut is said. */
  uc_buf many = UC_BUF_INIT;
  assert_int_equal(uc_buf_puts(&many, URLSET), 0);
  for (int i = 0; i <= UC_SITEMAP_MAX_URLS; i++)
    assert_int_equal(uc_buf_printf(&many, "<url><loc>/p%d</loc></url>", i), 0);
  assert_int_equal(uc_buf_puts(&many, "</urlset>"), 0);
  assert_int_equal(uc_sitemap_parse(many.data, many.len, BASE, &sm), 0);
  assert_int_equal(sm.links.count, UC_SITEMAP_MAX_URLS);
  assert_true(sm.truncated);
  assert_string_equal(sm.links.urls[UC_SITEMAP_MAX_URLS - 1], "https://a.test/p49999");
  uc_links_free(&sm.links);
  uc_buf_free(&many);
}

/* {robots.txt, the Sitemap URLs "|"-joined} */
static void test_robots_lines(void **state) {
  (void)state;
  static const struct {
    const char *robots, *urls;
  } cases[] = {
      {"User-agent: *\nDisallow: /x\nSitemap: https://a.test/s.xml\n", "https://a.test/s.xml"},
      {"sitemap:/rel.xml\r\n  SITEMAP : https://b.test/b.xml # main\n",
       "https://a.test/rel.xml|https://b.test/b.xml"},
      {"Sitemap: https://a.test/s.xml\nSitemap: https://a.test/s.xml\n", "https://a.test/s.xml"},
      {"Sitemaps: https://a.test/no.xml\n# Sitemap: https://a.test/c.xml\nSitemap:\n", ""},
      {"Sitemap: ftp://a.test/s.xml\nSitemap: https://a.test/last.xml", "https://a.test/last.xml"},
      {"", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    uc_links links;
    assert_int_equal(uc_sitemap_from_robots(cases[i].robots, strlen(cases[i].robots),
                                            "https://a.test/robots.txt", &links),
                     0);
    uc_buf joined = UC_BUF_INIT;
    if (strcmp(join(&links, &joined), cases[i].urls) != 0)
      fail_msg("case %zu: got %s, want %s", i, joined.data, cases[i].urls);
    uc_buf_free(&joined);
    uc_links_free(&links);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_documents),
      cmocka_unit_test(test_gzip_and_limits),
      cmocka_unit_test(test_robots_lines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
