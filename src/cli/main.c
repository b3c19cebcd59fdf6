/* main.c - uvcrawl's entry point: options, outputs, the engine, the exit code. */
#include <curl/curl.h>
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "options.h"
#include "state.h"
#include "thr.h"
#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"
#include "uvcrawl/run.h"
#include "uvcrawl/sitemap.h"
#include "uvcrawl/sink.h"
#include "uvcrawl/stats.h"
#include "uvcrawl/trace.h"

/*
 * Note: a Ctrl-C in the first moments, before an engine has its own signal
 * handling (libuv's uv_signal_t, or the threads engine's sigwait), would
 * otherwise kill the process with the default action: no records flushed,
 * no exit 130. This handler only counts; the engine acts on the count.
 */
static volatile sig_atomic_t early_signals;

static void count_early_signal(int sig) {
  (void)sig;
  early_signals++;
}

static unsigned early_signal_count(void) { return (unsigned)early_signals; }

static void catch_early_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = count_early_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

/* Every output's failure reads the same: what, where, and the errno. */
static void cannot_write(const char *what, const char *path, int err) {
  fprintf(stderr, "uvcrawl: cannot write %s to %s: %s\n", what,
          path != NULL && strcmp(path, "-") != 0 ? path : "stdout", strerror(err));
}

/* Open an output before the crawl, so a bad path fails before any work.
 * `append`: a resumed crawl's records (--state) go after the last run's. */
static FILE *open_output(const char *path, const char *what, bool append) {
  if (path == NULL || strcmp(path, "-") == 0)
    return stdout;
  int err = 0;
  FILE *f = append ? cli_state_append(path, &err) : fopen(path, "w");
  if (f == NULL)
    cannot_write(what, path, append ? err : errno);
  return f;
}

/* Close an output, reporting a failed flush (a full disk) once; quiet
 * when the caller has reported a failure of this output already. */
static int close_output(FILE *f, const char *path, const char *what, bool reported) {
  int rc = f == stdout ? fflush(f) : fclose(f);
  if (rc != 0 && !reported)
    cannot_write(what, path, errno);
  return rc != 0 ? -1 : 0;
}

/* The stats JSON; 0 or the errno of the failed write. */
static int write_stats(FILE *f, const uc_stats *s, const char *engine) {
  uc_buf json = UC_BUF_INIT;
  int err = uc_stats_format_json(&json, s, engine) != 0 ? ENOMEM : 0;
  if (err == 0 && (fwrite(json.data, 1, json.len, f) != json.len || fflush(f) != 0))
    err = errno != 0 ? errno : EIO;
  uc_buf_free(&json);
  return err;
}

/*
 * Raise the soft open-files limit to the hard one, and lower -c (saying so
 * once) when the transfers cannot fit: a loop transfer holds one socket, a
 * worker thread up to two (its connection and one in the shared pool).
 */
static void fit_open_files(uc_config *cfg) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return;
  if (rl.rlim_cur < rl.rlim_max) {
    rlim_t old = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
      rl.rlim_cur = old;
  }
  if (rl.rlim_cur == RLIM_INFINITY)
    return;
  cfg->max_files = rl.rlim_cur;
  uint64_t per = cfg->engine == UC_ENGINE_THREADS ? 2 : 1;
  if ((uint64_t)cfg->concurrency * per + UC_FD_RESERVE <= cfg->max_files)
    return;
  unsigned fit = cfg->max_files > UC_FD_RESERVE + per
                     ? (unsigned)((cfg->max_files - UC_FD_RESERVE) / per)
                     : 1;
  fprintf(stderr, "uvcrawl: lowering -c from %u to %u to fit the open-files limit (%llu)\n",
          cfg->concurrency, fit, (unsigned long long)cfg->max_files);
  cfg->concurrency = fit;
}

/* --trace: open the file and write the trace's head before the crawl, so
 * that a bad path fails with exit 2 before any work. Time 0 is now, on
 * the engines' clock (CLOCK_MONOTONIC: uv_hrtime and thr_now_ns). */
static int open_trace(const uc_config *cfg, uc_trace **trace, FILE **file) {
  *file = NULL;
  if (cfg->trace_path == NULL)
    return 0;
  if ((*file = open_output(cfg->trace_path, "the trace", false)) == NULL)
    return -1;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t origin = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  const char *engine = cfg->engine == UC_ENGINE_THREADS ? "threads" : "loop";
  if (uc_trace_new(trace, *file, engine, origin) != 0) {
    cannot_write("the trace", cfg->trace_path, errno != 0 ? errno : ENOMEM);
    close_output(*file, cfg->trace_path, "the trace", true);
    *file = NULL;
    return -1;
  }
  return 0;
}

