/* test_config.c - unit tests for uc_config_defaults() (config.h, config.c).
 *
 * The defaults are a promise to the open web (DESIGN.md, "Command line"):
 * the loop engine, -c 256, --rate 2 --burst 2, --per-host 2, robots on,
 * scope host, unlimited depth, --timeout 30, --max-body 10 MiB, --retries 2
 * and a "uvcrawl/VERSION (+URL)" user agent; plus the limits config.c sets
 * (connect and drain timeouts, redirects, URL length, crawl delay). Each is
 * checked by name, so a changed default fails with the field's name. The
 * struct is filled with 0xff bytes first, so every other field must have
 * been zeroed by the call, not by luck. (seen_key is left out: the CLI
 * fills it from getrandom.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "uvcrawl/config.h"

static uc_config defaults(void) {
  uc_config cfg;
  memset(&cfg, 0xff, sizeof cfg);
  uc_config_defaults(&cfg);
  return cfg;
}

static void test_numbers(void **state) {
  (void)state;
  const uc_config cfg = defaults();
  /* Every value here is exact in a double, so == is the right comparison. */
  const struct {
    const char *field;
    double got, want;
  } cases[] = {
      {"engine", cfg.engine, UC_ENGINE_LOOP},
      {"concurrency", cfg.concurrency, 256},
      {"depth", cfg.depth, -1},
      {"rate", cfg.rate, 2},
      {"burst", cfg.burst, 2},
      {"per_host", cfg.per_host, 2},
      {"scope", cfg.scope, UC_SCOPE_HOST},
      {"robots", cfg.robots, 1},
      {"timeout_s", cfg.timeout_s, 30},
      {"max_body", (double)cfg.max_body, 10.0 * 1024 * 1024},
      {"retries", cfg.retries, 2},
      {"connect_timeout_s", cfg.connect_timeout_s, 10},
      {"drain_timeout_s", cfg.drain_timeout_s, 10},
      {"max_redirects", cfg.max_redirects, 10},
      {"max_url_length", (double)cfg.max_url_length, 2048},
      {"max_crawl_delay_s", cfg.max_crawl_delay_s, 30},
      /* Zero: unlimited, none, off, or the first enum value. */
      {"max_pages", (double)cfg.max_pages, 0},
      {"max_pages_per_host", (double)cfg.max_pages_per_host, 0},
      {"n_allow", (double)cfg.n_allow, 0},
      {"n_deny", (double)cfg.n_deny, 0},
      {"parse_threads", cfg.parse_threads, 0},
      {"n_resolve", (double)cfg.n_resolve, 0},
      {"progress", cfg.progress, 0},
      {"quiet", cfg.quiet, 0},
      {"n_seeds", (double)cfg.n_seeds, 0},
      {"seen", cfg.seen, UC_SEEN_MUTEX},
      {"max_files", (double)cfg.max_files, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (cases[i].got != cases[i].want)
      fail_msg("%s: got %g, want %g", cases[i].field, cases[i].got, cases[i].want);
}

static void test_pointers_null(void **state) {
  (void)state;
  const uc_config cfg = defaults();
  const struct {
    const char *field;
    const void *got;
  } cases[] = {
      {"allow", cfg.allow},         {"deny", cfg.deny},
      {"resolve", cfg.resolve},     {"dns_server", cfg.dns_server},
      {"output", cfg.output},       {"stats_path", cfg.stats_path},
      {"trace_path", cfg.trace_path}, {"seeds", cfg.seeds},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (cases[i].got != NULL)
      fail_msg("%s: got %p, want NULL", cases[i].field, cases[i].got);
}

static void test_user_agent(void **state) {
  (void)state;
  const uc_config cfg = defaults();
  static const char prefix[] = "uvcrawl/" UVCRAWL_VERSION " (+";
  const char *ua = cfg.user_agent;
  assert_non_null(ua);
  if (strncmp(ua, prefix, sizeof prefix - 1) != 0)
    fail_msg("user_agent \"%s\" does not start with \"%s\"", ua, prefix);
  assert_true(strlen(ua) > sizeof prefix); /* a project URL follows */
  assert_int_equal(ua[strlen(ua) - 1], ')');
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_numbers),
      cmocka_unit_test(test_pointers_null),
      cmocka_unit_test(test_user_agent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
