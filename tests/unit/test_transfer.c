/*
 * test_transfer.c - the engine support both engines share (src/fetch):
 * --resolve pins, CURLcode -> failure kind, option-setting results, and
 * one real transfer on loopback: a port with no listener must come back
 * as "refused" with no status, through uc_transfer_setup and
 * uc_transfer_collect exactly as the engines call them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transfer.h"
#include "uvcrawl/error.h"

static void test_pin(void **state) {
  (void)state;
  static const char *const pins[] = {"a.test:80:127.0.0.2", "*.w.test:8080:127.0.0.3",
                                     "v6.test:80:::1"};
  uc_config cfg;
  uc_config_defaults(&cfg);
  cfg.resolve = pins;
  cfg.n_resolve = 3;
  static const struct {
    const char *host;
    int port;
    bool match;
    const char *addr;
  } cases[] = {
      {"a.test", 80, true, "127.0.0.2"},   {"A.TEST", 80, true, "127.0.0.2"},
      {"a.test", 81, false, NULL},         {"b.a.test", 80, false, NULL},
      {"x.w.test", 8080, true, "127.0.0.3"}, {"y.x.w.test", 8080, true, "127.0.0.3"},
      {"w.test", 8080, false, NULL},       {"v6.test", 80, true, "[::1]"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char addr[UC_ADDR_MAX] = "";
    bool got = uc_transfer_pin(&cfg, cases[i].host, cases[i].port, addr);
    if (got != cases[i].match)
      fail_msg("%s:%d: match %d", cases[i].host, cases[i].port, got);
    if (got)
      assert_string_equal(addr, cases[i].addr);
  }
}

static void test_fail_kinds(void **state) {
  (void)state;
  static const struct {
    CURLcode code;
    uc_fail fail;
  } cases[] = {
      {CURLE_OK, UC_FAIL_NONE},
      {CURLE_COULDNT_RESOLVE_HOST, UC_FAIL_DNS},
      {CURLE_COULDNT_CONNECT, UC_FAIL_REFUSED},
      {CURLE_OPERATION_TIMEDOUT, UC_FAIL_TIMEOUT},
      {CURLE_RECV_ERROR, UC_FAIL_RESET},
      {CURLE_GOT_NOTHING, UC_FAIL_RESET},
      {CURLE_PARTIAL_FILE, UC_FAIL_RESET},
      {CURLE_PEER_FAILED_VERIFICATION, UC_FAIL_TLS},
      {CURLE_SSL_CONNECT_ERROR, UC_FAIL_TLS},
      {CURLE_WRITE_ERROR, UC_FAIL_OTHER}, /* write_cb cut a body: it says why itself */
      {CURLE_TOO_MANY_REDIRECTS, UC_FAIL_REDIRECTS},
      {CURLE_ABORTED_BY_CALLBACK, UC_FAIL_ABORTED},
      {CURLE_WEIRD_SERVER_REPLY, UC_FAIL_PROTOCOL},
      {CURLE_BAD_CONTENT_ENCODING, UC_FAIL_PROTOCOL},
      {CURLE_OUT_OF_MEMORY, UC_FAIL_OTHER},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    if (uc_transfer_fail(cases[i].code) != cases[i].fail)
      fail_msg("%s gives %d", curl_easy_strerror(cases[i].code),
               (int)uc_transfer_fail(cases[i].code));
  assert_int_equal(uc_transfer_error(CURLE_OK), 0);
  assert_int_equal(uc_transfer_error(CURLE_OUT_OF_MEMORY), UC_ENOMEM);
  assert_int_equal(uc_transfer_error(CURLE_UNKNOWN_OPTION), UC_ELIB);
}

/* Certificate failures told apart by OpenSSL's verify result (the numbers
 * are X509_V_ERR_*; 1 is what curl leaves when its host name check fails
 * before it reads the chain's result), and CURLINFO_HTTP_VERSION named. */
static void test_cert_kinds_and_versions(void **state) {
  (void)state;
  static const struct {
    long verify;
    uc_fail fail;
  } certs[] = {
      {1, UC_FAIL_CERT_WRONG_NAME},  {0, UC_FAIL_CERT_WRONG_NAME},
      {62, UC_FAIL_CERT_WRONG_NAME}, /* X509_V_ERR_HOSTNAME_MISMATCH */
      {10, UC_FAIL_CERT_EXPIRED},    {9, UC_FAIL_CERT_EXPIRED}, /* not yet valid */
      {18, UC_FAIL_CERT_UNKNOWN_CA}, /* self-signed */
      {19, UC_FAIL_CERT_UNKNOWN_CA}, /* self-signed CA in the chain */
      {20, UC_FAIL_CERT_UNKNOWN_CA}, /* issuer not found locally */
      {23, UC_FAIL_TLS},             /* revoked */
      {7, UC_FAIL_TLS},              /* bad signature */
  };
  for (size_t i = 0; i < sizeof certs / sizeof *certs; i++)
    if (uc_transfer_cert_fail(certs[i].verify) != certs[i].fail)
      fail_msg("verify result %ld gives %d", certs[i].verify,
               (int)uc_transfer_cert_fail(certs[i].verify));
  static const struct {
    long curl;
    const char *name;
  } versions[] = {
      {CURL_HTTP_VERSION_1_0, "1.0"}, {CURL_HTTP_VERSION_1_1, "1.1"},
      {CURL_HTTP_VERSION_2_0, "2"},   {CURL_HTTP_VERSION_3, "3"},
      {0, NULL},                      {999, NULL},
  };
  for (size_t i = 0; i < sizeof versions / sizeof *versions; i++) {
    const char *got = uc_transfer_http_version(versions[i].curl);
    if (versions[i].name == NULL ? got != NULL : got == NULL || strcmp(got, versions[i].name))
      fail_msg("HTTP version %ld gives %s", versions[i].curl, got ? got : "NULL");
  }
}

/* A loopback port that nothing listens on: bind one, take its number, close it. */
static int closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  close(fd);
  return ntohs(sa.sin_port);
}

static void test_refused_transfer(void **state) {
  (void)state;
  uc_config cfg;
  uc_config_defaults(&cfg);
  uc_fetch f;
  memset(&f, 0, sizeof f);
  f.port = closed_port();
  snprintf(f.host, sizeof f.host, "closed.test");
  char url[64];
  snprintf(url, sizeof url, "http://closed.test:%d/", f.port);
  f.item.url = url;
  CURL *easy = curl_easy_init();
  assert_non_null(easy);
  uc_transfer t;
  memset(&t, 0, sizeof t);
  /* The address is handed over as the loop engine's resolver would. */
  assert_int_equal(uc_transfer_setup(&t, easy, &cfg, &f, "127.0.0.1"), 0);
  assert_non_null(t.pin);
  CURLcode code = curl_easy_perform(easy);
  uc_fetch_result r;
  uc_transfer_collect(&t, code, 1.5, &r);
  assert_int_equal(r.fail, UC_FAIL_REFUSED);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.bytes, 0);
  assert_true(r.fetch_ms == 1.5);
  assert_true(r.retry_after_s < 0);
  uc_transfer_reset(&t, false);
  assert_null(t.pin);
  curl_easy_cleanup(easy);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pin),
      cmocka_unit_test(test_fail_kinds),
      cmocka_unit_test(test_cert_kinds_and_versions),
      cmocka_unit_test(test_refused_transfer),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