/* Finish the trace (its tail makes it valid JSON) and close the file. */
static int close_trace(const uc_config *cfg, uc_trace *trace, FILE *file) {
  if (file == NULL)
    return 0;
  int rc = uc_trace_close(trace);
  if (rc != 0)
    cannot_write("the trace", cfg->trace_path, uc_trace_errno(trace));
  uc_trace_free(trace);
  return close_output(file, cfg->trace_path, "the trace", rc != 0) != 0 || rc != 0 ? -1 : 0;
}

static void print_version(void) {
  curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
  printf("uvcrawl %s (libcurl %s, %s, gumbo %s)\n", UVCRAWL_VERSION, cv->version,
         loop_versions(), UC_GUMBO_VERSION);
}

/* The outputs the crawl writes to: the JSON records, and with --warc the
 * archive (created here, so that an unwritable PREFIX fails before any
 * fetch, with exit 2). A resumed crawl (--state) starts a new WARC file. */
static int open_sinks(const uc_config *cfg, int argc, char **argv, FILE *records,
                      uc_sinks **out) {
  const char *name = cfg->output != NULL && strcmp(cfg->output, "-") != 0 ? cfg->output
                                                                         : "stdout";
  int rc = uc_sinks_new(out);
  if (rc == 0)
    rc = uc_sink_jsonl_add(*out, records, name);
  if (rc == 0 && cfg->warc_prefix != NULL) {
    uc_buf cmd = UC_BUF_INIT;
    for (int i = 0; rc == 0 && i < argc; i++) {
      rc = i > 0 ? uc_buf_append(&cmd, " ", 1) : 0;
      if (rc == 0)
        rc = uc_buf_puts(&cmd, argv[i]);
    }
    char err[512] = "";
    uc_warc_opts wo = {.prefix = cfg->warc_prefix, .cdx_path = cfg->warc_cdx,
                       .max_size = cfg->warc_max_size, .dedup = cfg->warc_dedup,
                       .resume = cfg->state_dir != NULL,
                       .software = "uvcrawl/" UVCRAWL_VERSION, .options = cmd.data};
    if (rc == 0 && (rc = uc_sink_warc_add(*out, &wo, err, sizeof err)) != 0 && err[0] != '\0')
      fprintf(stderr, "uvcrawl: %s\n", err);
    uc_buf_free(&cmd);
  }
  if (rc == UC_ENOMEM)
    fputs("uvcrawl: out of memory\n", stderr);
  if (rc != 0) {
    uc_sinks_free(*out);
    *out = NULL;
  }
  return rc;
}

/* --cluster ... --stop or --status: one synchronous exchange with Redis. */
static int code_of_cluster_admin(const cli_options *o, char *err, size_t errlen) {
  if (o->stop)
    return uc_cluster_request_stop(&o->cluster, err, errlen);
  return uc_cluster_print_status(&o->cluster, o->cfg.agents, stdout, err, errlen);
}

