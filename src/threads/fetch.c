/*
 * fetch.c - one transfer on a worker's own curl easy handle (blocking
 * curl_easy_perform, no lock held), and the curl share handle that lets
 * all workers use one connection pool, one DNS cache and one TLS session
 * cache.
 *
 * The handle is configured as the loop engine configures its transfers
 * (src/loop/xfer.c, begin_fetch) and the result is collected into the same
 * uc_fetch_result fields, so both engines write the same records.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "thr_int.h"
#include "uvcrawl/error.h"

#define BODY_KEEP (1u << 20) /* a worker keeps its body buffer up to this size */

/* ---- the share handle ------------------------------------------------- */

static void share_lock_cb(CURL *easy, curl_lock_data data, curl_lock_access access, void *userp) {
  thr_share *s = userp;
  assert(data >= 0 && data < CURL_LOCK_DATA_LAST);
  pthread_mutex_lock(&s->locks[data]);
}

static void share_unlock_cb(CURL *easy, curl_lock_data data, void *userp) {
  thr_share *s = userp;
  pthread_mutex_unlock(&s->locks[data]);
}

int thr_share_init(thr_share *s) {
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_init(&s->locks[i], NULL);
  s->inited = true;
  s->sh = curl_share_init();
  if (s->sh == NULL)
    return UC_ENOMEM;
  /* The lock callbacks first: curl needs them before sharing anything
   * between threads. */
  CURLSHcode rc = curl_share_setopt(s->sh, CURLSHOPT_LOCKFUNC, share_lock_cb);
  if (rc == CURLSHE_OK)
    rc = curl_share_setopt(s->sh, CURLSHOPT_UNLOCKFUNC, share_unlock_cb);
  if (rc == CURLSHE_OK)
    rc = curl_share_setopt(s->sh, CURLSHOPT_USERDATA, s);
  if (rc == CURLSHE_OK)
    rc = curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  if (rc == CURLSHE_OK)
    rc = curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  if (rc == CURLSHE_OK)
    rc = curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return rc == CURLSHE_OK ? 0 : UC_ENOMEM;
}

/* Every easy handle that used the share must be cleaned up first. */
void thr_share_cleanup(thr_share *s) {
  if (!s->inited)
    return;
  if (s->sh != NULL)
    curl_share_cleanup(s->sh);
  s->sh = NULL;
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_destroy(&s->locks[i]);
  s->inited = false;
}

/* ---- name resolution -------------------------------------------------- */

int thr_check_dns_server(const uc_config *cfg, char *err, size_t errlen) {
  if (cfg->dns_server == NULL)
    return 0;
  CURL *e = curl_easy_init();
  if (e == NULL)
    return UC_ENOMEM;
  CURLcode rc = curl_easy_setopt(e, CURLOPT_DNS_SERVERS, cfg->dns_server);
  curl_easy_cleanup(e);
  if (rc == CURLE_OK)
    return 0;
  if (rc == CURLE_NOT_BUILT_IN || rc == CURLE_UNKNOWN_OPTION)
    snprintf(err, errlen,
             "--dns-server needs --engine loop "
             "(this libcurl resolves names without c-ares)");
  else
    snprintf(err, errlen, "bad --dns-server '%s': %s", cfg->dns_server, curl_easy_strerror(rc));
  return UC_EINVAL;
}

/*
 * The --resolve pin for host:port as curl's CURLOPT_RESOLVE wants it,
 * "host:port:addr" (an IPv6 address in brackets), or false when none
 * matches. "*.suffix" matches any name ending in ".suffix". The options
 * parser has checked the pins' HOST:PORT:ADDR form.
 */
static bool pin_for(const uc_config *cfg, const char *host, int port, char *out, size_t outlen) {
  for (size_t i = 0; i < cfg->n_resolve; i++) {
    const char *pin = cfg->resolve[i];
    const char *c1 = strchr(pin, ':');
    const char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL || atoi(c1 + 1) != port)
      continue;
    size_t hlen = (size_t)(c1 - pin), len = strlen(host);
    bool match;
    if (hlen > 2 && pin[0] == '*' && pin[1] == '.')
      match = len > hlen - 1 && strncasecmp(host + len - (hlen - 1), pin + 1, hlen - 1) == 0;
    else
      match = len == hlen && strncasecmp(host, pin, hlen) == 0;
    if (!match)
      continue;
    const char *addr = c2 + 1;
    bool v6 = strchr(addr, ':') != NULL && addr[0] != '[';
    int n = snprintf(out, outlen, v6 ? "%s:%d:[%s]" : "%s:%d:%s", host, port, addr);
    return n > 0 && (size_t)n < outlen;
  }
  return false;
}

/* ---- one transfer ----------------------------------------------------- */

static bool may_be_html(const char *ct) {
  return ct == NULL || *ct == '\0' || strncasecmp(ct, "text/html", 9) == 0 ||
         strncasecmp(ct, "application/xhtml+xml", 21) == 0;
}

/* CURLOPT_WRITEFUNCTION: keep the body while it may be parsed, cut it at
 * --max-body. Returning less than n makes curl end the transfer. */
