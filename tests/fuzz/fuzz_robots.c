/* fuzz_robots.c - libFuzzer target: parse any robots.txt, match paths. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uvcrawl/robots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is a robots.txt; its last line (after the final '\n', if any)
 * doubles as a path to check, so the fuzzer steers patterns and paths.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uc_robots *r = NULL;
  if (uc_robots_parse(&r, (const char *)data, size, "uvcrawl") != 0)
    return 0;
  const uint8_t *nl = size > 0 ? memrchr(data, '\n', size) : NULL;
  size_t start = nl != NULL ? (size_t)(nl - data) + 1 : 0;
  size_t n = size - start;
  char *path = malloc(n + 2);
  if (path != NULL) {
    path[0] = '/';
    memcpy(path + 1, data + start, n);
    path[n + 1] = '\0'; /* an embedded NUL just ends the path early */
    (void)uc_robots_allowed(r, path);
    free(path);
  }
  (void)uc_robots_allowed(r, "/");
  if (!uc_robots_allowed(r, "/robots.txt"))
    abort();
  double delay = uc_robots_crawl_delay(r);
  if (!(delay == -1.0 || delay >= 0.0))
    abort();
  uc_robots_free(r);
  return 0;
}
