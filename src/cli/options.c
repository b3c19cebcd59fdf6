/* options.c - command-line parsing with getopt_long. */
#include "options.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uvcrawl/error.h"
#include "uvcrawl/policy.h"
#include "uvcrawl/url.h"
#include "cluster.h"

enum {
  OPT_ENGINE = 256, OPT_RATE, OPT_BURST, OPT_PER_HOST, OPT_SCOPE, OPT_ALLOW, OPT_DENY,
  OPT_PARSE_THREADS, OPT_USER_AGENT, OPT_ROBOTS, OPT_MAX_CRAWL_DELAY, OPT_TIMEOUT,
  OPT_CONNECT_TIMEOUT, OPT_DRAIN_TIMEOUT, OPT_MAX_BODY, OPT_RETRIES, OPT_MAX_REDIRECTS,
  OPT_MAX_URL_LENGTH, OPT_MAX_PAGES_PER_HOST, OPT_RESOLVE, OPT_DNS_SERVER, OPT_STATS,
  OPT_PROGRESS, OPT_SEEN, OPT_SYNC, OPT_TRACE, OPT_RECORD_HEADERS, OPT_STATE, OPT_STATUS,
  OPT_STATE_OVERRIDE,
  /* issue 14: TLS, HTTP versions, headers, proxy */
  OPT_CA_CERT, OPT_INSECURE, OPT_HTTP1_1, OPT_HTTP2, OPT_HEADER, OPT_PROXY, OPT_ACCEPT,
  OPT_REJECT, OPT_SITEMAP, OPT_SITEMAPS,
  OPT_WARC, OPT_WARC_MAX_SIZE, OPT_WARC_DEDUP, OPT_WARC_CDX,
  /* issue 12: agents sharing a crawl through Redis */
  OPT_CLUSTER, OPT_AGENT, OPT_AGENTS, OPT_STOP,
  /* issue 13: the HTML parser */
  OPT_PARSER,
};

static const struct option long_options[] = {
    {"engine", required_argument, NULL, OPT_ENGINE},
    {"concurrency", required_argument, NULL, 'c'},
    {"depth", required_argument, NULL, 'd'},
    {"max-pages", required_argument, NULL, 'n'},
    {"max-pages-per-host", required_argument, NULL, OPT_MAX_PAGES_PER_HOST},
    {"rate", required_argument, NULL, OPT_RATE},
    {"burst", required_argument, NULL, OPT_BURST},
    {"per-host", required_argument, NULL, OPT_PER_HOST},
    {"scope", required_argument, NULL, OPT_SCOPE},
    {"allow", required_argument, NULL, OPT_ALLOW},
    {"deny", required_argument, NULL, OPT_DENY},
    {"parse-threads", required_argument, NULL, OPT_PARSE_THREADS},
    {"parser", required_argument, NULL, OPT_PARSER},
    {"user-agent", required_argument, NULL, OPT_USER_AGENT},
    {"robots", required_argument, NULL, OPT_ROBOTS},
    {"max-crawl-delay", required_argument, NULL, OPT_MAX_CRAWL_DELAY},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"max-redirects", required_argument, NULL, OPT_MAX_REDIRECTS},
    {"max-url-length", required_argument, NULL, OPT_MAX_URL_LENGTH},
    {"resolve", required_argument, NULL, OPT_RESOLVE},
    {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
    {"input", required_argument, NULL, 'i'},
    {"output", required_argument, NULL, 'o'},
    {"stats", required_argument, NULL, OPT_STATS},
    {"trace", required_argument, NULL, OPT_TRACE},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"seen", required_argument, NULL, OPT_SEEN},
    {"sync", required_argument, NULL, OPT_SYNC},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"record-headers", no_argument, NULL, OPT_RECORD_HEADERS},
    {"state", required_argument, NULL, OPT_STATE},
    {"status", no_argument, NULL, OPT_STATUS},
    {"state-override", no_argument, NULL, OPT_STATE_OVERRIDE},
    {"ca-cert", required_argument, NULL, OPT_CA_CERT},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"http1.1", no_argument, NULL, OPT_HTTP1_1},
    {"http2", no_argument, NULL, OPT_HTTP2},
    {"header", required_argument, NULL, OPT_HEADER},
    {"proxy", required_argument, NULL, OPT_PROXY},
    {"accept", required_argument, NULL, OPT_ACCEPT},
    {"reject", required_argument, NULL, OPT_REJECT},
    {"sitemap", required_argument, NULL, OPT_SITEMAP},
    {"sitemaps", required_argument, NULL, OPT_SITEMAPS},
    {"warc", required_argument, NULL, OPT_WARC},
    {"warc-max-size", required_argument, NULL, OPT_WARC_MAX_SIZE},
    {"warc-dedup", required_argument, NULL, OPT_WARC_DEDUP},
    {"warc-cdx", required_argument, NULL, OPT_WARC_CDX},
    {"cluster", required_argument, NULL, OPT_CLUSTER},
    {"agent", required_argument, NULL, OPT_AGENT},
    {"agents", required_argument, NULL, OPT_AGENTS},
    {"stop", no_argument, NULL, OPT_STOP},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

