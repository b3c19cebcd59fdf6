/* main.c - testweb's command line: parse options, then serve or --expect. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "server.h"
#include "testweb.h"

enum {
  OPT_LISTEN = 256, OPT_PORT_FILE, OPT_SEED, OPT_HOSTS, OPT_PAGES, OPT_LINKS,
  OPT_PAGE_BYTES, OPT_CROSS, OPT_BROKEN, OPT_LATENCY, OPT_JITTER, OPT_LOG,
  OPT_EXPECT, OPT_EXPECT_SEED, OPT_EXPECT_SCOPE, OPT_PORT, OPT_ROBOTS,
  OPT_ROBOTS_STATUS, OPT_F5XX, OPT_FRESET, OPT_FSLOW, OPT_FHUGE,
  OPT_FREDIRECT, OPT_FWRONG, OPT_GZIP, OPT_SLOW_BPS, OPT_HUGE_BYTES,
  OPT_MAX_CONNS, OPT_HELP, OPT_SCHEME, OPT_LINK_PORT, OPT_LOCALHOST
};

static const struct option long_opts[] = {
  {"listen", required_argument, NULL, OPT_LISTEN},
  {"port-file", required_argument, NULL, OPT_PORT_FILE},
  {"seed", required_argument, NULL, OPT_SEED},
  {"hosts", required_argument, NULL, OPT_HOSTS},
  {"pages", required_argument, NULL, OPT_PAGES},
  {"links", required_argument, NULL, OPT_LINKS},
  {"page-bytes", required_argument, NULL, OPT_PAGE_BYTES},
  {"cross", required_argument, NULL, OPT_CROSS},
  {"broken", required_argument, NULL, OPT_BROKEN},
  {"latency", required_argument, NULL, OPT_LATENCY},
  {"jitter", required_argument, NULL, OPT_JITTER},
  {"log", required_argument, NULL, OPT_LOG},
  {"expect", required_argument, NULL, OPT_EXPECT},
  {"expect-seed", required_argument, NULL, OPT_EXPECT_SEED},
  {"expect-scope", required_argument, NULL, OPT_EXPECT_SCOPE},
  {"port", required_argument, NULL, OPT_PORT},
  {"robots", required_argument, NULL, OPT_ROBOTS},
  {"robots-status", required_argument, NULL, OPT_ROBOTS_STATUS},
  {"fault-5xx", required_argument, NULL, OPT_F5XX},
  {"fault-reset", required_argument, NULL, OPT_FRESET},
  {"fault-slow", required_argument, NULL, OPT_FSLOW},
  {"fault-huge", required_argument, NULL, OPT_FHUGE},
  {"fault-redirect", required_argument, NULL, OPT_FREDIRECT},
  {"fault-wrong-type", required_argument, NULL, OPT_FWRONG},
  {"gzip", no_argument, NULL, OPT_GZIP},
  {"slow-bps", required_argument, NULL, OPT_SLOW_BPS},
  {"huge-bytes", required_argument, NULL, OPT_HUGE_BYTES},
  {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
  {"help", no_argument, NULL, OPT_HELP},
  {"scheme", required_argument, NULL, OPT_SCHEME},
  {"link-port", required_argument, NULL, OPT_LINK_PORT},
  {"localhost", required_argument, NULL, OPT_LOCALHOST},
  {NULL, 0, NULL, 0},
};

static void usage(FILE *fp)
{
  fputs(
      "usage: testweb [options]\n"
      "  --listen ADDR:PORT     default 127.0.0.1:0 (0 = any free port; [::1]:0 for IPv6)\n"
      "  --port-file FILE       write the bound port to FILE once listening\n"
      "  --seed N --hosts H --pages P --links L   site shape (1, 10, 100, 20)\n"
      "  --page-bytes N         pad pages to about N bytes (2000)\n"
      "  --cross PCT --broken PCT   cross-host / 404 link shares (20, 2)\n"
      "  --latency MS --jitter MS   delay before each response\n"
      "  --log FILE             request log: arrival_us done_us host path "
      "status conn_id\n"
      "  --expect DEPTH         print URLs reachable within DEPTH (-1 = all)\n"
      "  --expect-seed URL      (repeatable) default http://h0001.test:PORT/\n"
      "  --expect-scope any|host   --port P   port to put in URLs\n"
      "  --robots FILE --robots-status N   (3xx: robots.txt redirects to /robots-moved.txt)\n"
      "  --fault-5xx --fault-reset --fault-slow --fault-huge --fault-redirect\n"
      "  --fault-wrong-type PCT   shares of misbehaving pages (0)\n"
      "  --gzip  --slow-bps N (2000)  --huge-bytes N (50MiB)  --max-conns N\n"
      "  --scheme http|https    scheme of absolute links and --expect URLs (http):\n"
      "                         https when a TLS proxy such as nginx is in front\n"
      "  --link-port N          port in absolute links and --expect URLs (default the\n"
      "                         listening one, or --port)\n"
      "  --localhost N          serve host N also under the name localhost (for a proxy\n"
      "                         that resolves names itself; default: 404)\n",
      fp);
}

/* Strict integer parse: the whole string, within [lo, hi]; a k/m/g suffix
 * (powers of 1024) when allow_suffix. Exits 2 with one line otherwise. */
