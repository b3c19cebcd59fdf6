/* testweb.h - the command-line options shared by the server and --expect. */
#ifndef TW_TESTWEB_H
#define TW_TESTWEB_H

#include <stddef.h>
#include <stdint.h>

#include "site.h"

/** Every option of the testweb command line, parsed. Strings are borrowed
 *  from argv or owned by main() for the life of the process. */
typedef struct tw_opts {
  tw_site_opts site;
  char listen_ip[64];
  int listen_port;        /* 0: pick a free port */
  const char *port_file;  /* NULL: none */
  const char *log_path;   /* NULL: no request log */
  int latency_ms;
  int jitter_ms;
  int gzip;               /* --gzip: honour Accept-Encoding: gzip on pages */
  char *robots_body;      /* owned by main(); NULL: allow-all default */
  size_t robots_len;
  int robots_status;      /* 0: serve robots_body with 200 */
  long slow_bps;
  uint64_t huge_bytes;
  int max_conns;          /* 0: unlimited */
  int link_port;          /* --link-port: 0: the listening port */
} tw_opts;

#endif
