/*
 * options - argv to a uc_config, with one clear line and exit 2 for bad
 * input.
 */
#ifndef UVCRAWL_CLI_OPTIONS_H
#define UVCRAWL_CLI_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "uvcrawl/config.h"
#include "cluster.h"

/* What main() must do after parsing. */
typedef enum cli_action {
  CLI_CRAWL, CLI_HELP, CLI_VERSION, CLI_USAGE_ERROR,
  CLI_STATUS, /* --state DIR --status: print the state's counts */
  CLI_CLUSTER_STOP,   /* --cluster URL --stop: ask every agent to drain */
  CLI_CLUSTER_STATUS, /* --cluster URL --agents N --status: the cluster's totals */
} cli_action;

/* Storage behind the config's string arrays; freed with cli_options_free. */
typedef struct cli_options {
  uc_config cfg;
  char **seeds;
  size_t n_seeds, cap_seeds;
  const char **allow, **deny, **resolve;
  size_t n_allow, n_deny, n_resolve;
  const char **headers; /* --header values (borrowed from argv) */
  size_t n_headers;
  char **accept, **reject; /* --accept/--reject items, split at commas (owned) */
  char **sitemaps;         /* --sitemap URLs, normalized (owned) */
  size_t n_sitemaps;
  size_t n_accept, n_reject;
  const char *input_file;
  bool parse_threads_given, seen_given, sync_given; /* engine-specific options, checked after parsing */
  bool status, state_override;                      /* --status, --state-override */
  uc_cluster_addr cluster; /* --cluster, parsed (cfg.cluster is the text) */
  bool agent_given, stop;  /* --agent, --stop */
} cli_options;

/**
 * Parse argv into `o` (zeroed and defaulted first). On CLI_USAGE_ERROR one
 * line has been written to stderr. Seeds are validated; a bad line of an
 * input file is reported with its number and skipped.
 */
cli_action cli_parse(cli_options *o, int argc, char **argv);

/** Print --help text to `f`. */
void cli_usage(FILE *f);

/** Free what cli_parse allocated. */
void cli_options_free(cli_options *o);

#endif /* UVCRAWL_CLI_OPTIONS_H */
