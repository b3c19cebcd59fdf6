/* test_sink.c - unit tests for the sink set (sink.h), the JSON Lines sink,
 * and the WARC helpers: SURT keys, base32 digests and dates. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "sink_int.h"
#include "uvcrawl/error.h"
#include "uvcrawl/sink.h"

static void test_surt(void **state) {
  (void)state;
  static const struct {
    const char *url, *want;
  } cases[] = {
      {"http://www.Example.com:8080/a?b=1&a=2", "com,example:8080)/a?a=2&b=1"},
      {"http://h0001.test:35221/d3/p3.html", "test,h0001:35221)/d3/p3.html"},
      {"http://example.com/", "com,example)/"},
      {"http://example.com", "com,example)/"},
      {"http://example.com:80/x", "com,example)/x"},
      {"https://example.com:443/x", "com,example)/x"},
      {"https://example.com:80/x", "com,example:80)/x"},
      {"http://user:pw@Example.com/P?z#frag", "com,example)/p?z"},
      {"http://127.0.0.1:8080/", "1,0,0,127:8080)/"},
      {"http://a.b.c.example.org/x/y?q=1", "org,example,c,b,a)/x/y?q=1"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uc_buf b = UC_BUF_INIT;
    assert_int_equal(uc_surt(cases[i].url, &b), 0);
    assert_string_equal(b.data, cases[i].want);
    uc_buf_free(&b);
  }
  uc_buf b = UC_BUF_INIT;
  assert_int_equal(uc_surt("not a url", &b), UC_EBADURL);
  assert_int_equal(b.len, 0);
  uc_buf_free(&b);
}

static void test_base32(void **state) {
  (void)state;
  /* SHA-1 of "" and of "abc", and their base32 as warcio and wget write them. */
  static const struct {
    unsigned char digest[20];
    const char *want;
  } cases[] = {
      {{0xda, 0x39, 0xa3, 0xee, 0x5e, 0x6b, 0x4b, 0x0d, 0x32, 0x55,
        0xbf, 0xef, 0x95, 0x60, 0x18, 0x90, 0xaf, 0xd8, 0x07, 0x09},
       "3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"},
      {{0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
        0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d},
       "VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5"},
      {{0}, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char out[33];
    uc_base32_sha1(cases[i].digest, out);
    assert_string_equal(out, cases[i].want);
  }
}

