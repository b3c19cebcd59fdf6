/*
 * fetch.c - one transfer on a worker's own curl easy handle (blocking
 * curl_easy_perform, no lock held), and the curl share handle that lets
 * all workers use one DNS cache and one TLS session cache.
 *
 * Note: connections are NOT shared. libcurl documents sharing its
 * connection cache (CURL_LOCK_DATA_CONNECT) between concurrent threads as
 * unsupported, and with 2,000 workers it double-freed a connection inside
 * curl_easy_perform (seen here under AddressSanitizer, libcurl 7.88.1).
 * Each worker keeps its own few connections instead (THR_WORKER_CONNS).
 *
 * The handle is configured by the same uc_transfer_setup as the loop
 * engine's transfers (src/fetch/transfer.c) and the result is collected
 * into the same uc_fetch_result fields, so both engines write the same
 * records.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "thr_int.h"
#include "uvcrawl/error.h"


/* ---- the share handle ------------------------------------------------- */

static void share_lock_cb(CURL *easy, curl_lock_data data, curl_lock_access access, void *userp) {
  thr_share *s = userp;
  assert(data >= 0 && data < CURL_LOCK_DATA_LAST);
  thr_lock_lock(&s->locks[data]);
}

static void share_unlock_cb(CURL *easy, curl_lock_data data, void *userp) {
  thr_share *s = userp;
  thr_lock_unlock(&s->locks[data]);
}

/* The checker's class of each share lock, by curl_lock_data (curl may
 * nest two kinds; one class each keeps that from looking recursive). */
static const char *share_lock_name(int kind) {
  static const char *const names[] = {"curl_share.none", "curl_share.share",
                                      "curl_share.cookie", "curl_share.dns",
                                      "curl_share.ssl_session", "curl_share.connect"};
  return kind < (int)(sizeof names / sizeof names[0]) ? names[kind] : "curl_share.other";
}

int thr_share_init(thr_share *s, uc_sync_kind sync) {
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    thr_lock_init(&s->locks[i], sync, share_lock_name(i));
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
    thr_lock_destroy(&s->locks[i]);
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

/* ---- one transfer ----------------------------------------------------- */

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

/* The shared options of one fetch, then this engine's own: the share
 * handle (DNS and TLS sessions), the abort check, and how many idle
 * connections the worker's handle may keep. */
static int configure(thr_worker *w, const uc_fetch *f) {
  const uc_config *cfg = w->eng->cfg;
  CURL *e = w->easy;
  int rc = uc_transfer_setup(&w->transfer, e, cfg, f, NULL);
  if (rc != 0)
    return rc;
  CURLcode cc = CURLE_OK;
  if (w->transfer.pin == NULL && cfg->dns_server != NULL)
    cc = curl_easy_setopt(e, CURLOPT_DNS_SERVERS, cfg->dns_server); /* checked at start */
  if (cc == CURLE_OK)
    cc = curl_easy_setopt(e, CURLOPT_SHARE, w->eng->share.sh);
  if (cc == CURLE_OK)
    cc = curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
  if (cc == CURLE_OK)
    cc = curl_easy_setopt(e, CURLOPT_XFERINFODATA, w);
  if (cc == CURLE_OK)
    cc = curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L); /* or xferinfo_cb is never called */
  if (cc == CURLE_OK)
    cc = curl_easy_setopt(e, CURLOPT_MAXCONNECTS, (long)THR_WORKER_CONNS);
  return uc_transfer_error(cc);
}

int thr_fetch(thr_worker *w, const thr_job *job, uc_fetch_result *r) {
  thr_fetch_release(w);
  int rc = configure(w, job->fetch);
  if (rc != 0) {
    uc_fetch_result_failed(r, UC_FAIL_OTHER, (double)(thr_now_ns() - job->dispatched_ns) / 1e6);
    return rc;
  }
  if (w->eng->trace != NULL)
    w->tr.fetch_start_ns = thr_now_ns();
  CURLcode code = curl_easy_perform(w->easy);
  if (w->eng->trace != NULL) {
    w->tr.curl_end_ns = thr_now_ns();
    uc_transfer_times(&w->transfer, &w->tr.curl);
  }
  uc_transfer_collect(&w->transfer, code, (double)(thr_now_ns() - job->dispatched_ns) / 1e6, r);
  return 0;
}

void thr_fetch_release(thr_worker *w) {
  uc_transfer_reset(&w->transfer, true); /* a small body buffer is reused */
}
