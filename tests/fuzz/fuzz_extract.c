/* fuzz_extract.c - libFuzzer target: extract links from any bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "uvcrawl/error.h"
#include "uvcrawl/extract.h"

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
  for (size_t i = 0; i < links.count; i++) {
    const char *u = links.urls[i];
    if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
      __builtin_trap();
    for (size_t j = 0; j < i && links.count < 64; j++)
      if (strcmp(u, links.urls[j]) == 0)
        __builtin_trap();
  }
  uc_links_free(&links);
  return 0;
}