static void test_dates(void **state) {
  (void)state;
  static const struct {
    int64_t ms;
    int cdx;
    const char *want;
  } cases[] = {
      {0, 0, "1970-01-01T00:00:00Z"},
      {0, 1, "19700101000000"},
      {1796614048999, 0, "2026-12-07T03:27:28Z"},
      {1796614048999, 1, "20261207032728"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char out[32];
    uc_warc_date(cases[i].ms, cases[i].cdx, out);
    assert_string_equal(out, cases[i].want);
  }
}

/* A sink that fails its n-th write with EIO/ENOSPC, counting calls. */
typedef struct fake {
  int writes, flushes, closes, fail_at;
  int *closed; /* set when closed (the state is freed then) */
} fake;

static int fake_write(void *s, const uc_sink_entry *e) {
  fake *f = s;
  (void)e;
  if (++f->writes == f->fail_at) {
    errno = ENOSPC;
    return UC_EIO;
  }
  return 0;
}
static int fake_flush(void *s) {
  ((fake *)s)->flushes++;
  return 0;
}
static int fake_close(void *s) {
  fake *f = s;
  (*f->closed)++;
  free(f);
  return 0;
}
static const char *fake_what(void *s) {
  (void)s;
  return "fake output";
}
static const uc_sink_ops fake_ops = {fake_write, fake_flush, fake_close, fake_what};

static void test_sinks_set(void **state) {
  (void)state;
  uc_sinks *s = NULL;
  assert_int_equal(uc_sinks_new(&s), 0);
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  assert_non_null(mem);
  assert_int_equal(uc_sink_jsonl_add(s, mem, "memory"), 0);
  int closed = 0;
  fake *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->fail_at = 2;
  f->closed = &closed;
  assert_int_equal(uc_sinks_add(s, &fake_ops, f), 0);

  uc_record rec = {.url = "http://a.test/", .status = 200, .links = -1, .new_links = -1,
                   .engine = "loop", .attempts = 1};
  uc_sink_entry with_record = {.record = &rec}, archive_only = {.record = NULL};
  assert_int_equal(uc_sinks_write(s, &with_record), 0);
  assert_int_equal(uc_sinks_failed(s, NULL), 0);
  /* An entry without a record goes to the archives only: no JSON line. */
  errno = 0;
  assert_int_equal(uc_sinks_write(s, &archive_only), UC_EIO);
  assert_int_equal(errno, ENOSPC);
  const char *what = NULL;
  assert_int_equal(uc_sinks_failed(s, &what), ENOSPC);
  assert_string_equal(what, "fake output");
  assert_int_equal(uc_sinks_flush(s, &what), 0);
  assert_null(what);
  assert_int_equal(f->flushes, 1);
  fflush(mem);
  assert_non_null(strstr(text, "\"url\":\"http://a.test/\""));
  assert_int_equal(strchr(text, '\n') - text + 1, (long)len); /* exactly one line */
  assert_int_equal(uc_sinks_close(s), 0);
  assert_int_equal(closed, 1);
  /* The failure outlives the state it came from. */
  assert_int_equal(uc_sinks_failed(s, &what), ENOSPC);
  assert_string_equal(what, "fake output");
  uc_sinks_free(s);
  assert_int_equal(closed, 1); /* closed once */
  fclose(mem);
  free(text);
}

static void test_jsonl_full(void **state) {
  (void)state;
  FILE *full = fopen("/dev/full", "w");
  if (full == NULL)
    skip();
  uc_sinks *s = NULL;
  assert_int_equal(uc_sinks_new(&s), 0);
  assert_int_equal(uc_sink_jsonl_add(s, full, "/dev/full"), 0);
  uc_record rec = {.url = "http://a.test/", .links = -1, .new_links = -1, .engine = "loop"};
  uc_sink_entry e = {.record = &rec};
  /* Records are gathered; the disk is met at the flush (the store's
   * writer flushes before each commit). */
  assert_int_equal(uc_sinks_write(s, &e), 0);
  const char *what = NULL;
  char msg[128];
  assert_int_equal(uc_sinks_flush_said(s, msg, sizeof msg), UC_EIO);
  assert_string_equal(msg, "cannot write records to /dev/full: No space left on device");
  assert_int_equal(uc_sinks_flush(s, &what), UC_EIO); /* and stays failed */
  assert_int_equal(errno, ENOSPC);
  assert_string_equal(what, "records to /dev/full");
  assert_int_equal(uc_sinks_write(s, &e), UC_EIO);
  assert_int_equal(uc_sinks_failed(s, &what), ENOSPC);
  uc_sinks_free(s);
  fclose(full);
}

/* A write that fails half-way (here at the file-size limit, as at a full
 * disk) is cut back: the file ends on its last complete record. */
static void test_jsonl_cut_back(void **state) {
  (void)state;
  char path[] = "/tmp/uvtest-jsonl-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  assert_non_null(f);
  fputs("{\"from\":\"an earlier run\"}\n", f); /* kept: written before */
  uc_sinks *s = NULL;
  assert_int_equal(uc_sinks_new(&s), 0);
  assert_int_equal(uc_sink_jsonl_add(s, f, path), 0);
  struct rlimit old, lim;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  lim = old;
  lim.rlim_cur = 100000; /* not a multiple of the line length */
  void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  uc_record rec = {.url = "http://a.test/a-path-that-makes-the-line-longer", .status = 200,
                   .links = -1, .new_links = -1, .engine = "loop", .attempts = 1};
  uc_sink_entry e = {.record = &rec};
  int rc = 0, n = 0;
  for (; n < 10000 && rc == 0; n++)
    rc = uc_sinks_write(s, &e);
  if (rc == 0)
    rc = uc_sinks_flush(s, NULL);
  int err = errno;
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, was);
  assert_int_equal(rc, UC_EIO);
  assert_int_equal(err, EFBIG);
  uc_sinks_free(s);
  fclose(f);
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0);
  assert_true(sb.st_size > 0 && sb.st_size < 100000);
  FILE *in = fopen(path, "r");
  assert_non_null(in);
  char *text = malloc((size_t)sb.st_size + 1);
  assert_non_null(text);
  assert_int_equal(fread(text, 1, (size_t)sb.st_size, in), (size_t)sb.st_size);
  fclose(in);
  assert_int_equal(text[sb.st_size - 1], '\n');
  assert_memory_equal(text, "{\"from\":\"an earlier run\"}\n", 26);
  free(text);
  unlink(path);
}