void cli_usage(FILE *f) {
  fputs(
      "Usage: uvcrawl [options] URL...\n"
      "A concurrent web crawler: one libuv event loop (or a thread pool) fetching\n"
      "with libcurl, polite per host, writing one JSON record per URL.\n"
      "\n"
      "Numbers are plain decimal; the range of each is in brackets.\n"
      "\n"
      "  --engine loop|threads     concurrency model (default loop)\n"
      "  -c, --concurrency N       transfers in flight / at most N worker threads\n"
      "                            [1-1000000] (default 256)\n"
      "  -d, --depth N             follow links at most N hops from a seed [0-2147483647]\n"
      "                            (default unlimited)\n"
      "  -n, --max-pages N         stop after N pages [1-]\n"
      "      --max-pages-per-host N  [1-]\n"
      "  --rate R --burst B        per-host token bucket, requests/s [0-1e9] and burst\n"
      "                            [1-1e9] (default 2, burst 2); --rate 0: no limit but\n"
      "                            --per-host and robots.txt's Crawl-delay\n"
      "  --per-host N              per-host transfers in flight [1-1000000] (default 2)\n"
      "  --scope host|domain|any   which links to follow (default host); domain: the\n"
      "                            seeds' registrable domains (Public Suffix List)\n"
      "  --allow REGEX, --deny REGEX  follow only matching / never matching links\n"
      "  --parse-threads N         loop engine: parse HTML on N pool threads [0-128]\n"
      "                            (default: one per core; 0 = inline, the default on\n"
      "                            a single core)\n"
      "  --parser gumbo|libxml2    the HTML parser that finds links (default gumbo,\n"
      "                            HTML5-exact; libxml2: faster, docs/parsers.md)\n"
      "  --seen mutex|lockfree     threads engine: the visited set (default mutex)\n"
      "  --sync pthread|futex      threads engine: pthreads' locks or the hand-built\n"
      "                            futex ones (default pthread)\n"
      "  --user-agent S            default uvcrawl/" UVCRAWL_VERSION " (+url)\n"
      "  --robots on|off           obey robots.txt (default on)\n"
      "  --max-crawl-delay S       skip hosts asking a longer Crawl-delay [0-86400]\n"
      "                            (default 30)\n"
      "  --timeout S               whole-transfer timeout [0.001-86400] (default 30)\n"
      "  --connect-timeout S       [0.001-86400] (default 10)\n"
      "  --drain-timeout S         after a signal, wait this long for transfers [0-86400]\n"
      "                            (default 10)\n"
      "  --max-body BYTES          cut a body there, parse what arrived, and mark the\n"
      "                            record truncated (suffix K, M, G; default 10M)\n"
      "  --retries N               retries on timeouts, resets, 429 and 5xx [0-100]\n"
      "                            (default 2)\n"
      "  --max-redirects N         [0-100] (default 10)\n"
      "  --max-url-length N        for seeds and links [16-1048576] (default 2048)\n"
      "  --resolve HOST:PORT:ADDR  pin a name to an IP address; HOST may be *.suffix\n"
      "  --dns-server ADDR[:PORT]  loop engine: use this DNS server, not resolv.conf\n"
      "  -i, --input FILE          read seed URLs from FILE, one per line ('-': stdin)\n"
      "  -o, --output FILE         JSON Lines records (default stdout)\n"
      "  --stats FILE              final statistics as JSON\n"
      "  --trace FILE              Chrome trace-event JSON of every transfer's phases, the\n"
      "                            threads' work and counters (Perfetto, chrome://tracing)\n"
      "  --progress                live status line on stderr (when it is a terminal)\n"
      "  --warc PREFIX             archive every fetch (robots.txt and redirects too) as\n"
      "                            WARC/1.1 in PREFIX-00000.warc.gz, PREFIX-00001.warc.gz...\n"
      "                            (bodies of any type, raw, up to --max-body)\n"
      "  --warc-max-size BYTES     start a new WARC file past this size (default 1G)\n"
      "  --warc-dedup on|off       a payload archived before becomes a revisit record\n"
      "                            (default on)\n"
      "  --warc-cdx FILE           write a CDXJ index of the archive (pywb's format)\n"
      "  --record-headers          add Location, Content-Length, Last-Modified and ETag\n"
      "                            to each record (\"headers\":{...})\n"
      "  --state DIR               keep the crawl's state in DIR/crawl.db (SQLite): a\n"
      "                            crawl killed in any way resumes when run again with\n"
      "                            the same --state (seeds may then be left out)\n"
      "  --status                  with --state: print the state's counts and exit\n"
      "  --state-override          with --state: accept a scope, depth, allow, deny,\n"
      "                            robots, max-pages-per-host or seeds other than stored\n"
      "  --ca-cert FILE            trust the CAs of this PEM file (default the system's)\n"
      "  --insecure                do not verify TLS certificates or host names (the\n"
      "                            summary says so)\n"
      "  --http1.1, --http2        ask for this HTTP version (default what TLS's ALPN\n"
      "                            gives: HTTP/2 or 1.1; 1.1 in clear)\n"
      "  --header 'NAME: VALUE'    send this header with every request (repeatable)\n"
      "  --proxy URL               fetch through this proxy (http://, https://, socks5://)\n"
      "  --accept LIST, --reject LIST  comma-separated file extensions (pdf,jpg: a link\n"
      "                            is judged before it is queued; one with no extension\n"
      "                            passes) and Content-Types (text/html, image/*: a\n"
      "                            response is judged once its headers arrive, and its\n"
      "                            body is not read); repeatable\n"
      "  --sitemaps on|off         follow the Sitemap: lines of robots.txt (default on)\n"
      "  --sitemap URL             start from this sitemap (urlset or index, gzip'd or\n"
      "                            not); repeatable, instead of or beside seed URLs\n"
      "  --cluster URL             share the crawl with other agents through Redis:\n"
      "                            redis://HOST:PORT/NAME or unix:///PATH?name=NAME\n"
      "                            (loop engine; docs/cluster.md)\n"
      "  --agent K --agents N      this agent is K of N [0-1023]; agent K crawls the\n"
      "                            hosts a rendezvous hash of the host name gives it\n"
      "  --stop                    with --cluster: ask every agent to drain, and exit\n"
      "  --status                  with --cluster --agents N: print the cluster's totals\n"
      "  -q, --quiet               no summary on stderr\n"
      "  -v, --verbose             a line on stderr for each URL refused or failed, and why\n"
      "  -h, --help, -V, --version\n"
      "\n"
      "Exit: 0 done, 1 stopped by a fatal condition, 2 bad usage, 3 no seed could be\n"
      "fetched, 130 interrupted.\n",
      f);
}

