/* respond.h - turn a parsed request into a response description.
 *
 * No I/O and no libuv: the server decides when and how to write; this module
 * decides what. That keeps every route testable without sockets. */
#ifndef TW_RESPOND_H
#define TW_RESPOND_H

#include <stdint.h>

#include "http.h"
#include "testweb.h"
#include "util.h"

/** How the body after the head is produced. */
typedef enum tw_stream {
  TW_STREAM_NONE,    /* body (or shared body) written with the head */
  TW_STREAM_SLOW,    /* body trickled at slow_bps on a timer */
  TW_STREAM_HUGE,    /* body, then stream_len bytes of filler */
  TW_STREAM_ENDLESS  /* chunked filler forever */
} tw_stream;

/** One response. Zero-initialise; release with tw_resp_free(). */
typedef struct tw_resp {
  int status;             /* 0 with reset set: no response at all */
  int reset;              /* close with RST instead of answering */
  int close;              /* close the connection after this response */
  int head_only;          /* HEAD: send the head, no body */
  tw_buf head;            /* status line, headers and blank line; owned */
  tw_buf body;            /* owned */
  const char *shared;     /* borrowed from the responder, or NULL */
  size_t shared_len;
  tw_stream stream;
  uint64_t stream_len;    /* TW_STREAM_HUGE: filler bytes after body */
  uint64_t delay_ms;      /* --latency + jitter before answering */
} tw_resp;

/** State that outlives one request: the flaky counters and the precomputed
 *  gzip bomb. Embed it; tw_responder_init/tw_responder_free. */
typedef struct tw_responder {
  const tw_opts *opts;         /* borrowed for the responder's life */
  int port;                    /* goes into absolute links */
  struct tw_flaky *flaky[256]; /* per-path request counters */
  char *bomb;                  /* built on first use; owned */
  size_t bomb_len;
} tw_responder;

void tw_responder_init(tw_responder *r, const tw_opts *opts, int port);
void tw_responder_free(tw_responder *r);

/** Fill resp (zeroed by the caller) for req. req is borrowed. The delay
 *  (latency + jitter in [0, jitter]) is a hash of seed, host and target, so
 *  a rerun sees the same delays. */
void tw_respond(tw_responder *r, const tw_http_req *req, tw_resp *resp);

/** Answer for a request head that could not be parsed (400/414/431). */
void tw_respond_error(int status, tw_resp *resp);

void tw_resp_free(tw_resp *resp);

#endif
