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

/* Any body parses or is refused for nesting, whole or fed in pieces;
 * every link returned is an absolute http(s) URL, and the links are unique.
 * Note: whole and pieces are not compared: on tags with stray quotes
 * libxml2's push parser depends on the split (see extract_xml.c, parse());
 * test_extract compares them on well-formed pages. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uc_links links;
  uc_extract_opts opts = {
      .max_bytes = 1 << 20, .want_stylesheets = size % 2 == 1, .parser = UC_PARSER_LIBXML2};
  int rc = uc_extract((const char *)data, size, PAGE, &opts, &links);
  if (rc != 0 && rc != UC_ETOODEEP && rc != UC_ENOMEM)
    __builtin_trap();
  if (rc == 0) {
    fuzz_check_links(&links);
    uc_links_free(&links);
  }
  rc = extract_in_pieces(data, size, &opts, &links);
  if (rc != 0 && rc != UC_ETOODEEP && rc != UC_ENOMEM)
    __builtin_trap();
  if (rc == 0) {
    fuzz_check_links(&links);
    uc_links_free(&links);
  }
  return 0;
}
