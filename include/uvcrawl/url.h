/*
 * url - resolve and normalize URLs for the crawl.
 *
 * Built on libcurl's URL API (curl_url(), curl_url_set(), curl_url_get()),
 * not on a hand-written parser. Every URL that leaves this module is an
 * absolute http or https URL in one normal form, so that two spellings of the
 * same resource compare equal as strings (the crawl's dedup key):
 *
 *   - scheme and host lower-case; IDN hosts in punycode when libcurl can
 *     convert them (see Note below); default port dropped (80/443);
 *   - a host that is an IPv4 number in any spelling ("0x7f.1", "%31%32%37.1",
 *     fullwidth digits) in dotted decimal ("127.0.0.1"); a host that
 *     percent-decoding or IDN mapping gives a byte no host may hold ('%',
 *     '/', '@', ':', ...) makes the URL malformed (UC_EBADURL);
 *   - fragment dropped; query kept as is (no sorting, an empty "?" dropped);
 *   - dot segments removed, also those spelled %2E (RFC 3986 6.2.2.3);
 *   - percent-encoding normalized (RFC 3986 6.2.2.2): hex digits upper-case,
 *     encoded unreserved characters (ALPHA DIGIT - . _ ~) decoded, and every
 *     byte that RFC 3986 does not allow in a path or query (space, non-ASCII,
 *     " < > \ ^ ` { | } [ ] and a '%' not followed by two hex digits) encoded;
 *   - empty path -> "/".
 *
 * References are cleaned as the WHATWG URL standard does for http(s): bytes
 * <= 0x20 stripped from both ends, tab/LF/CR removed inside, backslashes
 * before the query treated as '/', "http:g" relative when the base is http,
 * extra slashes after "http:" ignored. Other control bytes (0x00-0x1F, 0x7F)
 * inside a reference make it malformed (UC_EBADURL) rather than encoded.
 * User info ("user:pass@") is kept, its percent-encoding normalized likewise.
 *
 * Note: punycode conversion goes through libcurl's IDN support (libidn2),
 * which in libcurl 7.88 converts from the process's locale: in the "C" locale
 * it fails, and the host is then kept as UTF-8 bytes (still lower-cased for
 * ASCII letters). A program that wants punycode calls
 * setlocale(LC_CTYPE, "C.UTF-8") (or any UTF-8 locale) once at start-up.
 *
 * All functions are reentrant and keep no state; safe to call from any thread
 * as long as libcurl was initialized (curl_global_init) before threads start.
 */
#ifndef UVCRAWL_URL_H
#define UVCRAWL_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uvcrawl/buf.h"

/** The longest URL, in bytes without the NUL, that this module returns. */
#define UC_URL_MAX_LEN 8192

/**
 * Resolve reference `ref` against the absolute URL `base` and normalize the
 * result for dedup (see the top of this file).
 *
 * @param base  absolute http(s) URL (borrowed), or NULL: then `ref` must be
 *              absolute. A protocol-relative "//host/p" takes base's scheme;
 *              an empty or fragment-only ref gives the base itself.
 * @param ref   the reference as found in a page (borrowed; any bytes).
 * @param out   on success, the normalized absolute URL, owned by the caller
 *              (free with free()); untouched on failure.
 * @return 0, UC_EBADURL (malformed, or relative without a base),
 *         UC_ESCHEME (a scheme other than http/https: javascript:, mailto:,
 *         data:, ftp:, ...), UC_ETOOLONG (result longer than UC_URL_MAX_LEN,
 *         or ref longer than 4 * UC_URL_MAX_LEN), UC_ENOMEM.
 *         Never crashes, whatever the bytes.
 */
int uc_url_resolve(const char *base, const char *ref, char **out);

/**
 * Normalize an absolute URL: uc_url_resolve(NULL, url, out).
 * @param url  absolute http(s) URL (borrowed).
 * @param out  normalized URL, owned by the caller (free with free()).
 * @return as uc_url_resolve().
 */
int uc_url_normalize(const char *url, char **out);

/**
 * The origin of a URL, "scheme://host[:port]", lower-case, the port only
 * when it is not the scheme's default. This is the crawler's per-host key
 * (rate limits, robots.txt, connection caps).
 * @param url  absolute http(s) URL (borrowed; need not be normalized).
 * @param out  the origin, owned by the caller (free with free()).
 * @return as uc_url_resolve().
 */
int uc_url_origin(const char *url, char **out);

/**
 * The host name of a URL, lower-case, without port or user info. An IPv6
 * literal keeps its brackets ("[::1]"), as it appears in the URL.
 * @param url     absolute http(s) URL (borrowed).
 * @param buf     caller storage for the NUL-terminated host.
 * @param buflen  size of buf in bytes.
 * @return 0, UC_ETOOLONG (the host and its NUL do not fit in buflen; buf is
 *         then an empty string if buflen > 0), or as uc_url_resolve().
 */
int uc_url_host(const char *url, char *buf, size_t buflen);

/**
 * The host (as uc_url_host()) and the port to connect to (the scheme's
 * default when the URL names none) of a URL, from one parse.
 * @param port  set on success.
 * @return as uc_url_host().
 */
int uc_url_host_port(const char *url, char *buf, size_t buflen, int *port);

/**
 * The "/path?query" of a URL (no fragment), percent-encoding normalized as
 * in uc_url_normalize(); what robots.txt rules are matched against.
 * @param url  absolute http(s) URL (borrowed).
 * @param out  "/path" or "/path?query", owned by the caller (free with free()).
 * @return as uc_url_resolve().
 */
