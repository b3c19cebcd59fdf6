/* reqlog.c - buffered request log; the server flushes it once per loop
 * iteration so tests reading it after exit, or while polling, see whole
 * lines. */
#include "reqlog.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tw_reqlog {
  FILE *fp;
  int dirty; /* lines written since the last flush */
};

int tw_reqlog_open(tw_reqlog **out, const char *path)
{
  tw_reqlog *log = calloc(1, sizeof(*log));
  if (log == NULL)
    return -ENOMEM;
  log->fp = fopen(path, "w");
  if (log->fp == NULL) {
    int err = errno;
    free(log);
    return -err;
  }
  setvbuf(log->fp, NULL, _IOFBF, 1 << 16);
  *out = log;
  return 0;
}

/* Copies s into out, keeping the field free of separators. */
static void clean_field(const char *s, size_t n, int lower, char *out,
                        size_t cap)
{
  size_t j = 0;
  for (size_t i = 0; i < n && s[i] && j + 1 < cap; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch <= 0x20 || ch == 0x7f)
      ch = '_';
    out[j++] = (char)(lower ? tolower(ch) : ch);
  }
  if (j == 0 && cap > 1)
    out[j++] = '-';
  out[j] = '\0';
}

void tw_reqlog_write(tw_reqlog *log, uint64_t arrival_us, uint64_t done_us,
                     const char *host, const char *path, int status,
                     uint64_t conn_id)
{
  if (log == NULL)
    return;
  char h[260], p[2100];
  /* Note: "[::1]:80" would be cut at the first colon; testweb only ever sees
   * names of the form h0001.test, so the simple rule is enough. */
  clean_field(host, strcspn(host, ":"), 1, h, sizeof(h));
  clean_field(path, strlen(path), 0, p, sizeof(p));
  fprintf(log->fp, "%llu\t%llu\t%s\t%s\t%d\t%llu\n",
          (unsigned long long)arrival_us, (unsigned long long)done_us, h, p,
          status, (unsigned long long)conn_id);
  log->dirty = 1;
}

void tw_reqlog_flush(tw_reqlog *log)
{
  if (log == NULL || !log->dirty)
    return;
  fflush(log->fp);
  log->dirty = 0;
}

void tw_reqlog_free(tw_reqlog *log)
{
  if (log == NULL)
    return;
  fclose(log->fp);
  free(log);
}