#define ECHO_MAX 60 /* a value echoed in a message is cut to this many bytes */

/* `s` for a one-line message: itself, or its first ECHO_MAX bytes and
 * "...", a URL's password masked. */
static const char *echo(const char *s, char buf[ECHO_MAX + 4]) {
  size_t start, len;
  if (uc_url_password(s, &start, &len) && start <= ECHO_MAX) {
    snprintf(buf, ECHO_MAX + 4, "%.*s" UC_URL_PASSWORD_MASK "%s", (int)start, s, s + start + len);
    s = buf;
  }
  if (strlen(s) <= ECHO_MAX)
    return s;
  memmove(buf, s, ECHO_MAX); /* s may be buf */
  memcpy(buf + ECHO_MAX, "...", 4);
  return buf;
}

static void complain(const char *fmt, const char *a, const char *b) {
  char abuf[ECHO_MAX + 4], bbuf[ECHO_MAX + 4];
  fputs("uvcrawl: ", stderr);
  fprintf(stderr, fmt, echo(a, abuf), echo(b, bbuf));
  fputs(" (try --help)\n", stderr);
}

/* Numbers are plain decimal: no leading space, sign or hex, which strtoull
 * and strtod would take (" -1" wraps to 2^64-1, "0x10" is 16). */
static bool plain_decimal(const char *s, bool fraction) {
  if (!isdigit((unsigned char)*s) && !(fraction && *s == '.'))
    return false;
  for (; *s != '\0'; s++)
    if (*s == 'x' || *s == 'X' || isspace((unsigned char)*s))
      return false;
  return true;
}

/* A whole non-negative integer within [min, max]. */
static int parse_uint(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (!plain_decimal(s, false) || *end != '\0' || errno != 0 || v < min || v > max) {
    complain("bad number for %s: '%s'", opt, s);
    return -1;
  }
  *out = v;
  return 0;
}

/* A finite decimal within [min, max]. */
static int parse_double(const char *opt, const char *s, double min, double max, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (!plain_decimal(s, true) || *end != '\0' || errno != 0 || !isfinite(v) || v < min ||
      v > max) {
    complain("bad number for %s: '%s'", opt, s);
    return -1;
  }
  *out = v;
  return 0;
}

/* A byte count with an optional K/M/G (binary) suffix, optionally "iB". */
static int parse_bytes(const char *opt, const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  int shift = 0;
  if (*end == 'K' || *end == 'k')
    shift = 10, end++;
  else if (*end == 'M' || *end == 'm')
    shift = 20, end++;
  else if (*end == 'G' || *end == 'g')
    shift = 30, end++;
  if (shift != 0 && strcmp(end, "iB") == 0)
    end += 2;
  if (!plain_decimal(s, false) || *end != '\0' || errno != 0 || v == 0 ||
      v > (UINT64_MAX >> shift)) {
    complain("bad size for %s: '%s'", opt, s);
    return -1;
  }
  *out = (uint64_t)v << shift;
  return 0;
}

static int push_str(const char ***arr, size_t *n, const char *s) {
  const char **grown = realloc(*arr, (*n + 1) * sizeof **arr);
  if (grown == NULL)
    return -1;
  grown[(*n)++] = s;
  *arr = grown;
  return 0;
}

