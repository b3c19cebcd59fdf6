/*
 * bench_extract.c - throughput of uc_extract() on a realistic ~10 KB page,
 * next to gumbo_parse alone (parse + destroy, max_errors = 0) on the same
 * bytes, so that the adapter's own cost (pre-scan, walk, URL resolution,
 * dedup) is visible. CPU time of the process, about 2 s per measurement.
 * With libxml2 (issue 13), also the page fed in 1,460-byte pieces, as
 * bytes arrive from the network, and the heap an extractor holds while a
 * transfer streams into it (mallinfo2 over 1,000 extractors).
 *
 *   bench_extract [--parser gumbo|libxml2] [seconds]   (default: both)
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <gumbo.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/extract.h"

#define PAGE_URL "http://h0001.test/section/page-0042.html"

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A page like testweb's: head with a few <link>s, paragraphs of text, ~40
 * links of mixed forms (relative, root-relative, absolute, cross-host,
 * fragments, duplicates, entities, a javascript: and a mailto:). */
static void build_page(uc_buf *b) {
  static const char *const hrefs[] = {
      "page-0043.html", "/section/page-0001.html", "../other/page-7.html",
      "http://h0002.test/section/page-0003.html", "https://h0003.test/", "#top",
      "page-0043.html", "/search?q=crawler&amp;page=2", "  /spaced.html  ", "//h0004.test/x",
      "javascript:void(0)", "mailto:webmaster@h0001.test", "./a/./b/../c.html",
      "/caf%c3%a9/menu", "?sort=asc", "/about", "/contact", "/blog/2024/01/post.html",
      "http://H0001.TEST:80/section/page-0044.html", "page-0045.html#frag"};
  uc_buf_puts(b, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n"
                 "<title>Page 42 of h0001.test</title>\n"
                 "<link rel=stylesheet href=/static/site.css>\n"
                 "<link rel=icon href=/favicon.ico>\n"
                 "<link rel=canonical href=" PAGE_URL ">\n"
                 "<link rel=next href=page-0043.html>\n"
                 "<script>var x = '<a href=/not-a-link>'; if (a < b) { x++; }</script>\n"
                 "</head><body><div id=nav><ul>\n");
  for (int i = 0; i < 8; i++)
    uc_buf_printf(b, "<li><a href=\"/nav/item-%d.html\" class=\"nav-link\">Item %d</a></li>\n", i,
                  i);
  uc_buf_puts(b, "</ul></div><div id=main>\n");
  size_t link = 0;
  for (int p = 0; b->len < 9500; p++) {
    uc_buf_printf(b, "<p class=\"text\">Paragraph %d. Lorem ipsum dolor sit amet, consectetur "
                     "adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore "
                     "magna aliqua &amp; more. ",
                  p);
    for (int k = 0; k < 2; k++, link++)
      uc_buf_printf(b, "See <a href=\"%s\" title=\"link %zu\">this page</a> and ",
                    hrefs[link % (sizeof hrefs / sizeof hrefs[0])], link);
    uc_buf_puts(b, "<em>the rest</em> of the <strong>text</strong>.</p>\n");
  }
  uc_buf_puts(b, "<iframe src=/embed/video.html></iframe>\n"
                 "</div><footer><a href=/privacy rel=nofollow>Privacy</a></footer>"
                 "</body></html>\n");
}

static void report(const char *what, size_t len, long n, double t) {
  printf("%-28s %7.1f MB/s  %8.1f us/page  (%ld pages, %.2f s CPU)\n", what,
         (double)len * (double)n / t / 1e6, t / (double)n * 1e6, n, t);
}

/* uc_extract() with one parser, in a loop for `seconds` of CPU. */
static void bench_parser(const uc_buf *page, uc_parser parser, const char *name, double seconds) {
  uc_extract_opts o = {.parser = parser};
  uc_links l;
  if (uc_extract(page->data, page->len, PAGE_URL, &o, &l) != 0) {
    fprintf(stderr, "uc_extract failed\n");
    exit(1);
  }
  printf("%s: %zu links found, %zu kept, %zu skipped\n", name, l.found, l.count, l.skipped);
  uc_links_free(&l);
  long n = 0;
  double t0 = cpu_now(), t;
  do {
    for (int i = 0; i < 100; i++, n++) {
      uc_extract(page->data, page->len, PAGE_URL, &o, &l);
      uc_links_free(&l);
    }
  } while ((t = cpu_now() - t0) < seconds);
  char what[64];
  snprintf(what, sizeof what, "uc_extract %s:", name);
  report(what, page->len, n, t);
}

