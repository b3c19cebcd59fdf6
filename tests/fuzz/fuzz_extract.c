/* fuzz_extract.c - libFuzzer target: extract links from any bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "uvcrawl/error.h"
#include "uvcrawl/extract.h"

#include "fuzz_links.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any body parses or is refused for nesting; every link returned is an
 * absolute http(s) URL, and the links are unique. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uc_links links;
  uc_extract_opts opts = {.max_bytes = 1 << 20, .want_stylesheets = size % 2 == 1};
  int rc = uc_extract((const char *)data, size, "http://a.test/dir/page.html", &opts, &links);
  if (rc != 0 && rc != UC_ETOODEEP && rc != UC_ENOMEM)
    __builtin_trap();
  if (rc != 0)
    return 0;
  fuzz_check_links(&links);
  uc_links_free(&links);
  return 0;
}
