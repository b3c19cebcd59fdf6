/*
 * parser_links.c - print the links each HTML parser finds in files, for
 * tests/integration/test_parser_diff.py.
 *
 *   parser_links [--page URL] FILE...
 *
 * For each file and each parser (gumbo, then libxml2), one JSON line:
 *   {"file":..., "parser":"gumbo", "rc":"UC_OK", "found":N, "skipped":N,
 *    "nofollow":false, "noindex":false, "links":[...]}
 * The body goes through the crawl's charset conversion first (no
 * Content-Type), as uc_crawl_parse() does. Exit 0, or 2 on an unreadable
 * file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/charset.h"
#include "uvcrawl/error.h"
#include "uvcrawl/extract.h"

static int read_file(const char *path, uc_buf *out) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return UC_EIO;
  char chunk[65536];
  size_t n;
  int rc = 0;
  while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
    rc = uc_buf_append(out, chunk, n);
  if (rc == 0 && ferror(f))
    rc = UC_EIO;
  fclose(f);
  return rc;
}

/* s as a JSON string (the URLs and paths here are bytes; non-ASCII and
 * controls are escaped byte by byte, enough for a comparison). */
static void put_json(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\')
      printf("\\%c", *p);
    else if (*p < 0x20 || *p >= 0x7f)
      printf("\\u%04x", *p);
    else
      putchar(*p);
  }
  putchar('"');
}

static void print_links(const char *path, const char *parser, int rc, const uc_links *l) {
  printf("{\"file\":");
  put_json(path);
  printf(",\"parser\":\"%s\",\"rc\":\"%s\",\"found\":%zu,\"skipped\":%zu,\"nofollow\":%s,"
         "\"noindex\":%s,\"links\":[",
         parser, uc_errname(rc), l->found, l->skipped, l->nofollow ? "true" : "false",
         l->noindex ? "true" : "false");
  for (size_t i = 0; i < l->count; i++) {
    if (i > 0)
      putchar(',');
    put_json(l->urls[i]);
  }
  printf("]}\n");
}

static int one_file(const char *path, const char *page) {
  uc_buf body = UC_BUF_INIT;
  char *utf8 = NULL;
  size_t utf8_len = 0;
  int rc = read_file(path, &body);
  if (rc == 0)
    rc = uc_charset_to_utf8(NULL, body.data != NULL ? body.data : "", body.len, &utf8, &utf8_len);
  if (rc != 0) {
    fprintf(stderr, "parser_links: %s: %s\n", path, uc_strerror(rc));
    uc_buf_free(&body);
    return rc;
  }
  const char *html = utf8 != NULL ? utf8 : body.data;
  size_t len = utf8 != NULL ? utf8_len : body.len;
  static const struct {
    uc_parser parser;
    const char *name;
  } parsers[] = {{UC_PARSER_GUMBO, "gumbo"}, {UC_PARSER_LIBXML2, "libxml2"}};
  for (size_t i = 0; i < sizeof parsers / sizeof parsers[0]; i++) {
    uc_extract_opts o = {.parser = parsers[i].parser};
    uc_links l;
    int xrc = uc_extract(html, len, page, &o, &l);
    print_links(path, parsers[i].name, xrc, &l);
    uc_links_free(&l);
  }
  free(utf8);
  uc_buf_free(&body);
  return 0;
}

int main(int argc, char **argv) {
  const char *page = "http://a.test/dir/page.html";
  int first = 1;
  if (argc > 2 && strcmp(argv[1], "--page") == 0) {
    page = argv[2];
    first = 3;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  uc_extract_global_init();
  int code = 0;
  for (int i = first; i < argc && code == 0; i++)
    code = one_file(argv[i], page) != 0 ? 2 : 0;
  curl_global_cleanup();
  return code;
}
