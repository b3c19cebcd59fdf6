/*
 * policy - which discovered URLs a crawl may queue: scope (the seeds' hosts
 * or domains), --allow/--deny regexes, depth, and the trap guards (URL
 * length, a path segment repeated too often).
 *
 * Dedup is not here (that is the visited set); neither are per-host page
 * caps (the crawl counts those). Thread-safety: after the seeds are added,
 * uc_policy_check() only reads, so it may be called from several threads at
 * once; the hosts that seeds redirect to (uc_policy_adopt_host) are the
 * owner thread's alone.
 */
#ifndef UVCRAWL_POLICY_H
#define UVCRAWL_POLICY_H

#include <stddef.h>

#include "uvcrawl/config.h"
#include "uvcrawl/stats.h"

typedef struct uc_policy uc_policy;

/** A path segment seen more than this many times marks a crawler trap. */
#define UC_POLICY_MAX_SEGMENT_REPEATS 3

/**
 * Build the policy from a config: compiles the --allow/--deny regexes.
 * @param cfg     borrowed; only read during the call.
 * @param err     on UC_EINVAL, a one-line message naming the bad regex.
 * @return 0, UC_EINVAL (bad regex) or UC_ENOMEM.
 */
int uc_policy_new(uc_policy **out, const uc_config *cfg, char *err, size_t errlen);

/** Free a policy; NULL is a no-op. */
void uc_policy_free(uc_policy *p);

/**
 * Add a seed's host (lower-case, no port) to the scope.
 * @return 0 or UC_ENOMEM.
 */
int uc_policy_add_seed_host(uc_policy *p, const char *host);

/**
 * Decide whether a discovered link may be queued.
 * @param url    normalized absolute URL (borrowed).
 * @param host   its host, lower-case, no port (borrowed).
 * @param depth  the depth the link would have.
 * @return -1 when it may be queued, else the uc_skip reason.
 */
int uc_policy_check(const uc_policy *p, const char *url, const char *host, int depth);

/**
 * Take a host a seed redirected to into the scope (as wget2 does: a seed
 * `http://shop.test/` that answers 301 to `http://www.shop.test/` makes
 * www.shop.test a seed host). Only uc_policy_check_owner() sees these
 * hosts: call both from the one thread that owns the policy (the crawl's),
 * while other threads may run uc_policy_check(), which does not read them.
 * A host already in scope, or any host with --scope any, adds nothing.
 * @return 0 or UC_ENOMEM.
 */
int uc_policy_adopt_host(uc_policy *p, const char *host);

/**
 * Whether a response of Content-Type `ct` is wanted under --accept and
 * --reject (their items with a '/'): a type matches an item equal to its
 * media type ("text/html" for "text/html; charset=utf-8", any case) or a
 * major-type item ("image/" and a star). With accept types, one must match; no reject type may.
 * A response without a Content-Type (NULL or "") passes.
 * @param cfg  the crawl's settings (borrowed). Pure; any thread.
 */
bool uc_policy_type_ok(const uc_config *cfg, const char *ct);

/** uc_policy_check(), with the adopted hosts in scope too; the owner's only. */
int uc_policy_check_owner(const uc_policy *p, const char *url, const char *host, int depth);

#endif /* UVCRAWL_POLICY_H */