static long long parse_int(const char *opt, const char *s, long long lo,
                           long long hi, int allow_suffix)
{
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (allow_suffix && end != s && *end && end[1] == '\0') {
    int shift = *end == 'k' || *end == 'K'   ? 10
                : *end == 'm' || *end == 'M' ? 20
                : *end == 'g' || *end == 'G' ? 30 : -1;
    if (shift > 0 && v >= 0 && v <= (hi >> shift)) {
      v <<= shift;
      end++;
    }
  }
  if (errno || end == s || *end || v < lo || v > hi) {
    fprintf(stderr, "testweb: bad value for --%s: '%s'\n", opt, s);
    exit(2);
  }
  return v;
}

/* Reads a whole file (for --robots); exits 2 if it cannot. */
static char *read_file(const char *path, size_t *len)
{
  FILE *fp = fopen(path, "rb");
  tw_buf b = {0};
  char chunk[4096];
  size_t n;
  if (fp == NULL) {
    fprintf(stderr, "testweb: cannot read %s: %s\n", path, strerror(errno));
    exit(2);
  }
  while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
    tw_buf_append(&b, chunk, n);
  fclose(fp);
  tw_buf_append(&b, "", 0);
  return tw_buf_steal(&b, len);
}

static void parse_listen(tw_opts *o, const char *s)
{
  const char *colon = strrchr(s, ':');
  if (colon == NULL || colon == s ||
      (size_t)(colon - s) >= sizeof(o->listen_ip)) {
    fprintf(stderr, "testweb: bad value for --listen: '%s'\n", s);
    exit(2);
  }
  size_t len = (size_t)(colon - s);
  if (len > 2 && s[0] == '[' && s[len - 1] == ']') { /* [::1]:PORT */
    s++;
    len -= 2;
  }
  memcpy(o->listen_ip, s, len);
  o->listen_ip[len] = '\0';
  o->listen_port = (int)parse_int("listen", colon + 1, 0, 65535, 0);
}

