/* surt.c - SURT keys, base32 and dates for WARC and CDXJ (see sink_int.h). */
#include "sink_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdbool.h>
#include <time.h>

#include "uvcrawl/error.h"

void uc_base32_sha1(const unsigned char digest[20], char out[33]) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  /* 160 bits are exactly 32 groups of 5: no padding. */
  for (int i = 0; i < 32; i++) {
    int bit = i * 5, byte = bit / 8, shift = bit % 8;
    unsigned v = (unsigned)digest[byte] << 8 | (byte + 1 < 20 ? digest[byte + 1] : 0);
    out[i] = alphabet[(v >> (11 - shift)) & 31];
  }
  out[32] = '\0';
}

void uc_warc_date(int64_t wall_ms, int cdx, char out[32]) {
  time_t t = (time_t)(wall_ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, cdx ? "%Y%m%d%H%M%S" : "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int append_lower(uc_buf *out, const char *s, size_t n) {
  size_t at = out->len;
  if (uc_buf_append(out, s, n) != 0)
    return UC_ENOMEM;
  for (size_t i = at; i < out->len; i++)
    out->data[i] = (char)tolower((unsigned char)out->data[i]);
  return 0;
}

static int cmp_arg(const void *a, const void *b) {
  const char *const *x = a, *const *y = b;
  return strcmp(*x, *y);
}

/* The query's arguments, sorted (pywb's canonical form). */
static int append_sorted_query(uc_buf *out, const char *q, size_t n) {
  char *copy = strndup(q, n);
  size_t count = 1;
  for (size_t i = 0; i < n; i++)
    count += q[i] == '&';
  char **args = calloc(count, sizeof *args);
  int rc = copy != NULL && args != NULL ? 0 : UC_ENOMEM;
  if (rc == 0) {
    size_t k = 0;
    for (char *p = copy, *amp; k < count; p = amp + 1) {
      args[k++] = p;
      if ((amp = strchr(p, '&')) == NULL)
        break;
      *amp = '\0';
    }
    qsort(args, k, sizeof *args, cmp_arg);
    for (size_t i = 0; rc == 0 && i < k; i++) {
      if (i > 0)
        rc = uc_buf_append(out, "&", 1);
      if (rc == 0)
        rc = append_lower(out, args[i], strlen(args[i]));
    }
  }
  free(args);
  free(copy);
  return rc;
}

int uc_surt(const char *url, uc_buf *out) {
  size_t start = out->len;
  const char *sep = strstr(url, "://");
  if (sep == NULL)
    return UC_EBADURL;
  bool https = sep - url == 5 && strncasecmp(url, "https", 5) == 0;
  const char *auth = sep + 3;
  size_t auth_len = strcspn(auth, "/?#");
  const char *rest = auth + auth_len; /* path, query, fragment */
  const char *at = memchr(auth, '@', auth_len); /* userinfo is not part of the key */
  if (at != NULL) {
    auth_len -= (size_t)(at + 1 - auth);
    auth = at + 1;
  }
  const char *colon = auth[0] == '[' ? NULL : memchr(auth, ':', auth_len);
  size_t host_len = colon != NULL ? (size_t)(colon - auth) : auth_len;
  const char *port = colon != NULL ? colon + 1 : NULL;
  size_t port_len = colon != NULL ? auth_len - host_len - 1 : 0;
  if (port != NULL && ((port_len == 2 && memcmp(port, "80", 2) == 0 && !https) ||
                       (port_len == 3 && memcmp(port, "443", 3) == 0 && https)))
    port = NULL;
  if (host_len > 4 && strncasecmp(auth, "www.", 4) == 0) {
    auth += 4;
    host_len -= 4;
  }
  int rc = 0;
  /* Labels from the last to the first. */
  size_t end = host_len;
  while (rc == 0 && end > 0) {
    size_t begin = end;
    while (begin > 0 && auth[begin - 1] != '.')
      begin--;
    rc = append_lower(out, auth + begin, end - begin);
    if (rc == 0 && begin > 0)
      rc = uc_buf_append(out, ",", 1);
    end = begin > 0 ? begin - 1 : 0;
  }
  if (rc == 0 && port != NULL) {
    rc = uc_buf_append(out, ":", 1);
    if (rc == 0)
      rc = uc_buf_append(out, port, port_len);
  }
  if (rc == 0)
    rc = uc_buf_append(out, ")", 1);
  size_t path_len = strcspn(rest, "?#");
  if (rc == 0)
    rc = path_len > 0 ? append_lower(out, rest, path_len) : uc_buf_append(out, "/", 1);
  if (rc == 0 && rest[path_len] == '?') {
    const char *q = rest + path_len + 1;
    size_t q_len = strcspn(q, "#");
    rc = uc_buf_append(out, "?", 1);
    if (rc == 0)
      rc = append_sorted_query(out, q, q_len);
  }
  if (rc != 0) {
    out->len = start;
    if (out->data != NULL)
      out->data[start] = '\0';
  }
  return rc;
}
