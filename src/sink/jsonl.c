/* jsonl.c - the JSON Lines sink: one record a line (see sink.h, record.h).
 *
 * The sink does its own buffering and writes whole lines with write(2),
 * never through stdio: a stdio flush that fails half-way (a full disk)
 * leaves half a line that nobody can take back. Here the file's length
 * after the last complete write is known, and a failed write is cut back
 * to it, so a regular file always ends on a complete record. A pipe or a
 * terminal cannot be cut back; its reader sees the failure as an early
 * end. After a failure every later write and flush fails with its errno:
 * the store never marks a URL done whose record did not reach the disk. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uvcrawl/error.h"
#include "uvcrawl/sink.h"

/* Lines gathered before they go to the kernel in one write (a terminal
 * gets each line as it comes, as with stdio's line buffering). */
#define JSONL_BATCH (16 * 1024)

typedef struct jsonl {
  FILE *f;             /* borrowed: the caller closes it */
  int fd;              /* f's descriptor, written to; -1 if none (then f) */
  bool regular;        /* a regular file: a failed write is cut back */
  size_t batch;        /* drain at this many pending bytes */
  off_t good;          /* its length after the last complete write */
  uc_buf line;         /* one record being formatted (the crawl's thread) */
  pthread_mutex_t lock; /* pending and the fields below: write vs flush */
  uc_buf pending;      /* whole lines not yet written */
  int failed;          /* the errno of the first failed write, 0 if none */
  char what[];         /* "records to NAME" */
} jsonl;

/* drain() for a FILE without a file descriptor: through stdio. */
static int write_stdio(jsonl *j) {
  errno = 0;
  if (fwrite(j->pending.data, 1, j->pending.len, j->f) != j->pending.len || fflush(j->f) != 0) {
    j->failed = errno != 0 ? errno : EIO;
    return UC_EIO;
  }
  uc_buf_reset(&j->pending);
  return 0;
}

/* Write out what is pending; the lock is held. On a failure the file is
 * cut back to its last complete line. 0 or UC_EIO with errno set. */
static int drain(jsonl *j) {
  if (j->failed != 0) {
    errno = j->failed;
    return UC_EIO;
  }
  if (j->fd < 0) /* a FILE with no descriptor (a memory stream) */
    return write_stdio(j);
  size_t done = 0;
  while (done < j->pending.len) {
    ssize_t n = write(j->fd, j->pending.data + done, j->pending.len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      j->failed = n < 0 ? errno : EIO;
      /* Lines written whole before the failure stay; the part of one cut
       * off goes. The store syncs none of them (the flush failed), so
       * their URLs are fetched again on a resume either way. */
      if (j->regular) {
        const char *nl = done > 0 ? memrchr(j->pending.data, '\n', done) : NULL;
        off_t keep = j->good + (nl != NULL ? (off_t)(nl - j->pending.data) + 1 : 0);
        if (ftruncate(j->fd, keep) == 0)
          j->good = keep;
      }
      errno = j->failed;
      return UC_EIO;
    }
    done += (size_t)n;
  }
  j->good += (off_t)done;
  uc_buf_reset(&j->pending);
  return 0;
}

static int jsonl_write(void *state, const uc_sink_entry *e) {
  jsonl *j = state;
  if (e->record == NULL)
    return 0;
  uc_buf_reset(&j->line);
  int rc = uc_record_format(&j->line, e->record);
  if (rc != 0)
    return rc;
  pthread_mutex_lock(&j->lock);
  if (j->failed != 0) {
    rc = UC_EIO;
  } else {
    rc = uc_buf_append(&j->pending, j->line.data, j->line.len);
    if (rc == 0 && j->pending.len >= j->batch)
      rc = drain(j);
  }
  int err = rc == UC_EIO ? j->failed : 0;
  pthread_mutex_unlock(&j->lock);
  if (err != 0)
    errno = err;
  return rc;
}

static int jsonl_flush(void *state) {
  jsonl *j = state;
  pthread_mutex_lock(&j->lock);
  int rc = drain(j);
  int err = j->failed;
  pthread_mutex_unlock(&j->lock);
  if (rc != 0)
    errno = err;
  return rc;
}

static int jsonl_close(void *state) {
  jsonl *j = state;
  int rc = jsonl_flush(j);
  int err = errno;
  pthread_mutex_destroy(&j->lock);
  uc_buf_free(&j->pending);
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
  j->fd = fileno(f);
  /* Whatever the FILE holds goes first; from here on only the fd writes.
   * The records start where the file ends (a resumed crawl appends). */
  fflush(f);
  struct stat sb;
  if (fstat(j->fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
    off_t end = lseek(j->fd, 0, SEEK_END);
    j->regular = end >= 0;
    j->good = end >= 0 ? end : 0;
  }
  j->batch = j->fd >= 0 && isatty(j->fd) ? 1 : JSONL_BATCH;
  pthread_mutex_init(&j->lock, NULL);
  snprintf(j->what, len, "records to %s", name);
  return uc_sinks_add(s, &jsonl_ops, j);
}
