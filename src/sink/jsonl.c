/* jsonl.c - the JSON Lines sink: one record a line (see sink.h, record.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvcrawl/error.h"
#include "uvcrawl/sink.h"

typedef struct jsonl {
  FILE *f;      /* borrowed: the caller closes it */
  uc_buf line;  /* one record being formatted (the crawl's thread) */
  char what[];  /* "records to NAME" */
} jsonl;

static int jsonl_write(void *state, const uc_sink_entry *e) {
  jsonl *j = state;
  if (e->record == NULL)
    return 0;
  uc_buf_reset(&j->line);
  int rc = uc_record_format(&j->line, e->record);
  if (rc != 0)
    return rc;
  /* One fwrite a line: glibc's FILE lock keeps it whole against a flush
   * from the store's writer thread. */
  if (fwrite(j->line.data, 1, j->line.len, j->f) != j->line.len)
    return UC_EIO;
  return 0;
}

static int jsonl_flush(void *state) {
  jsonl *j = state;
  return fflush(j->f) == 0 ? 0 : UC_EIO;
}

static int jsonl_close(void *state) {
  jsonl *j = state;
  int rc = jsonl_flush(j);
  int err = errno;
  uc_buf_free(&j->line);
  free(j);
  errno = err;
  return rc;
}

static const char *jsonl_what(void *state) { return ((jsonl *)state)->what; }

static const uc_sink_ops jsonl_ops = {
    .write = jsonl_write, .flush = jsonl_flush, .close = jsonl_close, .what = jsonl_what};

int uc_sink_jsonl_add(uc_sinks *s, FILE *f, const char *name) {
  size_t len = strlen("records to ") + strlen(name) + 1;
  jsonl *j = calloc(1, sizeof *j + len);
  if (j == NULL)
    return UC_ENOMEM;
  j->f = f;
  snprintf(j->what, len, "records to %s", name);
  return uc_sinks_add(s, &jsonl_ops, j);
}