/* Complete gzip members in a file, and whether bytes are left over. */
static int count_members(const char *path, bool *left_over) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  static unsigned char data[1 << 22];
  size_t len = fread(data, 1, sizeof data, f);
  fclose(f);
  int members = 0;
  size_t at = 0;
  unsigned char out[65536];
  *left_over = false;
  while (at < len) {
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
    z.next_in = data + at;
    z.avail_in = (uInt)(len - at);
    int rc;
    do {
      z.next_out = out;
      z.avail_out = sizeof out;
      rc = inflate(&z, Z_NO_FLUSH);
    } while (rc == Z_OK);
    at = len - z.avail_in;
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
      *left_over = true;
      break;
    }
    members++;
  }
  return members;
}

typedef struct flusher {
  uc_sinks *sinks;
  atomic_bool stop;
  int flushes, failures;
} flusher;

/* The store's writer thread, as the engines set it up: flush before each
 * commit, while the crawl thread writes. */
static void *flush_main(void *arg) {
  flusher *fl = arg;
  while (!atomic_load(&fl->stop)) {
    fl->failures += uc_sinks_flush(fl->sinks, NULL) != 0;
    fl->flushes++;
  }
  return NULL;
}

static void test_warc_flush_during_writes(void **state) {
  (void)state;
  char dir[] = "/tmp/test_sink-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char prefix[64], path[96], cdx[96];
  snprintf(prefix, sizeof prefix, "%s/crawl", dir);
  snprintf(path, sizeof path, "%s-00000.warc.gz", prefix);
  snprintf(cdx, sizeof cdx, "%s/crawl.cdxj", dir);
  uc_sinks *s = NULL;
  char err[256];
  uc_warc_opts o = {.prefix = prefix, .cdx_path = cdx, .max_size = 1ull << 30, .dedup = true,
                    .software = "test_sink"};
  assert_int_equal(uc_sinks_new(&s), 0);
  assert_int_equal(uc_sink_warc_add(s, &o, err, sizeof err), 0);
  flusher fl = {.sinks = s};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, flush_main, &fl), 0);
  enum { EXCHANGES = 300 };
  const char *req = "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n";
  const char *resp = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n";
  char body[64], uri[64];
  for (int i = 0; i < EXCHANGES; i++) {
    /* Every third payload repeats: a revisit. */
    int n = snprintf(body, sizeof body, "<p>page %d</p>", i % 3 == 2 ? 0 : i);
    snprintf(uri, sizeof uri, "http://a.test/p%d", i);
    uc_exchange ex = {.target_uri = uri, .ip = "127.0.0.1", .wall_ms = 1796614048999,
                      .request = req, .request_len = strlen(req), .response = resp,
                      .response_len = strlen(resp), .payload = body, .payload_len = (size_t)n,
                      .status = 200, .content_type = "text/html"};
    uc_sink_entry e = {.exchange = &ex};
    assert_int_equal(uc_sinks_write(s, &e), 0);
  }
  /* A flush returns once everything written before it is in the file. */
  assert_int_equal(uc_sinks_flush(s, NULL), 0);
  bool left_over = true;
  assert_int_equal(count_members(path, &left_over), 1 + 2 * EXCHANGES);
  assert_false(left_over);
  atomic_store(&fl.stop, true);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_true(fl.flushes > 0);
  assert_int_equal(fl.failures, 0);
  assert_int_equal(uc_sinks_close(s), 0);
  uc_sinks_free(s);
  FILE *f = fopen(cdx, "r");
  assert_non_null(f);
  char line[1024];
  int lines = 0, revisits = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    lines++;
    revisits += strstr(line, "\"mime\":\"warc/revisit\"") != NULL;
  }
  fclose(f);
  assert_int_equal(lines, EXCHANGES);
  assert_int_equal(revisits, EXCHANGES / 3); /* each i % 3 == 2 repeats page 0 */
  unlink(path);
  unlink(cdx);
  rmdir(dir);
}

