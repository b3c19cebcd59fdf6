/*
 * trace - a Chrome trace-event JSON writer for --trace (loads in Perfetto
 * and chrome://tracing).
 *
 * The file is the JSON Object Format, streamed one event a line:
 *
 *   {"displayTimeUnit":"ms","traceEvents":[
 *   {"name":"process_name","ph":"M","pid":1,...},
 *   {"name":"dns","cat":"xfer","ph":"X","ts":1234.567,"dur":80.250,...},
 *   ...
 *   {"name":"in flight","ph":"C",...}
 *   ]}
 *
 * so it is valid JSON once uc_trace_close() has written the tail.
 *
 * Two processes: pid 1 is uvcrawl's real threads (tid = the kernel's
 * thread id): parses, worker fetches, and the counters; pid 2 holds one
 * row ("lane") per transfer lifetime, from its push into the frontier to
 * its hand-back, with the phases nested inside. Lanes are reused when a
 * later transfer starts after a lane's last one ended, so rows never
 * overlap (complete events must nest on a row).
 *
 * Time comes in as nanoseconds of one monotonic clock (the engines' own);
 * the writer never reads a clock. Not thread-safe: the threaded engine
 * calls it under its trace lock.
 */
#ifndef UVCRAWL_TRACE_H
#define UVCRAWL_TRACE_H

#include <stdint.h>
#include <stdio.h>

typedef struct uc_trace uc_trace;

/* curl's phase times of one transfer, in microseconds from its start
 * (CURLINFO_*_TIME_T); 0 = that phase was not reached. */
typedef struct uc_trace_curl {
  int64_t namelookup, connect, appconnect, pretransfer, starttransfer, total;
} uc_trace_curl;

/* Everything the trace shows of one transfer; times in ns, 0 = absent. */
typedef struct uc_trace_xfer {
  const char *url;         /* borrowed for the call */
  int status;              /* HTTP status, 0 if none */
  const char *error;       /* borrowed; NULL when it succeeded */
  uint64_t queued_ns;      /* pushed into the frontier */
  uint64_t wait_from_ns;   /* its host waited for a token (or a deferral) ... */
  uint64_t wait_until_ns;  /* ... in this stretch; equal when it did not */
  uint64_t dispatched_ns;  /* handed out by uc_crawl_next */
  uint64_t dns_start_ns;   /* the engine's own resolver (loop engine); */
  uint64_t dns_end_ns;     /* both 0: curl's namelookup time is used */
  uint64_t curl_end_ns;    /* curl finished (0: curl never ran) */
  uc_trace_curl curl;      /* relative to curl_end_ns - curl.total */
  uint64_t fetch_tid;      /* a worker that ran curl blocking (0: none) */
  uint64_t fetch_start_ns; /* ... from here to curl_end_ns */
  uint64_t parse_tid;      /* the thread that parsed */
  uint64_t parse_start_ns; /* 0: not parsed */
  uint64_t parse_end_ns;
  uint64_t end_ns; /* handed back to the crawl */
} uc_trace_xfer;

/**
 * One span of work on a real thread (pid 1, row `tid`), such as a commit of
 * the crawl state; `count` goes into its args as "ops".
 * @param name  borrowed for the call.
 * @return 0, UC_ENOMEM or UC_EIO.
 */
int uc_trace_work(uc_trace *t, const char *name, uint64_t tid, uint64_t start_ns,
                  uint64_t end_ns, uint64_t count);

/**
 * Start a trace: writes the head and names the processes.
 * @param f          borrowed; the caller closes it after uc_trace_close().
 * @param engine     "loop" or "threads" (copied into the file).
 * @param origin_ns  the clock reading that becomes ts 0.
 * @return 0, UC_ENOMEM or UC_EIO.
 */
int uc_trace_new(uc_trace **out, FILE *f, const char *engine, uint64_t origin_ns);

/**
 * Name a thread of pid 1 (a "thread_name" metadata event). Each tid is
 * named once; later calls for it are no-ops. @return 0, UC_ENOMEM, UC_EIO.
 */
int uc_trace_name_thread(uc_trace *t, uint64_t tid, const char *name);

/**
 * Write one transfer: the lifetime span on a lane, its phases (queued,
 * token, dns, connect, tls, ttfb, receive), the fetch span on a worker's
 * row and the parse span on the parsing thread's row. Phase edges are
 * clamped so that they never go back in time and stay inside the
 * lifetime. @return 0, UC_ENOMEM or UC_EIO.
 */
int uc_trace_transfer(uc_trace *t, const uc_trace_xfer *x);

/** A counter sample ("C" event on pid 1). @return 0, UC_ENOMEM or UC_EIO. */
int uc_trace_counter(uc_trace *t, const char *name, uint64_t ts_ns, double value);

/**
 * Write the tail ("{}]}") and flush. Call once; later writes are
 * refused. @return 0, or UC_EIO if this or any earlier write failed.
 */
int uc_trace_close(uc_trace *t);

/** The errno of the first failed write (ENOMEM when formatting ran out of
 * memory), or 0 if none failed. */
int uc_trace_errno(const uc_trace *t);

/** Free the writer (not the FILE); NULL is a no-op. */
void uc_trace_free(uc_trace *t);

#endif /* UVCRAWL_TRACE_H */
