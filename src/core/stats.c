/* stats.c - crawl counters as JSON (--stats) and as a human summary. */
#include "uvcrawl/stats.h"

#include <inttypes.h>
#include <math.h>

#include "uvcrawl/error.h"

static const char *const fail_names[UC_FAIL_COUNT_] = {
    [UC_FAIL_NONE] = NULL,
#define UC_FAIL_NAME_(name, str) [UC_FAIL_##name] = str,
    UC_FAIL_MAP(UC_FAIL_NAME_)
#undef UC_FAIL_NAME_
};

static const char *const skip_names[UC_SKIP_COUNT_] = {
#define UC_SKIP_NAME_(name, str) [UC_SKIP_##name] = str,
    UC_SKIP_MAP(UC_SKIP_NAME_)
#undef UC_SKIP_NAME_
};

const char *uc_fail_name(uc_fail f) {
  return (f > UC_FAIL_NONE && f < UC_FAIL_COUNT_) ? fail_names[f] : NULL;
}

const char *uc_skip_name(uc_skip s) { return (unsigned)s < UC_SKIP_COUNT_ ? skip_names[s] : "?"; }

const char *uc_end_name(uc_end e) {
  switch (e) {
  case UC_END_MAX_PAGES:
    return "max-pages";
  case UC_END_INTERRUPTED:
    return "interrupted";
  case UC_END_FATAL:
    return "fatal";
  default:
    return "done";
  }
}

static uint64_t total_failures(const uc_stats *s) {
  uint64_t n = 0;
  for (int i = 1; i < UC_FAIL_COUNT_; i++)
    n += s->failures[i];
  return n;
}

/* Note: keys are fixed identifiers, so they need no escaping; the engine
 * name is ours too. Values are numbers only. */
int uc_stats_format_json(uc_buf *out, const uc_stats *s, const char *engine) {
  size_t mark = out->len;
  double secs = s->elapsed_s > 0 ? s->elapsed_s : 0;
  double pps = secs > 0 ? (double)s->pages / secs : 0;
  int rc = uc_buf_printf(out,
      "{\"engine\":\"%s\",\"elapsed_s\":%.3f,\"pages\":%" PRIu64 ",\"pages_per_s\":%.1f,"
      "\"status\":{\"2xx\":%" PRIu64 ",\"3xx\":%" PRIu64 ",\"4xx\":%" PRIu64 ",\"5xx\":%" PRIu64 "},"
      "\"errors\":%" PRIu64 ",\"errors_by_kind\":{",
      engine, secs, s->pages, pps, s->status_2xx, s->status_3xx, s->status_4xx, s->status_5xx,
      total_failures(s));
  for (int i = 1; rc == 0 && i < UC_FAIL_COUNT_; i++)
    rc = uc_buf_printf(out, "%s\"%s\":%" PRIu64, i > 1 ? "," : "", fail_names[i], s->failures[i]);
  if (rc == 0)
    rc = uc_buf_puts(out, "},\"skipped\":{");
  for (int i = 0; rc == 0 && i < UC_SKIP_COUNT_; i++)
    rc = uc_buf_printf(out, "%s\"%s\":%" PRIu64, i > 0 ? "," : "", skip_names[i], s->skipped[i]);
  if (rc == 0)
    rc = uc_buf_printf(out,
        "},\"bytes\":%" PRIu64 ",\"hosts\":%" PRIu64 ",\"links_found\":%" PRIu64
        ",\"links_new\":%" PRIu64 ",\"parsed\":%" PRIu64 ",\"parse_bytes\":%" PRIu64
        ",\"parse_ms\":%.3f,\"robots_fetches\":%" PRIu64 ",\"retries\":%" PRIu64
        ",\"peak_inflight\":%" PRIu64 ",\"dns_queries\":%" PRIu64 ",\"dns_cache_hits\":%" PRIu64
        ",\"unfetched\":%" PRIu64 ",\"interrupted\":%s,\"threads_started\":%" PRIu64
        ",\"records\":%" PRIu64 ",\"html_pages\":%" PRIu64 ",\"requests\":%" PRIu64
        ",\"seeds_ok\":%" PRIu64 ",\"ended\":\"%s\",\"truncated\":%" PRIu64
        ",\"tls_handshakes\":%" PRIu64 ",\"tls_resumed\":%" PRIu64,
        s->bytes, s->hosts, s->links_found, s->links_new, s->parsed, s->parse_bytes,
        (double)s->parse_ns / 1e6, s->robots_fetches, s->retries, s->peak_inflight,
        s->dns_queries, s->dns_cache_hits, s->unfetched, s->interrupted ? "true" : "false",
        s->threads_started, s->pages, s->html_pages, s->requests, s->seeds_ok,
        uc_end_name(s->ended), s->truncated, s->tls_handshakes, s->tls_resumed);
  if (rc == 0 && s->cluster.agents > 0)
    rc = uc_buf_printf(out,
        ",\"cluster\":{\"agent\":%u,\"agents\":%u,\"links_out\":%" PRIu64
        ",\"links_in\":%" PRIu64 ",\"entries_out\":%" PRIu64 ",\"entries_in\":%" PRIu64
        ",\"redis_commands\":%" PRIu64 ",\"reconnects\":%" PRIu64 ",\"links_spilled\":%" PRIu64
        ",\"handover_cpu_ms\":%.3f}",
        s->cluster.agent, s->cluster.agents, s->cluster.links_out, s->cluster.links_in,
        s->cluster.entries_out, s->cluster.entries_in, s->cluster.commands,
        s->cluster.reconnects, s->cluster.spilled, (double)s->cluster.handover_ns / 1e6);
  if (rc == 0)
    rc = uc_buf_puts(out, "}\n");
  if (rc != 0) {
    out->len = mark;
    if (out->data != NULL)
      out->data[mark] = '\0';
  }
  return rc;
}