/* Normalize and keep a seed; returns 0, -1 for a bad URL (named on
 * stderr) or -2 when out of memory. */
static int add_seed(cli_options *o, const char *url, const char *where, long line) {
  char *norm = NULL;
  char why[96];
  size_t max = o->cfg.max_url_length;
  int rc = strlen(url) > max ? UC_ETOOLONG : uc_url_normalize(url, &norm);
  if (rc == 0 && strlen(norm) > max) { /* percent-encoding made it longer */
    free(norm);
    norm = NULL;
    rc = UC_ETOOLONG;
  }
  if (rc != 0) {
    /* A seed obeys the limit that links obey. */
    if (rc == UC_ETOOLONG)
      snprintf(why, sizeof why, "too long (over --max-url-length %zu)", max);
    else
      snprintf(why, sizeof why, "%s", uc_strerror(rc));
    if (where != NULL) {
      char buf[ECHO_MAX + 4];
      fprintf(stderr, "uvcrawl: %s:%ld: bad URL '%s': %s\n", where, line, echo(url, buf), why);
    } else {
      complain("bad URL '%s': %s", url, why);
    }
    return -1;
  }
  if (o->n_seeds == o->cap_seeds) {
    size_t cap = o->cap_seeds ? o->cap_seeds * 2 : 16;
    char **grown = realloc(o->seeds, cap * sizeof *grown);
    if (grown == NULL) {
      free(norm);
      fputs("uvcrawl: out of memory\n", stderr);
      return -2;
    }
    o->seeds = grown;
    o->cap_seeds = cap;
  }
  o->seeds[o->n_seeds++] = norm;
  return 0;
}

/* Seeds from a file: bad lines are reported with their number and skipped. */
static int read_seed_file(cli_options *o, const char *path) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
  if (f == NULL) {
    fprintf(stderr, "uvcrawl: cannot read %s: %s\n", path, strerror(errno));
    return -1;
  }
  char *line = NULL;
  size_t cap = 0;
  long lineno = 0;
  ssize_t len;
  int rc = 0;
  while ((len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    while (len > 0 && strchr(" \t\r\n", line[len - 1]) != NULL)
      line[--len] = '\0';
    char *s = line;
    if (lineno == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
      s += 3; /* a UTF-8 byte order mark, as editors on Windows write */
    s += strspn(s, " \t");
    if (*s == '\0' || *s == '#')
      continue;
    if (add_seed(o, s, path, lineno) == -2) {
      rc = -1;
      break;
    }
  }
  if (ferror(f)) {
    fprintf(stderr, "uvcrawl: cannot read %s: %s\n", path, strerror(errno));
    rc = -1;
  }
  free(line);
  if (f != stdin)
    fclose(f);
  return rc;
}

/* An IPv4 or IPv6 address (the latter bare or in brackets). */
static bool valid_address(const char *a) {
  unsigned char bin[16];
  char v6[64];
  size_t len = strlen(a);
  if (len > 2 && a[0] == '[' && a[len - 1] == ']' && len - 2 < sizeof v6) {
    snprintf(v6, sizeof v6, "%.*s", (int)(len - 2), a + 1);
    return inet_pton(AF_INET6, v6, bin) == 1;
  }
  return inet_pton(AF_INET, a, bin) == 1 || inet_pton(AF_INET6, a, bin) == 1;
}

/* HOST:PORT:ADDR with a non-empty host, a port 1..65535 and an address. */
static int valid_resolve(const char *s) {
  const char *c1 = strchr(s, ':');
  if (c1 == NULL || c1 == s || !isdigit((unsigned char)c1[1]))
    return 0;
  char *end;
  long port = strtol(c1 + 1, &end, 10);
  return *end == ':' && port > 0 && port < 65536 && valid_address(end + 1);
}

/* ADDR[:PORT]: an IPv4 address, or an IPv6 one (in brackets with a port). */
static int valid_dns_server(const char *s) {
  char addr[64];
  unsigned char bin[16];
  const char *port = NULL;
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (close == NULL || (size_t)(close - s - 1) >= sizeof addr)
      return 0;
    snprintf(addr, sizeof addr, "%.*s", (int)(close - s - 1), s + 1);
    port = close[1] == ':' ? close + 2 : close[1] == '\0' ? NULL : "";
  } else if (strchr(s, ':') != strrchr(s, ':')) {
    snprintf(addr, sizeof addr, "%s", s); /* bare IPv6, no port */
  } else {
    const char *colon = strchr(s, ':');
    size_t len = colon ? (size_t)(colon - s) : strlen(s);
    if (len >= sizeof addr)
      return 0;
    snprintf(addr, sizeof addr, "%.*s", (int)len, s);
    port = colon ? colon + 1 : NULL;
  }
  if (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1)
    return 0;
  if (port != NULL) {
    char *end;
    long n = strtol(port, &end, 10);
    if (*port == '\0' || *end != '\0' || n <= 0 || n > 65535)
      return 0;
  }
  return 1;
}

