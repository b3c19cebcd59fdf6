/* server.h - the libuv side of testweb: listener, connections, timers. */
#ifndef TW_SERVER_H
#define TW_SERVER_H

#include "testweb.h"

/** Listen as opts says, serve until SIGINT/SIGTERM, then close every handle.
 *  opts is borrowed for the duration of the call. Returns the process exit
 *  code: 0 after a clean shutdown (uv_loop_close() succeeded), 1 on a
 *  startup error (already reported on stderr). */
int tw_server_run(const tw_opts *opts);

#endif
