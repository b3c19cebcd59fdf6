/*
 * chunked - undo HTTP/1.1's chunked transfer coding, a few bytes at a time.
 *
 * With --warc a response is archived as it came over the wire, chunk
 * framing included (a WARC response record is the HTTP message as
 * received), so curl passes the framing on. Two readers need the body
 * without it: the link extractor, and WARC-Payload-Digest, which is
 * computed over the entity-body with its transfer coding removed (WARC 1.1
 * section 6.3.2, clarified in iipc/warc-specifications#22): two responses
 * that differ only in chunk boundaries have the same payload digest.
 *
 * A decoder is a small state machine fed whatever bytes arrive; it hands
 * each run of body bytes to a callback and skips sizes, extensions and
 * trailers (RFC 9112 section 7.1). Not thread-safe; one per message.
 */
#ifndef UVCRAWL_CHUNKED_H
#define UVCRAWL_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Where the decoder is in the message; see chunked.c. */
typedef enum uc_chunked_state {
  UC_CHUNKED_SIZE,     /* hex digits of a chunk size */
  UC_CHUNKED_EXT,      /* a chunk extension, up to the line's LF */
  UC_CHUNKED_DATA,     /* `left` bytes of chunk data */
  UC_CHUNKED_DATA_END, /* the CRLF after chunk data */
  UC_CHUNKED_TRAILER,  /* trailer lines after the last chunk, up to an empty one */
  UC_CHUNKED_DONE,     /* the message ended; later bytes are ignored */
  UC_CHUNKED_BAD,      /* the framing broke; later bytes are ignored */
} uc_chunked_state;

/** A decoder; zero-initialized (or UC_CHUNKED_INIT) is ready to feed. */
typedef struct uc_chunked {
  uc_chunked_state state;
  uint64_t left;     /* UC_CHUNKED_DATA: bytes of this chunk still to come */
  unsigned digits;   /* UC_CHUNKED_SIZE: hex digits seen in this size */
  unsigned line_len; /* UC_CHUNKED_TRAILER, DATA_END: bytes of the current line */
} uc_chunked;

#define UC_CHUNKED_INIT {UC_CHUNKED_SIZE, 0, 0, 0}

/**
 * Called with each run of body bytes, in order. @return false to stop
 * (uc_chunked_feed() then returns false at once).
 */
typedef bool (*uc_chunked_body_cb)(void *userp, const char *body, size_t len);

/**
 * Decode `len` more bytes of a chunked message body.
 * @param d     the decoder
 * @param data  borrowed for the call
 * @param cb    receives body bytes (borrowed for its call)
 * @return false when cb asked to stop; true otherwise, also when the
 *         framing is broken (then d->state is UC_CHUNKED_BAD and the rest
 *         is not decoded: the caller decides what a broken body means).
 */
bool uc_chunked_feed(uc_chunked *d, const char *data, size_t len, uc_chunked_body_cb cb,
                     void *userp);

/**
 * Whether response headers (status line and header lines, as received)
 * say the body is sent chunked: a Transfer-Encoding whose last coding is
 * "chunked" (RFC 9112 section 6.1).
 * @param head  borrowed; need not be NUL-terminated
 */
bool uc_chunked_in_headers(const char *head, size_t len);

#endif