/* --accept/--reject: "pdf,.JPG,text/html" -> owned items "pdf", "JPG",
 * "text/html" (a leading dot dropped). An empty item, or a type without a
 * subtype, is a usage error. */
static int split_items(const char *name, const char *arg, char ***items, size_t *n) {
  for (const char *p = arg;;) {
    size_t len = strcspn(p, ",");
    const char *item = p[0] == '.' ? p + 1 : p;
    size_t ilen = len - (size_t)(item - p);
    const char *slash = memchr(item, '/', ilen);
    if (ilen == 0 || (slash != NULL && (slash == item || slash + 1 == item + ilen)) ||
        memchr(item, ' ', ilen) != NULL)
      return complain("bad value for %s: '%s' (extensions or types, comma-separated)", name,
                      arg), -1;
    char **grown = realloc(*items, (*n + 1) * sizeof **items);
    char *copy = strndup(item, ilen);
    if (grown != NULL)
      *items = grown;
    if (grown == NULL || copy == NULL) {
      free(copy);
      fputs("uvcrawl: out of memory\n", stderr);
      return -1;
    }
    (*items)[(*n)++] = copy;
    if (p[len] == '\0')
      return 0;
    p += len + 1;
  }
}

static int apply(cli_options *o, int opt, const char *arg, const char *name) {
  uc_config *cfg = &o->cfg;
  uint64_t u;
  switch (opt) {
  case OPT_ENGINE:
    if (strcmp(arg, "loop") == 0)
      cfg->engine = UC_ENGINE_LOOP;
    else if (strcmp(arg, "threads") == 0)
      cfg->engine = UC_ENGINE_THREADS;
    else
      return complain("bad value for %s: '%s' (loop or threads)", name, arg), -1;
    return 0;
  case 'c':
    if (parse_uint(name, arg, 1, 1000000, &u) != 0)
      return -1;
    cfg->concurrency = (unsigned)u;
    return 0;
  case 'd':
    if (parse_uint(name, arg, 0, INT_MAX, &u) != 0)
      return -1;
    cfg->depth = (int)u;
    return 0;
  case 'n':
    return parse_uint(name, arg, 1, UINT64_MAX, &cfg->max_pages);
  case OPT_MAX_PAGES_PER_HOST:
    return parse_uint(name, arg, 1, UINT64_MAX, &cfg->max_pages_per_host);
  case OPT_RATE:
    return parse_double(name, arg, 0, 1e9, &cfg->rate);
  case OPT_BURST:
    return parse_double(name, arg, 1, 1e9, &cfg->burst);
  case OPT_PER_HOST:
    if (parse_uint(name, arg, 1, 1000000, &u) != 0)
      return -1;
    cfg->per_host = (unsigned)u;
    return 0;
  case OPT_SCOPE:
    if (strcmp(arg, "host") == 0)
      cfg->scope = UC_SCOPE_HOST;
    else if (strcmp(arg, "domain") == 0)
      cfg->scope = UC_SCOPE_DOMAIN;
    else if (strcmp(arg, "any") == 0)
      cfg->scope = UC_SCOPE_ANY;
    else
      return complain("bad value for %s: '%s' (host, domain or any)", name, arg), -1;
    return 0;
  case OPT_ALLOW:
    return push_str(&o->allow, &o->n_allow, arg);
  case OPT_DENY:
    return push_str(&o->deny, &o->n_deny, arg);
  case OPT_PARSER:
    if (strcmp(arg, "gumbo") == 0)
      cfg->parser = UC_PARSER_GUMBO;
    else if (strcmp(arg, "libxml2") == 0)
      cfg->parser = UC_PARSER_LIBXML2;
    else
      return complain("bad value for %s: '%s' (gumbo or libxml2)", name, arg), -1;
    return 0;
  case OPT_PARSE_THREADS:
    if (parse_uint(name, arg, 0, 128, &u) != 0)
      return -1;
    cfg->parse_threads = (unsigned)u;
    o->parse_threads_given = true;
    return 0;
  case OPT_USER_AGENT:
    if (*arg == '\0' || strpbrk(arg, "\r\n") != NULL)
      return complain("bad value for %s: '%s'", name, arg), -1;
    cfg->user_agent = arg;
    return 0;
  case OPT_ROBOTS:
    if (strcmp(arg, "on") == 0)
      cfg->robots = true;
    else if (strcmp(arg, "off") == 0)
      cfg->robots = false;
    else
      return complain("bad value for %s: '%s' (on or off)", name, arg), -1;
    return 0;
  case OPT_MAX_CRAWL_DELAY:
    return parse_double(name, arg, 0, 86400, &cfg->max_crawl_delay_s);
  case OPT_TIMEOUT:
    return parse_double(name, arg, 0.001, 86400, &cfg->timeout_s);
  case OPT_CONNECT_TIMEOUT:
    return parse_double(name, arg, 0.001, 86400, &cfg->connect_timeout_s);
  case OPT_DRAIN_TIMEOUT:
    return parse_double(name, arg, 0, 86400, &cfg->drain_timeout_s);
  case OPT_MAX_BODY:
    return parse_bytes(name, arg, &cfg->max_body);
  case OPT_RETRIES:
    if (parse_uint(name, arg, 0, 100, &u) != 0)
      return -1;
    cfg->retries = (unsigned)u;
    return 0;
  case OPT_MAX_REDIRECTS:
    if (parse_uint(name, arg, 0, 100, &u) != 0)
      return -1;
    cfg->max_redirects = (unsigned)u;
    return 0;
  case OPT_MAX_URL_LENGTH:
    if (parse_uint(name, arg, 16, 1 << 20, &u) != 0)
      return -1;
    cfg->max_url_length = (size_t)u;
    return 0;
  case OPT_RESOLVE:
    if (!valid_resolve(arg))
      return complain("bad value for %s: '%s' (HOST:PORT:ADDR, ADDR an IP address)", name,
                      arg), -1;
    return push_str(&o->resolve, &o->n_resolve, arg);
  case OPT_DNS_SERVER:
    if (!valid_dns_server(arg))
      return complain("bad value for %s: '%s' (ADDR[:PORT])", name, arg), -1;
    cfg->dns_server = arg;
    return 0;
  case 'i':
    o->input_file = arg;
    return 0;
  case 'o':
    cfg->output = arg;
    return 0;
  case OPT_STATS:
    cfg->stats_path = arg;
    return 0;
  case OPT_TRACE:
    cfg->trace_path = arg;
    return 0;
  case OPT_PROGRESS:
    cfg->progress = true;
    return 0;
  case OPT_SEEN:
    if (strcmp(arg, "mutex") == 0)
      cfg->seen = UC_SEEN_MUTEX;
    else if (strcmp(arg, "lockfree") == 0)
      cfg->seen = UC_SEEN_LOCKFREE;
    else
      return complain("bad value for %s: '%s' (mutex or lockfree)", name, arg), -1;
    o->seen_given = true;
    return 0;
  case OPT_SYNC:
    if (strcmp(arg, "pthread") == 0)
      cfg->sync = UC_SYNC_PTHREAD;
    else if (strcmp(arg, "futex") == 0)
      cfg->sync = UC_SYNC_FUTEX;
    else
      return complain("bad value for %s: '%s' (pthread or futex)", name, arg), -1;
    o->sync_given = true;
    return 0;
  case 'q':
    cfg->quiet = true;
    return 0;
  case 'v':
    cfg->verbose = true;
    return 0;
  case OPT_RECORD_HEADERS:
    cfg->record_headers = true;
    return 0;
  case OPT_STATE:
    if (*arg == '\0')
      return complain("bad value for %s: '%s'", name, arg), -1;
    cfg->state_dir = arg;
    return 0;
  case OPT_STATUS:
    o->status = true;
    return 0;
  case OPT_CLUSTER: {
    char err[512];
    if (uc_cluster_parse_url(arg, &o->cluster, err, sizeof err) != 0)
      return complain("%s%s", err, ""), -1;
    cfg->cluster = arg;
    return 0;
  }
  case OPT_AGENT:
    if (parse_uint(name, arg, 0, 1023, &u) != 0)
      return -1;
    cfg->agent = (unsigned)u;
    o->agent_given = true;
    return 0;
  case OPT_AGENTS:
    if (parse_uint(name, arg, 1, 1024, &u) != 0)
      return -1;
    cfg->agents = (unsigned)u;
    return 0;
  case OPT_STOP:
    o->stop = true;
    return 0;
  case OPT_STATE_OVERRIDE:
    o->state_override = true;
    return 0;
  case OPT_CA_CERT:
    if (access(arg, R_OK) != 0)
      return complain("cannot read %s '%s'", name, arg), -1;
    cfg->ca_cert = arg;
    return 0;
  case OPT_INSECURE:
    cfg->insecure = true;
    return 0;
  case OPT_HTTP1_1:
    cfg->http_version = UC_HTTP_1_1;
    return 0;
  case OPT_HTTP2:
    cfg->http_version = UC_HTTP_2;
    return 0;
  case OPT_HEADER: {
    /* "Name: value" with a token for a name; no line breaks. */
    size_t nlen = strcspn(arg, ":");
    bool token = nlen > 0 && arg[nlen] == ':';
    for (size_t i = 0; token && i < nlen; i++)
      token = isgraph((unsigned char)arg[i]) && strchr("()<>@,;\\\"/[]?={}", arg[i]) == NULL;
    if (!token || strpbrk(arg, "\r\n") != NULL)
      return complain("bad value for %s: '%s' (NAME: VALUE)", name, arg), -1;
    return push_str(&o->headers, &o->n_headers, arg);
  }
  case OPT_ACCEPT:
    return split_items(name, arg, &o->accept, &o->n_accept);
  case OPT_REJECT:
    return split_items(name, arg, &o->reject, &o->n_reject);
  case OPT_SITEMAPS:
    if (strcmp(arg, "on") != 0 && strcmp(arg, "off") != 0)
      return complain("bad value for %s: '%s' (on or off)", name, arg), -1;
    cfg->sitemaps = strcmp(arg, "on") == 0;
    return 0;
  case OPT_SITEMAP: {
    char *norm = NULL;
    if (strlen(arg) > cfg->max_url_length || uc_url_normalize(arg, &norm) != 0)
      return complain("bad URL for %s: '%s'", name, arg), -1;
    char **grown = realloc(o->sitemaps, (o->n_sitemaps + 1) * sizeof *grown);
    if (grown == NULL) {
      free(norm);
      fputs("uvcrawl: out of memory\n", stderr);
      return -1;
    }
    o->sitemaps = grown;
    o->sitemaps[o->n_sitemaps++] = norm;
    return 0;
  }
  case OPT_PROXY:
    if (*arg == '\0' || strpbrk(arg, " \r\n") != NULL)
      return complain("bad value for %s: '%s' (a proxy URL)", name, arg), -1;
    cfg->proxy = arg;
    return 0;
  case OPT_WARC:
    if (*arg == '\0')
      return complain("bad value for %s: '%s'", name, arg), -1;
    cfg->warc_prefix = arg;
    return 0;
  case OPT_WARC_MAX_SIZE:
    return parse_bytes(name, arg, &cfg->warc_max_size);
  case OPT_WARC_DEDUP:
    if (strcmp(arg, "on") == 0)
      cfg->warc_dedup = true;
    else if (strcmp(arg, "off") == 0)
      cfg->warc_dedup = false;
    else
      return complain("bad value for %s: '%s' (on or off)", name, arg), -1;
    return 0;
  case OPT_WARC_CDX:
    if (*arg == '\0')
      return complain("bad value for %s: '%s'", name, arg), -1;
    cfg->warc_cdx = arg;
    return 0;
  default:
    return -1;
  }
}

