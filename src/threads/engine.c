/* engine.c - the threaded engine (see thr.h). Not built yet: issue 4. */
#include <stdio.h>
#include <string.h>

#include "thr.h"

int thr_run(const uc_config *cfg, FILE *records, uc_stats *stats) {
  (void)cfg;
  (void)records;
  memset(stats, 0, sizeof *stats);
  fputs("uvcrawl: --engine threads is not available in this build yet\n", stderr);
  return 2;
}
