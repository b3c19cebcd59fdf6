/*
 * sink - where the crawl's output goes, behind one interface: every fetch
 * result (its JSON record, and the HTTP exchange as it went over the wire
 * when one was captured) is handed to a set of sinks. JSON Lines records
 * and WARC archives (with their CDXJ index) are sinks; several may be open
 * at once (`-o records.jsonl --warc crawl`). The crawl core never writes a
 * FILE * itself. The model is libgit2's odb backends, like store.h.
 *
 * Backends (src/sink) fill a uc_sink_ops table:
 *  - jsonl (src/sink/jsonl.c): one JSON record a line (record.h);
 *  - warc (src/sink/warc.c): WARC/1.1 request/response/revisit records,
 *    each its own gzip member, rotated files, and a CDXJ index.
 *
 * Threads: uc_sinks_write() and uc_sinks_close() are called from one
 * thread at a time (the crawl's owner: the loop thread, or under the
 * threads engine's crawl lock). uc_sinks_flush() may run on any thread at
 * the same time as a write (the store's writer thread calls it before each
 * commit, so that a URL is never DONE in the store without its output on
 * disk): every backend's flush is safe against its own write.
 */
#ifndef UVCRAWL_SINK_H
#define UVCRAWL_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "uvcrawl/record.h"

/** One HTTP exchange as it went over the wire, for archives. All borrowed. */
typedef struct uc_exchange {
  const char *target_uri; /* the URL requested */
  const char *ip;         /* the remote IP address, "" if unknown */
  int64_t wall_ms;        /* when the request was sent, ms since the epoch */
  const char *request;    /* request line and headers as sent, ending CRLF CRLF */
  size_t request_len;
  const char *response;   /* status line and headers as received, ending CRLF CRLF */
  size_t response_len;
  const char *payload;    /* the body as received (Content-Encoding kept) */
  size_t payload_len;
  bool truncated;         /* the payload was cut at its bound (--max-body) */
  int status;             /* the response's status code */
  const char *content_type; /* the response's Content-Type, NULL if none */
  /* The hop before this one when the client followed a redirect itself
   * (robots.txt), archived first; NULL if none. Such a hop has no payload
   * (the client read it away): truncated when one was announced. */
  const struct uc_exchange *prev;
} uc_exchange;

/** What the crawl hands to each sink for one URL. Borrowed for the call. */
typedef struct uc_sink_entry {
  /* The URL's record; NULL for a fetch that makes none (robots.txt, a
   * try that is retried), which only archives keep. */
  const uc_record *record;
  const uc_exchange *exchange; /* NULL: no HTTP response, or none captured */
} uc_sink_entry;

/**
 * A backend. `state` is the backend's own, handed to uc_sinks_add().
 * write, flush and close return 0 or a negative UC_E* code; on UC_EIO
 * errno holds the cause when they return.
 */
typedef struct uc_sink_ops {
  /* Write one entry (the crawl's thread). A backend ignores what it does
   * not keep (the JSON sink the exchange, WARC an entry without one). */
  int (*write)(void *state, const uc_sink_entry *e);
  /* Push what was written to the kernel; any thread, also during write. */
  int (*flush)(void *state);
  /* Flush, end the files on complete records, close, free the state. */
  int (*close)(void *state);
  /* Names the output in a message ("records to out.jsonl"): static or
   * owned by the state. */
  const char *(*what)(void *state);
} uc_sink_ops;

typedef struct uc_sinks uc_sinks;

/** An empty set. @return 0 or UC_ENOMEM. */
int uc_sinks_new(uc_sinks **out);

/**
 * Add a backend; the set owns `state` from now on (closed by
 * uc_sinks_close or uc_sinks_free), also when this fails.
 * @param ops  borrowed; must outlive the set (a static table).
 * @return 0 or UC_ENOMEM.
 */
int uc_sinks_add(uc_sinks *s, const uc_sink_ops *ops, void *state);

/**
 * Hand one entry to every sink, in the order added; stops at the first
 * that fails and remembers it (uc_sinks_failed). The crawl's thread only.
 * @return 0, UC_EIO (errno holds the cause) or UC_ENOMEM.
 */
int uc_sinks_write(uc_sinks *s, const uc_sink_entry *e);

/**
 * Flush every sink. Any thread, also during uc_sinks_write. Remembers
 * nothing (the caller reports).
 * @param what  if not NULL, set to what the first failing sink writes
 *              (borrowed until uc_sinks_close), NULL if none failed.
 * @return 0, or the first failure's code (errno holds the cause).
 */
int uc_sinks_flush(uc_sinks *s, const char **what);

/**
 * Say an output's failure in `msg`: "cannot write WHAT: REASON", where a
 * NULL `what` is "the output" and an `err` of 0 is EIO.
 */
void uc_sinks_say(char *msg, size_t msglen, const char *what, int err);

/**
 * uc_sinks_flush, saying a failure in `msg` (uc_sinks_say) ("cannot write records to
 * out.jsonl: No space left on device"): the store's pre_commit hook.
 * @return 0, or the first failure's code (errno holds the cause).
 */
int uc_sinks_flush_said(uc_sinks *s, char *msg, size_t msglen);

/**
 * Close every sink (the crawl's thread, once, after the last write); the
 * set is empty afterwards and may be freed. A failure is remembered like
 * a write's. @return 0 or the first failure's code.
 */
int uc_sinks_close(uc_sinks *s);

/**
 * The first failed write or close: its errno (0 if none failed, or for a
 * failure without one) and what its sink writes ("records to stdout"),
 * borrowed until uc_sinks_free; `what` may be NULL.
 */
int uc_sinks_failed(const uc_sinks *s, const char **what);

/** Close what is open (errors ignored) and free the set; NULL is a no-op. */
void uc_sinks_free(uc_sinks *s);

/**
 * Add a JSON Lines sink writing to `f` (borrowed, never closed: the caller
 * closes it after uc_sinks_close). The sink writes whole lines to f's file
 * descriptor with its own buffer, never through f's: a regular file ends
 * on a complete record also after a failed write (a full disk). `name`
 * names it in messages, e.g. "stdout" (copied). @return 0 or UC_ENOMEM.
 */
int uc_sink_jsonl_add(uc_sinks *s, FILE *f, const char *name);

/** How to write WARC files (uc_sink_warc_add). */
typedef struct uc_warc_opts {
  const char *prefix;      /* files PREFIX-00000.warc.gz, ... (borrowed for the call) */
  const char *cdx_path;    /* --warc-cdx FILE, or NULL for no index */
  uint64_t max_size;       /* start a new file once one reaches this many bytes */
  bool dedup;              /* a payload seen before becomes a revisit record */
  bool resume;             /* start at the next free file index, append to the index */
  const char *software;    /* "uvcrawl/0.1.0", for warcinfo */
  const char *options;     /* the command line, for warcinfo; may be NULL */
} uc_warc_opts;

/**
 * Open the first WARC file (after the last one present with o->resume)
 * and the CDXJ index, and add the sink.
 * @param err  a one-line message on failure ("cannot create crawl-00000.warc.gz: ...").
 * @return 0, UC_EIO (cannot create a file) or UC_ENOMEM.
 */
int uc_sink_warc_add(uc_sinks *s, const uc_warc_opts *o, char *err, size_t errlen);

#endif /* UVCRAWL_SINK_H */