/* Whether two outputs (NULL: not asked for; "-": stdout) are one file:
 * the same name, or the same existing regular file under two names. A
 * device such as /dev/null may take several. */
static bool same_output(const char *a, const char *b, bool a_default_stdout) {
  bool a_stdout = (a == NULL && a_default_stdout) || (a != NULL && strcmp(a, "-") == 0);
  if (b == NULL)
    return false;
  if (strcmp(b, "-") == 0)
    return a_stdout;
  if (a == NULL || a_stdout)
    return false;
  struct stat sa, sb;
  bool exist_a = stat(a, &sa) == 0, exist_b = stat(b, &sb) == 0;
  if (exist_a && exist_b)
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && S_ISREG(sa.st_mode);
  return !exist_a && !exist_b && strcmp(a, b) == 0;
}

/*
 * --parse-threads when it is not given: one pool thread per core this
 * process may run on, and none (parse on the loop thread) on one core.
 * Measured on 2 cores (docs/benchmarks.md, issue 13): the CPU-bound crawl
 * goes fastest with 2 pool threads, and a pool never slowed a crawl that
 * was not CPU-bound; on one core a pool only adds hand-offs.
 */
static unsigned default_parse_threads(void) {
  cpu_set_t set;
  long n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                         : sysconf(_SC_NPROCESSORS_ONLN);
  if (n <= 1)
    return 0;
  return n > 128 ? 128 : (unsigned)n;
}

