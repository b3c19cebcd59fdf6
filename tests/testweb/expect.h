/* expect.h - the truth for crawl tests: every URL a correct crawler reaches
 * from the seeds within a depth, computed over the same generator the server
 * uses. */
#ifndef TW_EXPECT_H
#define TW_EXPECT_H

#include <stdio.h>

#include "testweb.h"

/** Options of one --expect run; strings borrowed for the call. */
typedef struct tw_expect_opts {
  int port;                 /* port written into the URLs */
  int depth;                /* link hops; -1 unlimited */
  const char *const *seeds; /* absolute http URLs */
  int nseeds;
  int scope_host;           /* follow only links to a seed's host */
} tw_expect_opts;

/** Breadth-first walk; prints the reached URLs, sorted (strcmp), one per line
 *  to out. Returns 0, or 2 after printing a message for a bad seed. */
int tw_expect_run(const tw_opts *o, const tw_expect_opts *e, FILE *out);

#endif
