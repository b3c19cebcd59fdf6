/* buf.c - growable byte buffer (see buf.h). */
#include "uvcrawl/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvcrawl/error.h"

int uc_buf_reserve(uc_buf *b, size_t extra) {
  if (extra > SIZE_MAX - b->len - 1)
    return UC_ENOMEM;
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *data = realloc(b->data, cap);
  if (data == NULL)
    return UC_ENOMEM;
  b->data = data;
  b->cap = cap;
  return 0;
}

int uc_buf_append(uc_buf *b, const void *bytes, size_t len) {
  int rc = uc_buf_reserve(b, len);
  if (rc != 0)
    return rc;
  if (len > 0)
    memcpy(b->data + b->len, bytes, len);
  b->len += len;
  b->data[b->len] = '\0';
  return 0;
}

int uc_buf_puts(uc_buf *b, const char *s) { return uc_buf_append(b, s, strlen(s)); }

int uc_buf_vprintf(uc_buf *b, const char *fmt, va_list ap) {
  va_list again;
  va_copy(again, ap);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  if (n < 0) {
    va_end(again);
    return UC_EINVAL;
  }
  int rc;
  if ((size_t)n < sizeof small) {
    rc = uc_buf_append(b, small, (size_t)n);
  } else if ((rc = uc_buf_reserve(b, (size_t)n)) == 0) {
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
    b->len += (size_t)n;
  }
  va_end(again);
  return rc;
}

int uc_buf_printf(uc_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = uc_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

void uc_buf_reset(uc_buf *b) {
  b->len = 0;
  if (b->data != NULL)
    b->data[0] = '\0';
}

char *uc_buf_steal(uc_buf *b) {
  char *s = b->data;
  b->data = NULL;
  b->len = b->cap = 0;
  return s;
}

void uc_buf_free(uc_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