/* Options that would be silently ignored, or outputs that would overwrite
 * each other: refused before any work. */
static int check_combination(const cli_options *o) {
  const uc_config *cfg = &o->cfg;
  if (cfg->engine == UC_ENGINE_THREADS && o->parse_threads_given)
    return complain("--parse-threads needs --engine loop%s%s", "", ""), -1;
  if (cfg->engine == UC_ENGINE_LOOP && o->seen_given)
    return complain("--seen needs --engine threads%s%s", "", ""), -1;
  if (cfg->engine == UC_ENGINE_LOOP && o->sync_given)
    return complain("--sync needs --engine threads%s%s", "", ""), -1;
  if (cfg->warc_cdx != NULL && cfg->warc_prefix == NULL)
    return complain("--warc-cdx needs --warc%s%s", "", ""), -1;
  if (cfg->cluster == NULL && (o->agent_given || cfg->agents > 0 || o->stop))
    return complain("%s needs --cluster URL%s",
                    o->stop ? "--stop" : o->agent_given ? "--agent" : "--agents", ""), -1;
  if (cfg->cluster != NULL && !o->stop && cfg->engine == UC_ENGINE_THREADS)
    return complain("--cluster needs --engine loop (the threads engine does not join a "
                    "cluster)%s%s", "", ""), -1;
  if (cfg->cluster != NULL && !o->stop && (cfg->agents == 0 || (!o->agent_given && !o->status)))
    return complain("--cluster needs --agent K and --agents N%s%s", "", ""), -1;
  if (cfg->cluster != NULL && cfg->agents > 0 && cfg->agent >= cfg->agents)
    return complain("--agent K must be below --agents N%s%s", "", ""), -1;
  const char *out[4] = {cfg->output, cfg->stats_path, cfg->trace_path, cfg->warc_cdx};
  const char *what[4] = {"--output", "--stats", "--trace", "--warc-cdx"};
  for (int i = 0; i < 4; i++)
    for (int j = i + 1; j < 4; j++)
      if (same_output(out[i], out[j], i == 0))
        return complain(strcmp(out[j], "-") == 0 ? "%s and %s both write to stdout"
                                                 : "%s and %s name the same file",
                        what[i], what[j]),
               -1;
  return 0;
}