int main(int argc, char **argv) {
  catch_early_signals();
  /* Note: `uvcrawl ... | head -1` closes the records' pipe; SIGPIPE's
   * default action would kill us with the stats and trace half-written.
   * Ignored, the write fails with EPIPE instead, which stops the crawl as
   * a fatal condition: stats and trace are finished and the exit is 1. */
  signal(SIGPIPE, SIG_IGN);
  cli_options opts;
  uc_store *store = NULL; /* the crawl's state: memory, or --state DIR */
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
  case CLI_STATUS:
    code = cli_state_status(opts.cfg.state_dir, stdout);
    goto out;
  case CLI_CLUSTER_STOP:
  case CLI_CLUSTER_STATUS: {
    char err[512];
    int rc = code_of_cluster_admin(&opts, err, sizeof err);
    if (rc != 0)
      fprintf(stderr, "uvcrawl: %s\n", err);
    code = rc != 0 ? 2 : 0;
    goto out;
  }
  case CLI_CRAWL:
    break;
  }
  if (opts.cfg.cluster != NULL) { /* Redis unreachable at start: one line, exit 2 */
    char err[512];
    if (uc_cluster_probe(&opts.cluster, err, sizeof err) != 0) {
      fprintf(stderr, "uvcrawl: %s\n", err);
      goto out;
    }
  }
  uc_config *cfg = &opts.cfg;
  bool finished = false;
  switch (cli_state_open(cfg, opts.state_override, &store, &finished)) {
  case CLI_STATE_GO:
    break;
  case CLI_STATE_USAGE:
    goto out;
  case CLI_STATE_FAIL:
    code = 1;
    goto out;
  }
  if (finished) {
    code = 0;
    goto out;
  }
  if (getrandom(cfg->seen_key, sizeof cfg->seen_key, 0) != (ssize_t)sizeof cfg->seen_key)
    cfg->seen_key[0] = (uint64_t)(uintptr_t)&opts ^ 0x9e3779b97f4a7c15ull;

  fit_open_files(cfg);
  if (cfg->engine == UC_ENGINE_LOOP && cfg->parse_threads > 0) {
    /* libuv's pool reads its size from the environment once, at first
     * use; set it here, before any thread exists, not inside an engine. */
    char n[16];
    snprintf(n, sizeof n, "%u", cfg->parse_threads);
    setenv("UV_THREADPOOL_SIZE", n, 1);
  }
  FILE *records = open_output(cfg->output, "records", cfg->state_dir != NULL);
  FILE *stats_file = NULL;
  if (records == NULL)
    goto out;
  if (cfg->stats_path != NULL &&
      (stats_file = open_output(cfg->stats_path, "stats", false)) == NULL) {
    close_output(records, cfg->output, "records", false);
    goto out;
  }
  FILE *trace_file = NULL;
  uc_sinks *sinks = NULL;
  if (open_sinks(cfg, argc, argv, records, &sinks) != 0) {
    bool stats_stdout = stats_file == stdout;
    close_output(records, cfg->output, "records", false);
    if (stats_file != NULL)
      close_output(stats_file, cfg->stats_path, "stats", false);
    /* Bad usage writes nothing: the empty files just made go too. */
    if (records != stdout && cfg->state_dir == NULL)
      unlink(cfg->output);
    if (stats_file != NULL && !stats_stdout)
      unlink(cfg->stats_path);
    goto out;
  }
  uc_run_env env = {.sinks = sinks, .early_signals = early_signal_count, .store = store,
                    .cluster = cfg->cluster != NULL ? &opts.cluster : NULL};
  if (open_trace(cfg, &env.trace, &trace_file) != 0) {
    uc_sinks_free(sinks);
    close_output(records, cfg->output, "records", false);
    if (stats_file != NULL)
      close_output(stats_file, cfg->stats_path, "stats", false);
    goto out;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fputs("uvcrawl: cannot initialize libcurl\n", stderr);
    code = 1;
    goto out;
  }
  uc_sitemap_global_init(); /* libxml2, before any parse thread */
  uc_extract_global_init();
  uc_stats stats;
  memset(&stats, 0, sizeof stats);
  const char *engine = cfg->engine == UC_ENGINE_THREADS ? "threads" : "loop";
  code = cfg->engine == UC_ENGINE_THREADS ? thr_run(cfg, &env, &stats)
                                          : loop_run(cfg, &env, &stats);
  /* The WARC files end on complete records; the run has reported a write
   * that failed (code 1). */
  if (uc_sinks_close(sinks) != 0 && code != 1) {
    const char *what = NULL;
    int err = uc_sinks_failed(sinks, &what);
    char msg[512];
    uc_sinks_say(msg, sizeof msg, what, err);
    fprintf(stderr, "uvcrawl: %s\n", msg);
    code = 1;
  }
  uc_sinks_free(sinks);
  if (close_output(records, cfg->output, "records", code == 1) != 0 && code == 0)
    code = 1;
  if (close_trace(cfg, env.trace, trace_file) != 0 && code == 0)
    code = 1;
  if (stats_file != NULL) {
    int err = write_stats(stats_file, &stats, engine);
    if (err != 0)
      cannot_write("stats", cfg->stats_path, err);
    if ((close_output(stats_file, cfg->stats_path, "stats", err != 0) != 0 || err != 0) &&
        code == 0)
      code = 1;
  }
  if (!cfg->quiet && code != 2)
    uc_stats_print_summary(stderr, &stats, engine);
  if (cfg->insecure && code != 2) /* said even with --quiet: nothing was verified */
    fputs("uvcrawl: WARNING: --insecure: TLS certificates and host names were NOT verified\n",
          stderr);
  curl_global_cleanup();
out:
  uc_store_free(store); /* waits for its last commit and releases --state's lock */
  cli_options_free(&opts);
  return code;
}
