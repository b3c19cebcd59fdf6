/* state.c - --state DIR from the command line: open the store, check that
 * this run continues the stored crawl, print --status, and open the
 * records for appending (see state.h). */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uvcrawl/buf.h"
#include "uvcrawl/error.h"
#include "uvcrawl/store_memory.h"
#include "uvcrawl/store_sqlite.h"

/* The options that change what the crawl means, as "name=value" lines. A
 * resumed crawl must have the same (or say --state-override). */
static int meaning_options(const uc_config *cfg, uc_buf *out) {
  static const char *const scopes[] = {"host", "domain", "any"};
  int rc = uc_buf_printf(out, "--scope=%s\n--depth=%d\n--robots=%s\n--max-pages-per-host=%" PRIu64
                              "\n",
                         scopes[cfg->scope], cfg->depth, cfg->robots ? "on" : "off",
                         cfg->max_pages_per_host);
  for (size_t i = 0; i < cfg->n_allow && rc == 0; i++)
    rc = uc_buf_printf(out, "--allow=%s\n", cfg->allow[i]);
  for (size_t i = 0; i < cfg->n_deny && rc == 0; i++)
    rc = uc_buf_printf(out, "--deny=%s\n", cfg->deny[i]);
  return rc;
}

/* The first option whose lines differ between two meaning_options texts,
 * as "--scope" (into name), or false if they are the same. */
static bool differing_option(const char *stored, const char *given, char *name, size_t len) {
  static const char *const opts[] = {"--scope=", "--depth=", "--robots=", "--max-pages-per-host=",
                                     "--allow=", "--deny="};
  for (size_t k = 0; k < sizeof opts / sizeof *opts; k++) {
    uc_buf a = UC_BUF_INIT, b = UC_BUF_INIT;
    const char *texts[2] = {stored, given};
    uc_buf *bufs[2] = {&a, &b};
    for (int t = 0; t < 2; t++)
      for (const char *p = texts[t]; *p != '\0';) {
        size_t n = strcspn(p, "\n");
        if (strncmp(p, opts[k], strlen(opts[k])) == 0)
          uc_buf_append(bufs[t], p, n + (p[n] == '\n'));
        p += n + (p[n] == '\n');
      }
    bool differ = (a.len != b.len) || (a.len > 0 && memcmp(a.data, b.data, a.len) != 0);
    uc_buf_free(&a);
    uc_buf_free(&b);
    if (differ) {
      snprintf(name, len, "%.*s", (int)strlen(opts[k]) - 1, opts[k]);
      return true;
    }
  }
  return false;
}

/* The seeds as one text, a line each, in the order given. */
static int seeds_text(const uc_config *cfg, uc_buf *out) {
  int rc = uc_buf_puts(out, "");
  for (size_t i = 0; i < cfg->n_seeds && rc == 0; i++)
    rc = uc_buf_printf(out, "%s\n", cfg->seeds[i]);
  return rc;
}

/* Whether every line of `sub` is a line of `all`. */
static bool lines_within(const char *sub, const char *all) {
  for (const char *p = sub; *p != '\0';) {
    size_t n = strcspn(p, "\n");
    bool found = false;
    for (const char *q = all; *q != '\0' && !found;) {
      size_t m = strcspn(q, "\n");
      found = m == n && strncmp(p, q, n) == 0;
      q += m + (q[m] == '\n');
    }
    if (!found)
      return false;
    p += n + (p[n] == '\n');
  }
  return true;
}

/* Stored seeds plus the given ones not among them. */
static int merge_seeds(const char *stored, const char *given, uc_buf *out) {
  int rc = uc_buf_puts(out, stored);
  for (const char *p = given; *p != '\0' && rc == 0;) {
    size_t n = strcspn(p, "\n");
    uc_buf one = UC_BUF_INIT;
    rc = uc_buf_append(&one, p, n);
    if (rc == 0 && !lines_within(one.data, stored))
      rc = uc_buf_printf(out, "%s\n", one.data);
    uc_buf_free(&one);
    p += n + (p[n] == '\n');
  }
  return rc;
}

