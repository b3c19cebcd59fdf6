/*
 * fuzz_extract_xml.c - libFuzzer target: the libxml2 extractor over any
 * bytes, in one piece and fed in pieces.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "uvcrawl/error.h"
#include "uvcrawl/extract.h"

#include "fuzz_links.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAGE "http://a.test/dir/page.html"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  uc_extract_global_init();
  return 0;
}

/* The same body fed in pieces whose sizes come from its first byte. */
static int extract_in_pieces(const uint8_t *data, size_t size, const uc_extract_opts *o,
                             uc_links *out) {
  uc_extractor *x;
  int rc = uc_extractor_new(&x, PAGE, o);
  if (rc != 0)
    return rc;
  size_t piece = size > 0 ? (size_t)data[0] % 17 + 1 : 1;
  for (size_t at = 0; at < size && rc == 0; at += piece)
    rc = uc_extractor_feed(x, (const char *)data + at, at + piece < size ? piece : size - at);
  if (rc == 0)
    rc = uc_extractor_finish(x, out);
  uc_extractor_free(x);
  return rc;
}

/* Any body parses or is refused for nesting; every link returned is an
 * absolute http(s) URL, the links are unique, and feeding the body in
 * pieces finds the same links with the same counters. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uc_links links, pieces;
  uc_extract_opts opts = {.max_bytes = 1 << 20, .want_stylesheets = size % 2 == 1,
                          .parser = UC_PARSER_LIBXML2};
  int rc = uc_extract((const char *)data, size, PAGE, &opts, &links);
  if (rc != 0 && rc != UC_ETOODEEP && rc != UC_ENOMEM)
    __builtin_trap();
  int rc2 = extract_in_pieces(data, size, &opts, &pieces);
  if (rc != UC_ENOMEM && rc2 != UC_ENOMEM && rc != rc2)
    __builtin_trap();
  if (rc2 == 0) {
    if (rc == 0 && (pieces.count != links.count || pieces.found != links.found ||
                    pieces.skipped != links.skipped))
      __builtin_trap();
    for (size_t i = 0; rc == 0 && i < links.count; i++)
      if (strcmp(pieces.urls[i], links.urls[i]) != 0)
        __builtin_trap();
    uc_links_free(&pieces);
  }
  if (rc != 0)
    return 0;
  fuzz_check_links(&links);
  uc_links_free(&links);
  return 0;
}
