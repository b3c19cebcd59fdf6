/*
 * chunked.c - the chunked transfer coding's decoder (see chunked.h).
 *
 * One byte at a time except chunk data, which goes to the callback in the
 * longest runs the input allows. Bare LF line ends are taken as CRLF, as
 * curl and most servers' clients do.
 */
#include "uvcrawl/chunked.h"

#include <string.h>
#include <strings.h>

/* The value of a hex digit, or -1. */
static int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* The size line ended: data follows, or the trailer after the last chunk. */
static void size_line_end(uc_chunked *d) {
  if (d->digits == 0) {
    d->state = UC_CHUNKED_BAD; /* a line with no size */
    return;
  }
  d->state = d->left > 0 ? UC_CHUNKED_DATA : UC_CHUNKED_TRAILER;
  d->line_len = 0;
}

/* One byte outside chunk data. */
static void framing_byte(uc_chunked *d, char c) {
  switch (d->state) {
  case UC_CHUNKED_SIZE: {
    int v = hex_value(c);
    if (v >= 0) {
      /* Note: 16 hex digits hold any uint64_t; a 17th would wrap. */
      if (++d->digits > 16) {
        d->state = UC_CHUNKED_BAD;
        return;
      }
      d->left = d->left << 4 | (uint64_t)v;
    } else if (c == '\n') {
      size_line_end(d);
    } else if (c == '\r' || c == ';' || c == ' ' || c == '\t') {
      d->state = d->digits > 0 ? UC_CHUNKED_EXT : UC_CHUNKED_BAD;
    } else {
      d->state = UC_CHUNKED_BAD;
    }
    return;
  }
  case UC_CHUNKED_EXT:
    if (c == '\n')
      size_line_end(d);
    return;
  case UC_CHUNKED_DATA_END:
    if (c == '\r' && d->line_len == 0) {
      d->line_len = 1;
    } else if (c == '\n') {
      d->state = UC_CHUNKED_SIZE;
      d->left = 0;
      d->digits = 0;
    } else {
      d->state = UC_CHUNKED_BAD; /* data longer than its size said */
    }
    return;
  case UC_CHUNKED_TRAILER:
    if (c == '\n') {
      if (d->line_len == 0)
        d->state = UC_CHUNKED_DONE; /* the empty line ends the message */
      d->line_len = 0;
    } else if (c != '\r') {
      d->line_len++;
    }
    return;
  default:
    return;
  }
}

bool uc_chunked_feed(uc_chunked *d, const char *data, size_t len, uc_chunked_body_cb cb,
                     void *userp) {
  size_t at = 0;
  while (at < len && d->state != UC_CHUNKED_DONE && d->state != UC_CHUNKED_BAD) {
    if (d->state != UC_CHUNKED_DATA) {
      framing_byte(d, data[at++]);
      continue;
    }
    size_t run = len - at < d->left ? len - at : (size_t)d->left;
    d->left -= run;
    if (d->left == 0) {
      d->state = UC_CHUNKED_DATA_END;
      d->line_len = 0;
    }
    if (!cb(userp, data + at, run))
      return false;
    at += run;
  }
  return true;
}

bool uc_chunked_in_headers(const char *head, size_t len) {
  bool chunked = false;
  const char *end = head + len;
  for (const char *line = head; line < end;) {
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    const char *stop = eol != NULL ? eol : end;
    static const char name[] = "Transfer-Encoding:";
    if ((size_t)(stop - line) >= sizeof name - 1 && strncasecmp(line, name, sizeof name - 1) == 0) {
      /* The last coding listed is the one applied last: chunked only if
       * it is that one (a later header line continues the list). */
      const char *v = stop;
      while (v > line && (v[-1] == '\r' || v[-1] == ' ' || v[-1] == '\t'))
        v--;
      const char *w = v;
      while (w > line && w[-1] != ',' && w[-1] != ':' && w[-1] != ' ' && w[-1] != '\t')
        w--;
      chunked = v - w == 7 && strncasecmp(w, "chunked", 7) == 0;
    }
    line = stop + 1;
  }
  return chunked;
}