/* The extractor fed in pieces of a TCP segment's payload. */
static void bench_pieces(const uc_buf *page, uc_parser parser, const char *name, double seconds) {
  uc_extract_opts o = {.parser = parser};
  long n = 0;
  double t0 = cpu_now(), t;
  do {
    for (int i = 0; i < 100; i++, n++) {
      uc_extractor *x;
      uc_links l;
      uc_extractor_new(&x, PAGE_URL, &o);
      for (size_t at = 0; at < page->len; at += 1460)
        uc_extractor_feed(x, page->data + at, page->len - at < 1460 ? page->len - at : 1460);
      uc_extractor_finish(x, &l);
      uc_extractor_free(x);
      uc_links_free(&l);
    }
  } while ((t = cpu_now() - t0) < seconds);
  char what[64];
  snprintf(what, sizeof what, "%s fed by 1460 B:", name);
  report(what, page->len, n, t);
}

/* Heap bytes per extractor with `fed` bytes of the page fed (and ended). */
static double held_kb(const uc_buf *page, size_t fed, bool end) {
  enum { N = 1000 };
  static uc_extractor *x[N];
  uc_extract_opts o = {.parser = UC_PARSER_LIBXML2};
  struct mallinfo2 before = mallinfo2();
  for (int i = 0; i < N; i++) {
    uc_extractor_new(&x[i], PAGE_URL, &o);
    uc_extractor_feed(x[i], page->data, fed);
    if (end)
      uc_extractor_end(x[i]);
  }
  struct mallinfo2 after = mallinfo2();
  for (int i = 0; i < N; i++)
    uc_extractor_free(x[i]);
  return ((double)after.uordblks - (double)before.uordblks) / N / 1024;
}

static void bench_memory(const uc_buf *page) {
  printf("libxml2 extractor held: %.1f KB empty, %.1f KB after 1 KB, %.1f KB after the "
         "page, %.1f KB once ended\n",
         held_kb(page, 0, false), held_kb(page, 1024, false), held_kb(page, page->len, false),
         held_kb(page, page->len, true));
}

int main(int argc, char **argv) {
  const char *only = NULL;
  if (argc > 2 && strcmp(argv[1], "--parser") == 0) {
    only = argv[2];
    argc -= 2, argv += 2;
  }
  double seconds = argc > 1 ? atof(argv[1]) : 2.0;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  uc_extract_global_init();
  uc_buf page = UC_BUF_INIT;
  build_page(&page);
  printf("page: %zu bytes\n", page.len);
  if (only == NULL || strcmp(only, "gumbo") == 0)
    bench_parser(&page, UC_PARSER_GUMBO, "gumbo", seconds);
  if (only == NULL || strcmp(only, "libxml2") == 0) {
    bench_parser(&page, UC_PARSER_LIBXML2, "libxml2", seconds);
    bench_pieces(&page, UC_PARSER_LIBXML2, "libxml2", seconds);
    bench_memory(&page);
  }
  if (only != NULL && strcmp(only, "gumbo") != 0) {
    uc_buf_free(&page);
    curl_global_cleanup();
    return 0;
  }
  long n;
  double t0, t;

  GumboOptions opts = kGumboDefaultOptions;
  opts.max_errors = 0;
  n = 0;
  t0 = cpu_now();
  do {
    for (int i = 0; i < 100; i++, n++) {
      GumboOutput *out = gumbo_parse_with_options(&opts, page.data, page.len);
      gumbo_destroy_output(&opts, out);
    }
  } while ((t = cpu_now() - t0) < seconds);
  report("gumbo parse+destroy:", page.len, n, t);

  uc_buf_free(&page);
  curl_global_cleanup();
  return 0;
}