/* One exchange with this payload, written by a fresh sink on `prefix`. */
static void write_one(const char *prefix, const char *cdx, bool resume, const char *uri,
                      const char *payload, int64_t wall_ms) {
  uc_sinks *s = NULL;
  char err[256];
  uc_warc_opts o = {.prefix = prefix, .cdx_path = cdx, .max_size = 1ull << 30, .dedup = true,
                    .resume = resume, .software = "test_sink"};
  assert_int_equal(uc_sinks_new(&s), 0);
  assert_int_equal(uc_sink_warc_add(s, &o, err, sizeof err), 0);
  const char *req = "GET / HTTP/1.1\r\n\r\n", *resp = "HTTP/1.1 200 OK\r\n\r\n";
  uc_exchange ex = {.target_uri = uri, .ip = "", .wall_ms = wall_ms, .request = req,
                    .request_len = strlen(req), .response = resp, .response_len = strlen(resp),
                    .payload = payload, .payload_len = strlen(payload), .status = 200};
  uc_sink_entry e = {.exchange = &ex};
  assert_int_equal(uc_sinks_write(s, &e), 0);
  assert_int_equal(uc_sinks_close(s), 0);
  uc_sinks_free(s);
}

/* A resumed crawl (--state) goes on in the next free file, and a payload
 * archived by the run before is a revisit that refers to it (the index
 * says where). */
static void test_warc_resume(void **state) {
  (void)state;
  char dir[] = "/tmp/test_sink-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char prefix[64], cdx[96], path[96];
  snprintf(prefix, sizeof prefix, "%s/crawl", dir);
  snprintf(cdx, sizeof cdx, "%s/crawl.cdxj", dir);
  write_one(prefix, cdx, true, "http://a.test/first", "same bytes", 1796614048999);
  write_one(prefix, cdx, true, "http://a.test/second", "same bytes", 1796614060000);
  write_one(prefix, cdx, true, "http://a.test/third", "other bytes", 1796614070000);
  FILE *f = fopen(cdx, "r");
  assert_non_null(f);
  char line[3][1024];
  for (int i = 0; i < 3; i++)
    assert_non_null(fgets(line[i], sizeof line[i], f));
  fclose(f);
  assert_non_null(strstr(line[0], "\"filename\":\"crawl-00000.warc.gz\""));
  assert_non_null(strstr(line[1], "\"filename\":\"crawl-00001.warc.gz\""));
  assert_non_null(strstr(line[1], "\"mime\":\"warc/revisit\""));
  assert_null(strstr(line[2], "warc/revisit"));
  /* The revisit names the first response and its date. */
  snprintf(path, sizeof path, "%s-00001.warc.gz", prefix);
  gzFile gz = gzopen(path, "rb");
  assert_non_null(gz);
  static char text[65536];
  int n = gzread(gz, text, sizeof text - 1);
  gzclose(gz);
  assert_true(n > 0);
  text[n] = '\0';
  assert_non_null(strstr(text, "WARC-Refers-To-Target-URI: http://a.test/first\r\n"));
  assert_non_null(strstr(text, "WARC-Refers-To-Date: 2026-12-07T03:27:28Z\r\n"));
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s-%05d.warc.gz", prefix, i);
    unlink(path);
  }
  unlink(cdx);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_surt),       cmocka_unit_test(test_base32),
      cmocka_unit_test(test_dates),      cmocka_unit_test(test_sinks_set),
      cmocka_unit_test(test_jsonl_full), cmocka_unit_test(test_jsonl_cut_back),
      cmocka_unit_test(test_warc_flush_during_writes),
      cmocka_unit_test(test_warc_resume),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