/* Compare this run with the stored crawl, and store what it adds. */
static cli_state_verdict check_meta(uc_store *store, const uc_config *cfg, bool override,
                                    bool *finished) {
  char *stored_opts = NULL, *stored_seeds = NULL, *ended = NULL;
  uc_buf opts = UC_BUF_INIT, seeds = UC_BUF_INIT, merged = UC_BUF_INIT;
  cli_state_verdict v = CLI_STATE_FAIL;
  int rc = uc_store_get_meta(store, "options", &stored_opts);
  if (rc == 0)
    rc = uc_store_get_meta(store, "seeds", &stored_seeds);
  if (rc == 0)
    rc = uc_store_get_meta(store, "ended", &ended);
  if (rc == 0)
    rc = meaning_options(cfg, &opts);
  if (rc == 0)
    rc = seeds_text(cfg, &seeds);
  if (rc != 0) {
    fprintf(stderr, "uvcrawl: cannot read the crawl state in %s: %s\n", cfg->state_dir,
            uc_strerror(rc));
    goto out;
  }
  if (stored_seeds == NULL) { /* a new state */
    if (cfg->n_seeds == 0 && cfg->n_sitemap_seeds == 0 && cfg->cluster == NULL) {
      fprintf(stderr, "uvcrawl: no seed URL given, and %s holds no crawl to resume\n",
              cfg->state_dir);
      v = CLI_STATE_USAGE;
      goto out;
    }
    rc = uc_store_put_meta(store, "options", opts.data);
    if (rc == 0)
      rc = uc_store_put_meta(store, "seeds", seeds.data);
    if (rc == 0)
      rc = uc_store_put_meta(store, "created_by", "uvcrawl " UVCRAWL_VERSION);
    v = rc == 0 ? CLI_STATE_GO : CLI_STATE_FAIL;
    goto out;
  }
  char name[32];
  if (stored_opts != NULL && differing_option(stored_opts, opts.data, name, sizeof name) &&
      !override) {
    fprintf(stderr,
            "uvcrawl: %s differs from the crawl in %s; give the same %s to resume it, or "
            "--state-override to change it\n",
            name, cfg->state_dir, name);
    v = CLI_STATE_USAGE;
    goto out;
  }
  bool new_seeds = !lines_within(seeds.data, stored_seeds);
  if (new_seeds && !override) {
    fprintf(stderr,
            "uvcrawl: the seeds differ from those of the crawl in %s; leave them out to "
            "resume it, or add --state-override to add them\n",
            cfg->state_dir);
    v = CLI_STATE_USAGE;
    goto out;
  }
  rc = merge_seeds(stored_seeds, seeds.data, &merged);
  if (rc == 0)
    rc = uc_store_put_meta(store, "options", opts.data);
  if (rc == 0)
    rc = uc_store_put_meta(store, "seeds", merged.data);
  uc_store_counts counts;
  if (rc == 0)
    rc = uc_store_count(store, &counts);
  if (rc != 0)
    goto out;
  *finished = !new_seeds && ended != NULL && strcmp(ended, "done") == 0 &&
              counts.urls[UC_URL_QUEUED] + counts.urls[UC_URL_LEASED] == 0;
  if (*finished)
    fprintf(stderr,
            "uvcrawl: the crawl in %s is finished (%" PRIu64 " URLs done, %" PRIu64
            " failed); nothing to do\n",
            cfg->state_dir, counts.urls[UC_URL_DONE], counts.urls[UC_URL_FAILED]);
  v = CLI_STATE_GO;
out:
  free(stored_opts);
  free(stored_seeds);
  free(ended);
  uc_buf_free(&opts);
  uc_buf_free(&seeds);
  uc_buf_free(&merged);
  return v;
}