static size_t write_cb(char *data, size_t size, size_t n, void *userp) {
  thr_worker *w = userp;
  n *= size;
  if (w->bytes == 0 && w->body.len == 0) {
    const char *ct = NULL;
    curl_easy_getinfo(w->easy, CURLINFO_CONTENT_TYPE, &ct);
    w->keep_body = w->fetch->item.kind == UC_KIND_ROBOTS || may_be_html(ct);
  }
  if (w->bytes + n > w->eng->cfg->max_body) {
    w->too_big = true;
    return 0;
  }
  w->bytes += n;
  if (w->keep_body && uc_buf_append(&w->body, data, n) != 0)
    return 0;
  return n;
}

/* CURLOPT_XFERINFOFUNCTION: the second signal (or the drain timeout) cuts
 * the transfer; curl then ends it with CURLE_ABORTED_BY_CALLBACK. Called
 * often while data flows and about once a second while it does not. */
static int xferinfo_cb(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
  thr_worker *w = userp;
  /* relaxed: a stop request publishes no data; seeing it one call late
   * only delays the abort by one callback. */
  return atomic_load_explicit(&w->eng->phase, memory_order_relaxed) == THR_ABORTING;
}

/* Set every option of one fetch on a freshly reset handle. */
static bool configure(thr_worker *w, const uc_fetch *f) {
  const uc_config *cfg = w->eng->cfg;
  CURL *e = w->easy;
  char pin[sizeof f->host + 80];
  if (pin_for(cfg, f->host, f->port, pin, sizeof pin) &&
      (w->pin = curl_slist_append(NULL, pin)) == NULL)
    return false;
  bool robots = f->item.kind == UC_KIND_ROBOTS;
  curl_easy_setopt(e, CURLOPT_SHARE, w->eng->share.sh);
  curl_easy_setopt(e, CURLOPT_URL, f->item.url);
  if (w->pin != NULL)
    curl_easy_setopt(e, CURLOPT_RESOLVE, w->pin); /* no lookup for a pinned name */
  else if (cfg->dns_server != NULL)
    curl_easy_setopt(e, CURLOPT_DNS_SERVERS, cfg->dns_server); /* checked at start */
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, w);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, w);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L); /* or xferinfo_cb is never called */
  curl_easy_setopt(e, CURLOPT_USERAGENT, cfg->user_agent);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L); /* signals belong to the signal thread */
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(cfg->timeout_s * 1000));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(cfg->connect_timeout_s * 1000));
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                   (long)(cfg->timeout_s < 30 ? cfg->timeout_s + 1 : 30));
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_body);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  /* Pages: a redirect is a link, deduped and gated like one. robots.txt:
   * RFC 9309 asks crawlers to follow at least five redirects. */
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, robots ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
  /* The pool is shared: let it keep a connection for every worker (the
   * default keeps 5 per handle). */
  curl_easy_setopt(e, CURLOPT_MAXCONNECTS, (long)w->eng->pool_size);
  return true;
}

/* Collect what curl saw into the result the crawl reads. */
static void collect(thr_worker *w, const thr_job *job, CURLcode code, uc_fetch_result *r) {
  long status = 0;
  char *ct = NULL, *eff = NULL, *loc = NULL;
  curl_off_t retry_after = 0;
  curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(w->easy, CURLINFO_CONTENT_TYPE, &ct);
  curl_easy_getinfo(w->easy, CURLINFO_EFFECTIVE_URL, &eff);
  curl_easy_getinfo(w->easy, CURLINFO_REDIRECT_URL, &loc);
  curl_easy_getinfo(w->easy, CURLINFO_RETRY_AFTER, &retry_after);
  r->fail = w->too_big ? UC_FAIL_MAX_BODY : uc_fail_from_curl(code);
  r->status = (int)status;
  r->content_type = ct;
  r->final_url = eff;
  r->location = loc;
  r->retry_after_s = retry_after > 0 ? (double)retry_after : -1.0;
  r->body = w->body.data;
  r->body_len = w->body.len;
  r->bytes = w->bytes;
  if (r->fail == UC_FAIL_NONE && status == 0)
    r->fail = UC_FAIL_PROTOCOL;
}

void thr_fetch(thr_worker *w, const thr_job *job, uc_fetch_result *r) {
  memset(r, 0, sizeof *r);
  r->retry_after_s = -1.0;
  thr_fetch_release(w);
  w->fetch = job->fetch;
  curl_easy_reset(w->easy); /* keeps its connections and caches */
  if (!configure(w, job->fetch)) {
    r->fail = UC_FAIL_OTHER;
  } else {
    CURLcode code = curl_easy_perform(w->easy);
    collect(w, job, code, r);
  }
  r->fetch_ms = (double)(thr_now_ns() - job->dispatched_ns) / 1e6;
}

void thr_fetch_release(thr_worker *w) {
  curl_slist_free_all(w->pin);
  w->pin = NULL;
  if (w->body.cap > BODY_KEEP)
    uc_buf_free(&w->body); /* do not keep a 10 MiB page per idle worker */
  else
    uc_buf_reset(&w->body);
  w->bytes = 0;
  w->keep_body = false;
  w->too_big = false;
  w->fetch = NULL;
}
