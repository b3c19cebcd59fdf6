/* fuzz_url.c - libFuzzer target: resolve any reference against any base. */
#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uvcrawl/url.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The crawler runs in a UTF-8 locale (src/cli/main.c), where curl converts
 * IDN hosts to punycode (see url.h); fuzz that path, not the C locale's. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
    (void)setlocale(LC_CTYPE, "en_US.UTF-8");
  return 0;
}

/*
 * The input is "BASE\nREF": resolving must never crash, and a resolved URL
 * must be a fixed point of normalization (normalizing it again changes
 * nothing) and have an origin, a host and a path.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (text == NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  char *ref = strchr(text, '\n');
  const char *base = "http://a.test/b/c/d;p?q";
  if (ref != NULL) {
    *ref++ = '\0';
    base = text;
  } else {
    ref = text;
  }
  char *out = NULL;
  if (uc_url_resolve(base, ref, &out) == 0) {
    char *again = NULL, *origin = NULL, *path = NULL;
    char host[256];
    if (uc_url_normalize(out, &again) != 0 || strcmp(out, again) != 0)
      abort(); /* normalization is not idempotent */
    if (uc_url_origin(out, &origin) != 0 || uc_url_path_query(out, &path) != 0 ||
        path[0] != '/')
      abort();
    if (uc_url_host(out, host, sizeof host) == 0)
      (void)uc_url_domain(NULL, host);
    free(again);
    free(origin);
    free(path);
  }
  free(out);
  free(text);
  return 0;
}
