/* util.c - buffer and hashing helpers shared by the server and --expect. */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Grows geometrically so appending a page link by link stays linear. */
static void buf_reserve(tw_buf *b, size_t extra)
{
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need)
    cap *= 2;
  char *p = realloc(b->data, cap);
  if (p == NULL) {
    fprintf(stderr, "testweb: out of memory\n");
    abort();
  }
  b->data = p;
  b->cap = cap;
}

void tw_buf_append(tw_buf *b, const void *p, size_t n)
{
  buf_reserve(b, n);
  if (n > 0)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void tw_buf_puts(tw_buf *b, const char *s)
{
  tw_buf_append(b, s, strlen(s));
}

/* Formats straight into the free space; only a line that does not fit is
 * formatted twice. (Measuring with vsnprintf(NULL, 0) first trips a GCC
 * false "null format string" warning under -fsanitize.) */
void tw_buf_printf(tw_buf *b, const char *fmt, ...)
{
  va_list ap;
  buf_reserve(b, 128);
  va_start(ap, fmt);
  int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  if (n < 0)
    abort();
  if ((size_t)n >= b->cap - b->len) {
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  b->len += (size_t)n;
}

void tw_buf_free(tw_buf *b)
{
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

char *tw_buf_steal(tw_buf *b, size_t *len)
{
  char *p = b->data;
  if (len)
    *len = b->len;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

/* splitmix64's output function: cheap, and every input bit affects every
 * output bit, which is all the site generator needs. */
uint64_t tw_mix64(uint64_t x)
{
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t tw_hash4(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
  uint64_t h = tw_mix64(seed);
  h = tw_mix64(h ^ a);
  h = tw_mix64(h ^ (b * 0x9e3779b97f4a7c15ULL));
  return tw_mix64(h ^ (c * 0xc2b2ae3d27d4eb4fULL));
}

/* FNV-1a over the string then mixed with the seed: deterministic across runs
 * and platforms, unlike anything keyed by pointers. */
uint64_t tw_hash_str(uint64_t seed, uint64_t a, const char *s)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 0x100000001b3ULL;
  }
  return tw_hash4(seed, a, h, 0x5157);
}

uint64_t tw_now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