int uc_stats_print_summary(FILE *f, const uc_stats *s, const char *engine) {
  double secs = s->elapsed_s;
  uint64_t failed = total_failures(s);
  int n = fprintf(f,
      "uvcrawl (%s): %" PRIu64 " records in %.2f s (%.1f/s): %" PRIu64 " HTML pages, %" PRIu64
      " failed; %" PRIu64 " host%s, %.1f MB\n"
      "  %" PRIu64 " requests (robots.txt and retries included); status 2xx %" PRIu64
      ", 3xx %" PRIu64 ", 4xx %" PRIu64 ", 5xx %" PRIu64 "; peak in flight %" PRIu64 "\n",
      engine, s->pages, secs, secs > 0 ? (double)s->pages / secs : 0.0, s->html_pages, failed,
      s->hosts, s->hosts == 1 ? "" : "s", (double)s->bytes / 1e6, s->requests, s->status_2xx,
      s->status_3xx, s->status_4xx, s->status_5xx, s->peak_inflight);
  if (n >= 0 && failed > 0) {
    n = fprintf(f, "  errors:");
    for (int i = 1; n >= 0 && i < UC_FAIL_COUNT_; i++)
      if (s->failures[i] > 0)
        n = fprintf(f, " %s %" PRIu64, fail_names[i], s->failures[i]);
    if (n >= 0)
      n = fprintf(f, "\n");
  }
  /* A cluster agent's seeds may be fetched by others: not its to say. */
  const char *seeds = s->seeds_ok == 0 && s->cluster.agents == 0 ? "; no seed could be fetched" : "";
  if (n < 0)
    return UC_EIO;
  switch (s->ended) {
  case UC_END_INTERRUPTED:
    n = fprintf(f, "  interrupted (%s): %" PRIu64 " queued URLs left unfetched\n",
                s->interrupted == 2 ? "aborted" : "drained", s->unfetched);
    break;
  case UC_END_FATAL:
    n = fprintf(f, "  ended: a fatal condition (said above)\n");
    break;
  case UC_END_MAX_PAGES:
    n = fprintf(f, "  ended: --max-pages reached%s\n", seeds);
    break;
  default:
    n = fprintf(f, "  ended: nothing left to fetch%s\n", seeds);
    break;
  }
  return n < 0 ? UC_EIO : 0;
}
