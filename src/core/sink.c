/* sink.c - the set of output sinks the crawl writes to (see sink.h). */
#include "uvcrawl/sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uvcrawl/error.h"

#define MAX_SINKS 4 /* records, WARC: room to spare */

typedef struct sink {
  const uc_sink_ops *ops;
  void *state;
} sink;

struct uc_sinks {
  sink sinks[MAX_SINKS];
  size_t n;
  /* The first failed write or close (the crawl's thread only). */
  bool failed;
  int failed_errno;
  char failed_what[512]; /* copied: a backend's name dies with its state */
};

int uc_sinks_new(uc_sinks **out) {
  *out = calloc(1, sizeof **out);
  return *out != NULL ? 0 : UC_ENOMEM;
}

int uc_sinks_add(uc_sinks *s, const uc_sink_ops *ops, void *state) {
  if (s->n == MAX_SINKS) {
    ops->close(state);
    return UC_ENOMEM;
  }
  s->sinks[s->n++] = (sink){.ops = ops, .state = state};
  return 0;
}

/* Remember the first failure, with its errno, as it was on return. */
static void remember(uc_sinks *s, const sink *k, int rc, int err) {
  if (s->failed)
    return;
  s->failed = true;
  s->failed_errno = rc == UC_EIO ? err : 0;
  snprintf(s->failed_what, sizeof s->failed_what, "%s", k->ops->what(k->state));
}

int uc_sinks_write(uc_sinks *s, const uc_sink_entry *e) {
  for (size_t i = 0; i < s->n; i++) {
    int rc = s->sinks[i].ops->write(s->sinks[i].state, e);
    if (rc != 0) {
      int err = errno;
      remember(s, &s->sinks[i], rc, err);
      errno = err;
      return rc;
    }
  }
  return 0;
}

/* Note: the store's writer thread calls this while the crawl's thread may
 * be in uc_sinks_write; the array is fixed once the crawl runs (adds come
 * before, the close after), so only the backends' own flushes race with
 * their writes, and each guards itself. */
int uc_sinks_flush(uc_sinks *s, const char **what) {
  int first = 0, first_errno = 0;
  if (what != NULL)
    *what = NULL;
  for (size_t i = 0; i < s->n; i++) {
    int rc = s->sinks[i].ops->flush(s->sinks[i].state);
    if (rc != 0 && first == 0) {
      first = rc;
      first_errno = errno;
      if (what != NULL)
        *what = s->sinks[i].ops->what(s->sinks[i].state);
    }
  }
  errno = first_errno;
  return first;
}

void uc_sinks_say(char *msg, size_t msglen, const char *what, int err) {
  snprintf(msg, msglen, "cannot write %s: %s", what != NULL ? what : "the output",
           strerror(err != 0 ? err : EIO));
}

int uc_sinks_flush_said(uc_sinks *s, char *msg, size_t msglen) {
  const char *what = NULL;
  int rc = uc_sinks_flush(s, &what);
  if (rc != 0) {
    int err = errno;
    uc_sinks_say(msg, msglen, what, err);
    errno = err;
  }
  return rc;
}

int uc_sinks_close(uc_sinks *s) {
  int first = 0;
  for (size_t i = 0; i < s->n; i++) {
    sink *k = &s->sinks[i];
    /* The message names the output before its state is freed. */
    char what[sizeof s->failed_what];
    snprintf(what, sizeof what, "%s", k->ops->what(k->state));
    int rc = k->ops->close(k->state);
    if (rc != 0 && first == 0) {
      first = rc;
      if (!s->failed) {
        s->failed = true;
        s->failed_errno = rc == UC_EIO ? errno : 0;
        snprintf(s->failed_what, sizeof s->failed_what, "%s", what);
      }
    }
  }
  s->n = 0;
  return first;
}

int uc_sinks_failed(const uc_sinks *s, const char **what) {
  if (what != NULL)
    *what = s->failed ? s->failed_what : NULL;
  return s->failed ? s->failed_errno : 0;
}

void uc_sinks_free(uc_sinks *s) {
  if (s == NULL)
    return;
  uc_sinks_close(s);
  free(s);
}