cli_action cli_parse(cli_options *o, int argc, char **argv) {
  memset(o, 0, sizeof *o);
  uc_config_defaults(&o->cfg);
  opterr = 0;
  optind = 1;
  int opt, index;
  while ((opt = getopt_long(argc, argv, ":c:d:n:i:o:qvhV", long_options, &index)) != -1) {
    const char *bad = argv[optind - 1];
    if (opt == 'h')
      return CLI_HELP;
    if (opt == 'V')
      return CLI_VERSION;
    if (opt == '?') {
      complain("unknown option '%s'%s", bad, "");
      return CLI_USAGE_ERROR;
    }
    if (opt == ':') {
      complain("option '%s' needs a value%s", bad, "");
      return CLI_USAGE_ERROR;
    }
    /* Name the option as the user wrote it: "-c" or "--concurrency". */
    char name[64];
    if (opt >= 256 || strncmp(bad, "--", 2) == 0)
      snprintf(name, sizeof name, "--%s", long_options[index].name);
    else
      snprintf(name, sizeof name, "-%c", opt);
    if (apply(o, opt, optarg, name) != 0)
      return CLI_USAGE_ERROR;
  }
  if (check_combination(o) != 0)
    return CLI_USAGE_ERROR;
  if (o->stop)
    return CLI_CLUSTER_STOP;
  if (o->status && o->cfg.cluster != NULL)
    return CLI_CLUSTER_STATUS;
  if (o->cfg.engine == UC_ENGINE_LOOP && !o->parse_threads_given)
    o->cfg.parse_threads = default_parse_threads();
  if ((o->status || o->state_override) && o->cfg.state_dir == NULL) {
    complain("%s needs --state DIR%s", o->status ? "--status" : "--state-override", "");
    return CLI_USAGE_ERROR;
  }
  if (o->status)
    return CLI_STATUS;
  for (int i = optind; i < argc; i++)
    if (add_seed(o, argv[i], NULL, 0) != 0)
      return CLI_USAGE_ERROR;
  if (o->input_file != NULL && read_seed_file(o, o->input_file) != 0)
    return CLI_USAGE_ERROR;
  /* With --state the seeds may come from the state (checked once it is open). */
  /* A cluster agent may get all its work from the others. */
  if (o->n_seeds == 0 && o->n_sitemaps == 0 && o->cfg.state_dir == NULL &&
      o->cfg.cluster == NULL) {
    complain("no seed URL given%s%s", o->input_file ? " (no valid line in the input file)" : "",
             "");
    return CLI_USAGE_ERROR;
  }
  uc_config *cfg = &o->cfg;
  cfg->seeds = (const char *const *)o->seeds;
  cfg->n_seeds = o->n_seeds;
  cfg->allow = o->allow;
  cfg->n_allow = o->n_allow;
  cfg->deny = o->deny;
  cfg->n_deny = o->n_deny;
  cfg->resolve = o->resolve;
  cfg->n_resolve = o->n_resolve;
  cfg->headers = o->headers;
  cfg->n_headers = o->n_headers;
  cfg->accept = (const char *const *)o->accept;
  cfg->n_accept = o->n_accept;
  cfg->reject = (const char *const *)o->reject;
  cfg->n_reject = o->n_reject;
  cfg->sitemap_seeds = (const char *const *)o->sitemaps;
  cfg->n_sitemap_seeds = o->n_sitemaps;
  if (cfg->burst < 1)
    cfg->burst = 1;
  /* Compile the patterns once here, so a bad one fails before any output. */
  uc_policy *policy = NULL;
  char err[256];
  int rc = uc_policy_new(&policy, cfg, err, sizeof err);
  uc_policy_free(policy);
  if (rc != 0) {
    complain("%s%s", rc == UC_EINVAL ? err : uc_strerror(rc), "");
    return CLI_USAGE_ERROR;
  }
  return CLI_CRAWL;
}

void cli_options_free(cli_options *o) {
  for (size_t i = 0; i < o->n_seeds; i++)
    free(o->seeds[i]);
  free(o->seeds);
  free(o->allow);
  free(o->deny);
  free(o->resolve);
  free(o->headers);
  for (size_t i = 0; i < o->n_accept; i++)
    free(o->accept[i]);
  free(o->accept);
  for (size_t i = 0; i < o->n_reject; i++)
    free(o->reject[i]);
  free(o->reject);
  for (size_t i = 0; i < o->n_sitemaps; i++)
    free(o->sitemaps[i]);
  free(o->sitemaps);
  memset(o, 0, sizeof *o);
}
