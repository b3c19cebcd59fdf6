/* fuzz_url.c - libFuzzer target: resolve any reference against any base. */
#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"
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
 * The same reference through a base parsed once (uc_url_resolve_at) gives
 * the same URL, and the parts it records are those a new parse finds.
 */
static void check_parsed_base(const char *base, const char *ref, int rc, const char *out) {
  uc_url_base *parsed = NULL;
  if (uc_url_base_new(base, &parsed) != 0)
    return; /* uc_url_resolve parses a bad base only for relative refs */
  char *again = NULL, *origin = NULL, *path = NULL;
  uc_url_parts p;
  if (uc_url_resolve_at(parsed, ref, &again, &p) != rc || (rc == 0 && strcmp(again, out) != 0))
    abort(); /* a parsed base resolves differently */
  if (rc == 0) {
    uc_buf b = UC_BUF_INIT;
    if (uc_url_origin(out, &origin) != 0 || uc_url_parts_origin(out, &p, &b) != 0 ||
        strcmp(b.data, origin) != 0 || uc_url_path_query(out, &path) != 0 ||
        strcmp(out + p.path_off, path) != 0)
      abort(); /* recorded parts disagree with a new parse */
    uc_buf_free(&b);
  }
  free(again);
  free(origin);
  free(path);
  uc_url_base_free(parsed);
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
  int rc = uc_url_resolve(base, ref, &out);
  if (rc != UC_ENOMEM)
    check_parsed_base(base, ref, rc, out);
  if (rc == 0) {
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
