/*
 * cluster_int.h - what admin.c and agent.c share.
 */
#ifndef UVCRAWL_CLUSTER_INT_H
#define UVCRAWL_CLUSTER_INT_H

#include <hiredis/hiredis.h>

#include "cluster.h"

/** A synchronous connection with a 2 s timeout, or NULL with err filled. */
redisContext *cluster_connect_sync(const uc_cluster_addr *a, char *err, size_t errlen);

#endif /* UVCRAWL_CLUSTER_INT_H */