cli_state_verdict cli_state_open(const uc_config *cfg, bool override, uc_store **out,
                                 bool *finished) {
  *out = NULL;
  *finished = false;
  if (cfg->state_dir == NULL)
    return uc_store_memory_new(out) == 0 ? CLI_STATE_GO : CLI_STATE_FAIL;
  /* No seeds and no state: a usage error that must not leave a new state. */
  char path[4096];
  snprintf(path, sizeof path, "%s/crawl.db", cfg->state_dir);
  /* (A cluster agent may get all its work from the others.) */
  if (cfg->n_seeds == 0 && cfg->n_sitemap_seeds == 0 && cfg->cluster == NULL &&
      access(path, F_OK) != 0) {
    fprintf(stderr, "uvcrawl: no seed URL given, and %s holds no crawl to resume (try --help)\n",
            cfg->state_dir);
    return CLI_STATE_USAGE;
  }
  char err[512];
  int rc = uc_store_sqlite_open(out, cfg->state_dir, UC_STORE_SQLITE_CRAWL, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "uvcrawl: %s\n", rc == UC_EINVAL ? err : uc_strerror(rc));
    return rc == UC_EINVAL ? CLI_STATE_USAGE : CLI_STATE_FAIL;
  }
  cli_state_verdict v = check_meta(*out, cfg, override, finished);
  if (v != CLI_STATE_GO) {
    uc_store_free(*out);
    *out = NULL;
  }
  return v;
}

int cli_state_status(const char *dir, FILE *f) {
  uc_store *store = NULL;
  char err[512];
  int rc = uc_store_sqlite_open(&store, dir, UC_STORE_SQLITE_STATUS, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "uvcrawl: %s\n", rc == UC_EINVAL ? err : uc_strerror(rc));
    return 2;
  }
  uc_store_counts c;
  char *ended = NULL, *seeds = NULL;
  rc = uc_store_count(store, &c);
  if (rc == 0)
    rc = uc_store_get_meta(store, "ended", &ended);
  if (rc == 0)
    rc = uc_store_get_meta(store, "seeds", &seeds);
  if (rc != 0) {
    fprintf(stderr, "uvcrawl: cannot read the crawl state in %s: %s\n", dir, uc_strerror(rc));
    uc_store_free(store);
    return 2;
  }
  size_t n_seeds = 0;
  for (const char *p = seeds != NULL ? seeds : ""; *p != '\0'; p++)
    n_seeds += *p == '\n';
  fprintf(f,
          "queued %" PRIu64 "\nleased %" PRIu64 "\ndone %" PRIu64 "\nfailed %" PRIu64
          "\nhosts %" PRIu64 "\nseeds %zu\nlast run ended: %s\n",
          c.urls[UC_URL_QUEUED], c.urls[UC_URL_LEASED], c.urls[UC_URL_DONE],
          c.urls[UC_URL_FAILED], c.hosts, n_seeds, ended != NULL ? ended : "(still running, or killed)");
  free(ended);
  free(seeds);
  uc_store_free(store);
  return ferror(f) ? 1 : 0;
}

/*
 * Note: a kill can cut the last record line half-way. Appending after it
 * would glue the next record to the fragment, so the file is first cut
 * back to its last newline: every line stays valid JSON.
 */
FILE *cli_state_append(const char *path, int *err) {
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *err = errno;
    return NULL;
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    *err = errno;
    close(fd);
    return NULL;
  }
  off_t end = S_ISREG(sb.st_mode) ? sb.st_size : 0;
  char buf[4096];
  while (end > 0) {
    off_t from = end > (off_t)sizeof buf ? end - (off_t)sizeof buf : 0;
    ssize_t n = pread(fd, buf, (size_t)(end - from), from);
    if (n <= 0) {
      *err = n < 0 ? errno : EIO;
      close(fd);
      return NULL;
    }
    char *nl = memrchr(buf, '\n', (size_t)n);
    if (nl != NULL) {
      end = from + (nl - buf) + 1;
      break;
    }
    end = from;
  }
  if (S_ISREG(sb.st_mode) && end < sb.st_size && ftruncate(fd, end) != 0) {
    *err = errno;
    close(fd);
    return NULL;
  }
  FILE *f = fdopen(fd, "a");
  if (f == NULL) {
    *err = errno;
    close(fd);
  }
  return f;
}
