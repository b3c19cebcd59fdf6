/*
 * state - what --state DIR means on the command line: open the crawl's
 * store (SQLite in DIR, or memory without --state), check that this run
 * continues the crawl stored there, print --status, and open the records
 * file for appending.
 */
#ifndef UVCRAWL_CLI_STATE_H
#define UVCRAWL_CLI_STATE_H

#include <stdbool.h>
#include <stdio.h>

#include "uvcrawl/config.h"
#include "uvcrawl/store.h"

typedef enum cli_state_verdict {
  CLI_STATE_GO,    /* crawl (or, if *finished, exit 0: nothing to do) */
  CLI_STATE_USAGE, /* bad input, said on stderr: exit 2, nothing changed */
  CLI_STATE_FAIL,  /* out of memory or a store that cannot be written: exit 1 */
} cli_state_verdict;

/**
 * Open the crawl's store: memory without --state; else DIR's, checked
 * against this run: the options that change what the crawl means
 * (--scope, --depth, --robots, --max-pages-per-host, --allow, --deny) and
 * the seeds must be the stored ones (seeds may be left out), unless
 * `override`, which stores the new ones. A new state stores them.
 * @param out       the store (free with uc_store_free), NULL unless GO.
 * @param finished  set when the stored crawl ended with nothing left and
 *                  this run adds nothing (said on stderr).
 */
cli_state_verdict cli_state_open(const uc_config *cfg, bool override, uc_store **out,
                                 bool *finished);

/** --status: print DIR's counts on `f`. @return the exit code (0, 1, 2). */
int cli_state_status(const char *dir, FILE *f);

/**
 * Open `path` for appending records, cut back first to its last newline
 * (a kill may have cut the last line). @param err  errno on failure.
 */
FILE *cli_state_append(const char *path, int *err);

#endif /* UVCRAWL_CLI_STATE_H */
