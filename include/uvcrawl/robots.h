/*
 * robots - the Robots Exclusion Protocol (RFC 9309): parser and matcher.
 *
 * A uc_robots holds the rules of one host's robots.txt that apply to one
 * crawler (the group(s) chosen for our product token at parse time). It is
 * immutable after creation, so concurrent calls to the const functions
 * (uc_robots_allowed, uc_robots_crawl_delay, uc_robots_rule_count) on the
 * same object are safe; creating and freeing are not synchronized.
 *
 * Matching: the longest matching rule wins, Allow wins a tie, no match means
 * allowed, and "/robots.txt" is always allowed. '*' matches any sequence of
 * octets, a '$' at the end of a pattern anchors it at the end of the path.
 * Patterns and paths are compared after the same percent-encoding
 * normalization: %XX of an unreserved character (ALPHA DIGIT - . _ ~) is
 * decoded, other %xx get upper-case hex, and octets outside printable ASCII
 * are percent-encoded. So "/%7Efoo" matches "/~foo", but "/a%2fb" does not
 * match "/a/b".
 */
#ifndef UVCRAWL_ROBOTS_H
#define UVCRAWL_ROBOTS_H

#include <stdbool.h>
#include <stddef.h>

/** Only this many leading bytes of a robots.txt are parsed (RFC 9309 2.5). */
#define UC_ROBOTS_MAX_BYTES (500 * 1024)

typedef struct uc_robots uc_robots;

/**
 * Parse a robots.txt body and keep the rules that apply to `product_token`.
 *
 * Group choice: the group(s) whose user-agent line names our product token
 * (compared case-insensitively, each side cut at the first character that is
 * not [a-zA-Z_-], so "Uvcrawl/2.0" names "uvcrawl"); several such groups are
 * merged. If none names us, the "*" group(s) apply, merged likewise; if
 * there is no "*" group either, everything is allowed. Consecutive
 * user-agent lines share one group. Lines are `field: value # comment`;
 * field names are case-insensitive; CR, LF and CRLF end lines; a UTF-8 BOM
 * is skipped; lines without a colon, unknown fields and an empty Disallow
 * are ignored. Crawl-delay is taken from the chosen group(s) (the first
 * valid one); a value that is not a non-negative decimal is ignored.
 * Sitemap lines are accepted and do not end a group.
 *
 * @param out            receives the new object (owned by the caller, free
 *                       with uc_robots_free); untouched on failure.
 * @param body           the robots.txt bytes (borrowed during the call; need
 *                       not be NUL-terminated, may contain any bytes); may be
 *                       NULL when len is 0.
 * @param len            bytes in body; only the first UC_ROBOTS_MAX_BYTES
 *                       are read.
 * @param product_token  our crawler's name, e.g. "uvcrawl" (borrowed during
 *                       the call). A full user agent such as
 *                       "uvcrawl/0.1 (+url)" is cut to its name part.
 * @return 0 or UC_ENOMEM. Garbage input is not an error: it yields no rules.
 */
int uc_robots_parse(uc_robots **out, const char *body, size_t len, const char *product_token);

/**
 * A uc_robots that allows every path (robots.txt answered 4xx).
 * @param out  receives the object (owned, free with uc_robots_free).
 * @return 0 or UC_ENOMEM.
 */
int uc_robots_new_allow_all(uc_robots **out);

/**
 * A uc_robots that disallows every path except "/robots.txt" (robots.txt
 * answered 5xx or was unreachable).
 * @param out  receives the object (owned, free with uc_robots_free).
 * @return 0 or UC_ENOMEM.
 */
int uc_robots_new_disallow_all(uc_robots **out);

/** Free a uc_robots and all it owns. NULL is a no-op. */
void uc_robots_free(uc_robots *r);

/**
 * May we fetch `path`?
 *
 * @param r     the rules (borrowed).
 * @param path  the URL's path plus "?query" if any, starting with '/'
 *              (borrowed, NUL-terminated); "" is read as "/".
 * @return true if allowed. Note: matching may need a scratch copy of a long
 *         path; if that allocation fails the answer is false (the polite
 *         side), never a crash.
 * Runs in O(len(pattern) * len(path)) per rule at worst, never exponential.
 */
bool uc_robots_allowed(const uc_robots *r, const char *path);

/**
 * The Crawl-delay of the chosen group(s), in seconds.
 * @return the delay (>= 0), or -1.0 if none was given.
 */
double uc_robots_crawl_delay(const uc_robots *r);

/** The number of Allow/Disallow rules kept (for tests and statistics). */
size_t uc_robots_rule_count(const uc_robots *r);

#endif /* UVCRAWL_ROBOTS_H */