int main(int argc, char **argv)
{
  tw_opts o;
  memset(&o, 0, sizeof(o));
  snprintf(o.listen_ip, sizeof(o.listen_ip), "127.0.0.1");
  o.site.seed = 1;
  o.site.hosts = 10;
  o.site.pages = 100;
  o.site.links = 20;
  o.site.page_bytes = 2000;
  o.site.cross_pct = 20;
  o.site.broken_pct = 2;
  o.slow_bps = 2000;
  o.huge_bytes = 50ULL << 20;

  int expect = 0, expect_depth = 0, expect_port = 0, scope_host = 0;
  const char **seeds = calloc((size_t)argc + 1, sizeof(*seeds));
  int nseeds = 0;
  int c;
  if (seeds == NULL)
    return 1;
  while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
    switch (c) {
    case OPT_LISTEN: parse_listen(&o, optarg); break;
    case OPT_PORT_FILE: o.port_file = optarg; break;
    case OPT_SEED:
      o.site.seed = (uint64_t)parse_int("seed", optarg, 0, LLONG_MAX, 0);
      break;
    case OPT_HOSTS: o.site.hosts = (int)parse_int("hosts", optarg, 1, 9999, 0); break;
    case OPT_PAGES: o.site.pages = (int)parse_int("pages", optarg, 1, 10000000, 0); break;
    case OPT_LINKS: o.site.links = (int)parse_int("links", optarg, 0, 10000, 0); break;
    case OPT_PAGE_BYTES:
      o.site.page_bytes = (size_t)parse_int("page-bytes", optarg, 0, 1LL << 30, 1);
      break;
    case OPT_CROSS: o.site.cross_pct = (int)parse_int("cross", optarg, 0, 100, 0); break;
    case OPT_BROKEN: o.site.broken_pct = (int)parse_int("broken", optarg, 0, 100, 0); break;
    case OPT_LATENCY: o.latency_ms = (int)parse_int("latency", optarg, 0, 3600000, 0); break;
    case OPT_JITTER: o.jitter_ms = (int)parse_int("jitter", optarg, 0, 3600000, 0); break;
    case OPT_LOG: o.log_path = optarg; break;
    case OPT_EXPECT:
      expect = 1;
      expect_depth = (int)parse_int("expect", optarg, -1, INT_MAX, 0);
      break;
    case OPT_EXPECT_SEED: seeds[nseeds++] = optarg; break;
    case OPT_EXPECT_SCOPE:
      if (strcmp(optarg, "host") != 0 && strcmp(optarg, "any") != 0) {
        fprintf(stderr, "testweb: bad value for --expect-scope: '%s'\n", optarg);
        free(seeds);
        free(o.robots_body);
        return 2;
      }
      scope_host = strcmp(optarg, "host") == 0;
      break;
    case OPT_PORT: expect_port = (int)parse_int("port", optarg, 1, 65535, 0); break;
    case OPT_ROBOTS: o.robots_body = read_file(optarg, &o.robots_len); break;
    case OPT_ROBOTS_STATUS:
      o.robots_status = (int)parse_int("robots-status", optarg, 100, 599, 0);
      break;
    case OPT_F5XX: o.site.fault_pct[TW_FAULT_5XX] = (int)parse_int("fault-5xx", optarg, 0, 100, 0); break;
    case OPT_FRESET: o.site.fault_pct[TW_FAULT_RESET] = (int)parse_int("fault-reset", optarg, 0, 100, 0); break;
    case OPT_FSLOW: o.site.fault_pct[TW_FAULT_SLOW] = (int)parse_int("fault-slow", optarg, 0, 100, 0); break;
    case OPT_FHUGE: o.site.fault_pct[TW_FAULT_HUGE] = (int)parse_int("fault-huge", optarg, 0, 100, 0); break;
    case OPT_FREDIRECT: o.site.fault_pct[TW_FAULT_REDIRECT] = (int)parse_int("fault-redirect", optarg, 0, 100, 0); break;
    case OPT_FWRONG: o.site.fault_pct[TW_FAULT_WRONG_TYPE] = (int)parse_int("fault-wrong-type", optarg, 0, 100, 0); break;
    case OPT_GZIP: o.gzip = 1; break;
    case OPT_SLOW_BPS: o.slow_bps = (long)parse_int("slow-bps", optarg, 1, 1LL << 30, 1); break;
    case OPT_HUGE_BYTES:
      o.huge_bytes = (uint64_t)parse_int("huge-bytes", optarg, 0, 1LL << 50, 1);
      break;
    case OPT_MAX_CONNS: o.max_conns = (int)parse_int("max-conns", optarg, 0, INT_MAX, 0); break;
    case OPT_SCHEME:
      if (strcmp(optarg, "http") != 0 && strcmp(optarg, "https") != 0) {
        fprintf(stderr, "testweb: --scheme: http or https, not '%s'\n", optarg);
        free(seeds);
        free(o.robots_body);
        return 2;
      }
      o.site.https = strcmp(optarg, "https") == 0;
      break;
    case OPT_LOCALHOST: o.site.localhost = (int)parse_int("localhost", optarg, 1, 9999, 0); break;
    case OPT_LINK_PORT: o.link_port = (int)parse_int("link-port", optarg, 1, 65535, 0); break;
    case OPT_HELP: usage(stdout); free(seeds); free(o.robots_body); return 0;
    default: usage(stderr); free(seeds); free(o.robots_body); return 2;
    }
  }
  int rc = 2;
  if (optind < argc) {
    fprintf(stderr, "testweb: unexpected argument: '%s'\n", argv[optind]);
    goto out;
  }
  int fault_sum = 0;
  for (int f = 0; f < TW_FAULT_COUNT; f++)
    fault_sum += o.site.fault_pct[f];
  if (fault_sum > 100 || o.site.cross_pct + o.site.broken_pct > 100) {
    fprintf(stderr, "testweb: fault shares (or --cross + --broken) exceed 100%%\n");
    goto out;
  }

  if (expect) {
    int port = o.link_port ? o.link_port : expect_port ? expect_port : o.listen_port;
    char seed_buf[64];
    if (port == 0) {
      fprintf(stderr, "testweb: --expect needs --port (or --listen with a port)\n");
      goto out;
    }
    if (nseeds == 0) {
      tw_site_url(&o.site, 1, port, "/", seed_buf, sizeof(seed_buf));
      seeds[nseeds++] = seed_buf;
    }
    tw_expect_opts e = {port, expect_depth, seeds, nseeds, scope_host};
    rc = tw_expect_run(&o, &e, stdout);
    if (fflush(stdout) != 0)
      rc = 1;
  } else {
    rc = tw_server_run(&o);
  }
out:
  free(seeds);
  free(o.robots_body);
  return rc;
}
