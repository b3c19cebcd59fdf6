/*
 * store_memory - the default store: nothing on disk. It keeps the state of
 * each live (queued or leased) URL by id, counts by state, the host ids
 * and the named values; URL strings stay in the crawl's frontier, and a
 * finished URL costs nothing but its count. Moves are checked: an unknown
 * id is UC_ENOTFOUND, an illegal move UC_EINVAL. Every commit is durable
 * at once (there is nothing to wait for), and a new store is empty.
 * Not thread-safe; it starts no thread.
 */
#ifndef UVCRAWL_STORE_MEMORY_H
#define UVCRAWL_STORE_MEMORY_H

#include "uvcrawl/store.h"

/**
 * Create an empty memory store.
 * @param out  receives it (owned by the caller: free with uc_store_free).
 * @return 0 or UC_ENOMEM.
 */
int uc_store_memory_new(uc_store **out);

#endif /* UVCRAWL_STORE_MEMORY_H */
