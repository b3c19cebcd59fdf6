/* reqlog.h - the request log: one tab-separated line per request,
 * "arrival_us done_us host path status conn_id", buffered. */
#ifndef TW_REQLOG_H
#define TW_REQLOG_H

#include <stdint.h>

typedef struct tw_reqlog tw_reqlog;

/** Open (truncate) path for writing. Returns 0, or -errno. */
int tw_reqlog_open(tw_reqlog **out, const char *path);
/** Append one line (buffered). host and path are borrowed; tabs, newlines
 *  and control bytes in them are replaced so a line stays one line.
 *  host is lower-cased and any ":port" is dropped. log may be NULL. */
void tw_reqlog_write(tw_reqlog *log, uint64_t arrival_us, uint64_t done_us,
                     const char *host, const char *path, int status,
                     uint64_t conn_id);
/** Flush if anything was written since the last flush. log may be NULL. */
void tw_reqlog_flush(tw_reqlog *log);
/** Flush, close and free; NULL is a no-op. */
void tw_reqlog_free(tw_reqlog *log);

#endif
