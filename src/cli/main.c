/* main.c - uvcrawl's entry point: options, outputs, the engine, the exit code. */
#include <curl/curl.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "loop.h"
#include "options.h"
#include "thr.h"
#include "uvcrawl/buf.h"
#include "uvcrawl/stats.h"

/* Open an output before the crawl, so a bad path fails before any work. */
static FILE *open_output(const char *path) {
  if (path == NULL || strcmp(path, "-") == 0)
    return stdout;
  FILE *f = fopen(path, "w");
  if (f == NULL)
    fprintf(stderr, "uvcrawl: cannot write %s: %s\n", path, strerror(errno));
  return f;
}

/* Close an output, reporting a failed flush (a full disk) once. */
static int close_output(FILE *f, const char *path) {
  int rc = f == stdout ? fflush(f) : fclose(f);
  if (rc != 0) {
    fprintf(stderr, "uvcrawl: cannot write %s: %s\n", path ? path : "stdout", strerror(errno));
    return -1;
  }
  return 0;
}

static int write_stats(FILE *f, const uc_stats *s, const char *engine) {
  uc_buf json = UC_BUF_INIT;
  int rc = uc_stats_format_json(&json, s, engine);
  if (rc == 0 && fwrite(json.data, 1, json.len, f) != json.len)
    rc = -1;
  uc_buf_free(&json);
  return rc;
}

static void print_version(void) {
  curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
  printf("uvcrawl %s (libcurl %s, %s, %s)\n", UVCRAWL_VERSION, cv->version, loop_versions(),
         "gumbo 0.10");
}

int main(int argc, char **argv) {
  cli_options opts;
  int code = 2;
  /* curl converts IDN host names to punycode from the locale's charset. */
  setlocale(LC_CTYPE, "C.UTF-8");
  switch (cli_parse(&opts, argc, argv)) {
  case CLI_HELP:
    cli_usage(stdout);
    code = 0;
    goto out;
  case CLI_VERSION:
    print_version();
    code = 0;
    goto out;
  case CLI_USAGE_ERROR:
    goto out;
  case CLI_CRAWL:
    break;
  }
  uc_config *cfg = &opts.cfg;
  if (getrandom(cfg->seen_key, sizeof cfg->seen_key, 0) != (ssize_t)sizeof cfg->seen_key)
    cfg->seen_key[0] = (uint64_t)(uintptr_t)&opts ^ 0x9e3779b97f4a7c15ull;

  FILE *records = open_output(cfg->output);
  FILE *stats_file = NULL;
  if (records == NULL)
    goto out;
  if (cfg->stats_path != NULL && (stats_file = open_output(cfg->stats_path)) == NULL) {
    close_output(records, cfg->output);
    goto out;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fputs("uvcrawl: cannot initialize libcurl\n", stderr);
    code = 1;
    goto out;
  }
  uc_stats stats;
  memset(&stats, 0, sizeof stats);
  const char *engine = cfg->engine == UC_ENGINE_THREADS ? "threads" : "loop";
  code = cfg->engine == UC_ENGINE_THREADS ? thr_run(cfg, records, &stats)
                                          : loop_run(cfg, records, &stats);
  if (close_output(records, cfg->output) != 0 && code == 0)
    code = 1;
  if (stats_file != NULL) {
    if ((write_stats(stats_file, &stats, engine) != 0 ||
         close_output(stats_file, cfg->stats_path) != 0) &&
        code == 0)
      code = 1;
  }
  if (!cfg->quiet && code != 2)
    uc_stats_print_summary(stderr, &stats, engine);
  curl_global_cleanup();
out:
  cli_options_free(&opts);
  return code;
}