int uc_url_path_query(const char *url, char **out);

/**
 * Where the parts of a normalized URL lie in its text, found while the URL
 * was put together (so nothing parses it again to learn its host or path):
 *
 *   http://user@h.test:8080/p?q
 *   ^scheme     ^host_off   ^path_off ("/path?query" to the end)
 *
 * The origin ("scheme://host[:port]", the crawl's host key) is the text
 * before path_off when the URL has no user info, else the scheme, "://"
 * and the text from host_off to path_off (see uc_url_parts_origin()).
 */
typedef struct uc_url_parts {
  uint16_t scheme_len; /* 4 (http) or 5 (https) */
  uint16_t host_off;   /* the host as uc_url_host() gives it ... */
  uint16_t host_len;   /* ... this many bytes (not NUL-terminated) */
  uint16_t path_off;   /* "/path?query" starts here */
  uint16_t port;       /* the port to connect to (the default when none) */
  bool userinfo;       /* "user[:password]@" stands before the host */
} uc_url_parts;

/** A base URL parsed once, to resolve many references against (a page's
 *  URL or its <base href>). Opaque. */
typedef struct uc_url_base uc_url_base;

/**
 * Parse an absolute URL for use as a base with uc_url_resolve_at().
 * @param url  absolute http(s) URL (borrowed; need not be normalized).
 * @param out  the parsed base, owned by the caller (free with
 *             uc_url_base_free()); untouched on failure.
 * @return as uc_url_resolve(). Thread safety: a base is read-only once
 *         made; threads may share it.
 */
int uc_url_base_new(const char *url, uc_url_base **out);

/** Free a base from uc_url_base_new(); NULL is a no-op. */
void uc_url_base_free(uc_url_base *base);

/**
 * uc_url_resolve() against a parsed base, with the parts of the result.
 * The base is copied (curl_url_dup), not parsed again, for each reference.
 * @param base   from uc_url_base_new() (borrowed), or NULL: `ref` must then
 *               be absolute.
 * @param ref    as in uc_url_resolve().
 * @param out    as in uc_url_resolve().
 * @param parts  may be NULL; on success, where the parts of *out lie.
 * @return as uc_url_resolve().
 */
int uc_url_resolve_at(const uc_url_base *base, const char *ref, char **out, uc_url_parts *parts);

/**
 * The parts of a URL already in normal form (from this module): one parse,
 * for URLs that arrive without their parts (seeds, a store's rows, a
 * redirect target).
 * @param url  a normalized URL (borrowed).
 * @return 0, or as uc_url_resolve(); UC_EBADURL too when `url` is not in
 *         normal form (its parts would not match its text).
 */
int uc_url_parts_of(const char *url, uc_url_parts *parts);

/**
 * Append the origin of `url` (whose parts are `p`) to `out`, as
 * uc_url_origin() would give it, without parsing.
 * @return 0 or UC_ENOMEM.
 */
int uc_url_parts_origin(const char *url, const uc_url_parts *p, uc_buf *out);

struct psl_ctx_st; /* libpsl's psl_ctx_t */

/**
 * The registrable domain of a host, for --scope domain, from the Public
 * Suffix List through libpsl: "a.example.co.uk" -> "example.co.uk",
 * "a.b.user.github.io" -> "user.github.io", "h0001.test" -> "h0001.test".
 * A host that is itself a public suffix ("co.uk", "github.io", "localhost"),
 * an IP address (IPv4, or an IPv6 literal, bracketed or not) and the empty
 * string return the host itself; a trailing dot is kept ("a.example.com."
 * -> "example.com.").
 *
 * @param psl   the list (borrowed; read-only, so any thread may share it):
 *              the one uc_url_psl_load() gives, or NULL for the list
 *              compiled into libpsl.
 * @param host  a lower-case host name (borrowed), e.g. from uc_url_host().
 * @return a pointer into `host` (borrowed, valid as long as `host`).
 */
const char *uc_url_domain(const struct psl_ctx_st *psl, const char *host);

/**
 * The newest Public Suffix List at hand: the system's (Debian's publicsuffix
 * package, /usr/share/publicsuffix) or the one compiled into libpsl,
 * whichever is newer. Reads a file: call it once, at start-up.
 * @return owned (free with uc_url_psl_free()), or NULL when it could not be
 *         loaded (uc_url_domain() then uses the compiled-in list).
 */
struct psl_ctx_st *uc_url_psl_load(void);

/** Free a list from uc_url_psl_load(); NULL is a no-op. */
void uc_url_psl_free(struct psl_ctx_st *psl);

/**
 * Where the password of a URL's userinfo is ("http://user:PW@host/"), so
 * that it can be masked wherever the URL is printed or written.
 * @param url    any string (borrowed); only "SCHEME://...@" is looked at.
 * @param start  receives the password's offset in url.
 * @param len    receives its length (never 0 when true is returned).
 * @return true if the URL holds a non-empty password.
 */
bool uc_url_password(const char *url, size_t *start, size_t *len);

/** What a masked password reads ("http://user:*password*@host/", as wget). */
#define UC_URL_PASSWORD_MASK "*password*"

/**
 * Append `url` to `out` with its password (if any) replaced by
 * UC_URL_PASSWORD_MASK, for every place a URL is shown.
 * @return 0 or UC_ENOMEM (out->len restored on failure).
 */
int uc_url_mask(const char *url, uc_buf *out);

#endif /* UVCRAWL_URL_H */
