/*
 * store_sqlite - the crawl state in SQLite (--state DIR): DIR/crawl.db in
 * WAL mode, locked against a second uvcrawl by DIR/lock. The schema is in
 * docs/state.md; plain `sqlite3 DIR/crawl.db` queries work, also while a
 * crawl runs.
 *
 * Writes (put_*, set_state) are appended to an in-memory log on the
 * caller's thread; uc_store_commit() closes a group and hands it to the
 * store's writer thread, which applies every group it finds in one
 * transaction (group commit: no fsync per URL; synchronous=NORMAL, so a
 * commit survives a kill of the process, and a power loss may lose the
 * last ones but never half of one). The caller's thread never waits on
 * the disk, except in uc_store_sync() and uc_store_free().
 *
 * Threads: the writer thread is the only one besides the caller's; it
 * calls the hooks (uc_store_set_hooks) holding no lock that a uc_store_*
 * write takes. It blocks every signal.
 */
#ifndef UVCRAWL_STORE_SQLITE_H
#define UVCRAWL_STORE_SQLITE_H

#include <stdbool.h>
#include <stddef.h>

#include "uvcrawl/store.h"

/* The schema this build reads and writes (PRAGMA user_version). */
#define UC_STORE_SQLITE_SCHEMA 1

typedef enum uc_store_sqlite_mode {
  UC_STORE_SQLITE_CRAWL,  /* read and write; DIR is made if missing and locked */
  UC_STORE_SQLITE_STATUS, /* read only, no lock: a crawl may be running */
} uc_store_sqlite_mode;

/**
 * Open (or create) the state in `dir`.
 * @param out   receives the store (free with uc_store_free, which releases
 *              the lock).
 * @param dir   borrowed for the call.
 * @param err   on failure, one line saying what is wrong ("DIR is in use
 *              by another uvcrawl (pid 123)", "... is not a uvcrawl state
 *              database", "... was written by another version ...").
 * @return 0; UC_EINVAL (bad input: unwritable, locked, foreign, corrupt,
 *         other version, or no state to read with STATUS); UC_ENOMEM.
 *         On failure nothing in `dir` was changed, except that CRAWL
 *         may have made an empty `dir` and its lock file.
 */
int uc_store_sqlite_open(uc_store **out, const char *dir, uc_store_sqlite_mode mode, char *err,
                         size_t errlen);

#endif /* UVCRAWL_STORE_SQLITE_H */
