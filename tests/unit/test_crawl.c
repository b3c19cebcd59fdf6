/*
 * test_crawl.c - the engine-independent crawl, driven by hand: no network,
 * time injected. Each test plays an engine: it takes fetches from
 * uc_crawl_next() and hands back made-up results, then reads the records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "uvcrawl/crawl.h"
#include "uvcrawl/error.h"

typedef struct harness {
  uc_config cfg;
  uc_crawl *crawl;
  FILE *out;
  uc_sinks *sinks; /* one JSON Lines sink writing to out */
  char *text; /* records written so far (open_memstream) */
  size_t len;
  uc_visited_fn visited; /* NULL: the crawl's own set */
  void *visited_ctx;
} harness;

/* The peers every crawl the harness makes is given (test_peers sets them). */
static uc_crawl_peers harness_peers;

static void start_with(harness *h, void (*tune)(uc_config *), uc_visited_fn visited,
                       void *visited_ctx) {
  memset(h, 0, sizeof *h);
  h->visited = visited;
  h->visited_ctx = visited_ctx;
  uc_config_defaults(&h->cfg);
  h->cfg.rate = 0; /* unlimited unless a test says otherwise */
  if (tune)
    tune(&h->cfg);
  h->out = open_memstream(&h->text, &h->len);
  assert_non_null(h->out);
  assert_int_equal(uc_sinks_new(&h->sinks), 0);
  assert_int_equal(uc_sink_jsonl_add(h->sinks, h->out, "memory"), 0);
  char err[128];
  uc_crawl_opts o = {.cfg = &h->cfg, .sinks = h->sinks, .engine = "loop", .now_ms = 0,
                     .visited = h->visited, .visited_ctx = h->visited_ctx,
                     .peers = harness_peers};
  assert_int_equal(uc_crawl_new(&h->crawl, &o, err, sizeof err), 0);
}

static void start(harness *h, void (*tune)(uc_config *)) { start_with(h, tune, NULL, NULL); }

static void finish(harness *h) {
  uc_crawl_free(h->crawl);
  uc_sinks_free(h->sinks);
  fclose(h->out);
  free(h->text);
}

static const char *records(harness *h) {
  assert_int_equal(uc_sinks_flush(h->sinks, NULL), 0); /* the sink's own buffer */
  fflush(h->out);
  return h->text ? h->text : "";
}

static size_t count_lines(const char *s, const char *needle) {
  size_t n = 0;
  for (const char *line = s; *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if (needle == NULL || memmem(line, len, needle, strlen(needle)) != NULL)
      n++;
    line += len + (end != NULL);
  }
  return n;
}

/* Take the next fetch, which must be there at `now`. */
static uc_fetch *next_now(harness *h, uint64_t now) {
  uc_fetch *f = NULL;
  uint64_t wake = 0;
  int rc = uc_crawl_next(h->crawl, now, &f, &wake);
  if (rc != 0)
    fail_msg("uc_crawl_next at %llu: %s (wake %llu)", (unsigned long long)now, uc_errname(rc),
             (unsigned long long)wake);
  return f;
}

static int next_rc(harness *h, uint64_t now, uint64_t *wake) {
  uc_fetch *f = NULL;
  uint64_t w = 0;
  int rc = uc_crawl_next(h->crawl, now, &f, &w);
  assert_null(f);
  if (wake)
    *wake = w;
  return rc;
}

/* Complete with a status and an HTML body whose links are parsed. */
static void reply(harness *h, uc_fetch *f, int status, const char *body, uint64_t now) {
  uc_fetch_result r = {.status = status, .content_type = "text/html", .body = body,
                       .body_len = body ? strlen(body) : 0, .bytes = body ? strlen(body) : 0,
                       .retry_after_s = -1};
  uc_parsed parsed;
  memset(&parsed, 0, sizeof parsed);
  uc_parsed *p = NULL;
  if (uc_crawl_wants_parse(h->crawl, f, &r)) {
    assert_int_equal(uc_crawl_parse(h->crawl, f, &r, &parsed), 0);
    p = &parsed;
  }
  assert_int_equal(uc_crawl_complete(h->crawl, f, &r, p, 0, now), 0);
  uc_parsed_free(&parsed);
}

static void reply_result(harness *h, uc_fetch *f, uc_fetch_result r, uint64_t now) {
  if (r.retry_after_s == 0)
    r.retry_after_s = -1;
  assert_int_equal(uc_crawl_complete(h->crawl, f, &r, NULL, 0, now), 0);
}

static void robots_off(uc_config *c) { c->robots = false; }

/* robots.txt comes first and holds the host; its rules then apply. */
static void test_robots_first_and_obeyed(void **state) {
  (void)state;
  harness h;
  start(&h, NULL);
  assert_int_equal(uc_crawl_seed(h.crawl, "http://a.test/", 0), 0);
  uc_fetch *robots = next_now(&h, 0);
  assert_string_equal(robots->item.url, "http://a.test/robots.txt");
  assert_int_equal(next_rc(&h, 0, NULL), UC_EEMPTY); /* held until robots.txt is known */
  uc_fetch_result r = {.status = 200, .body = "User-agent: *\nDisallow: /private\n",
                       .body_len = 33, .retry_after_s = -1};
  reply_result(&h, robots, r, 1);
  uc_fetch *home = next_now(&h, 1);
  assert_string_equal(home->item.url, "http://a.test/");
  reply(&h, home, 200, "<a href=/private/x>p</a><a href=/public>q</a>", 2);
  uc_fetch *pub = next_now(&h, 2); /* /private/x is refused, never handed out */
  assert_string_equal(pub->item.url, "http://a.test/public");
  reply(&h, pub, 200, "", 3);
  assert_true(uc_crawl_finished(h.crawl));
  const char *text = records(&h);
  assert_int_equal(count_lines(text, NULL), 3);
  assert_int_equal(count_lines(text, "\"error\":\"robots\""), 1);
  assert_int_equal(count_lines(text, "robots.txt"), 0); /* robots.txt is not a page record */
  assert_int_equal(uc_crawl_stats(h.crawl)->failures[UC_FAIL_ROBOTS], 1);
  finish(&h);
}

/* Crawl-delay lowers the host's rate: the next page waits for it. */
static void test_crawl_delay(void **state) {
  (void)state;
  harness h;
  start(&h, NULL);
  assert_int_equal(uc_crawl_seed(h.crawl, "http://a.test/", 0), 0);
  uc_fetch *robots = next_now(&h, 0);
  const char *body = "User-agent: uvcrawl\nCrawl-delay: 3\n";
  uc_fetch_result r = {.status = 200, .body = body, .body_len = strlen(body)};
  reply_result(&h, robots, r, 10);
  uc_fetch *home = next_now(&h, 10);
  reply(&h, home, 200, "<a href=/b>b</a>", 20);
  uint64_t wake = 0;
  assert_int_equal(next_rc(&h, 20, &wake), UC_EAGAIN);
  assert_true(wake >= 3010 && wake <= 3020);
  assert_int_equal(next_rc(&h, wake - 1, NULL), UC_EAGAIN);
  reply(&h, next_now(&h, wake), 200, "", wake);
  finish(&h);
}

static void no_retries(uc_config *c) { c->retries = 0; }

/* A robots.txt outcome decides the host: 404 allows, 503 forbids (once
 * retries are spent), a DNS failure makes every page a dns failure without
 * a request. */
static void test_robots_outcomes(void **state) {
  (void)state;
  static const struct {
    int status;
    uc_fail fail;
    const char *page_error; /* NULL: the page is fetched */
  } cases[] = {
      {404, UC_FAIL_NONE, NULL},
      {503, UC_FAIL_NONE, "\"error\":\"robots\""},
      {0, UC_FAIL_TIMEOUT, "\"error\":\"robots\""},
      {0, UC_FAIL_DNS, "\"error\":\"dns\""},
      {0, UC_FAIL_REFUSED, "\"error\":\"refused\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    harness h;
    start(&h, no_retries);
    assert_int_equal(uc_crawl_seed(h.crawl, "http://a.test/", 0), 0);
    uc_fetch_result r = {.status = cases[i].status, .fail = cases[i].fail, .retry_after_s = -1};
    reply_result(&h, next_now(&h, 0), r, 0);
    uc_fetch *f = NULL;
    uint64_t wake;
    int rc = uc_crawl_next(h.crawl, 1, &f, &wake);
    if (cases[i].page_error == NULL) {
      assert_int_equal(rc, 0);
      reply(&h, f, 200, "", 1);
      assert_int_equal(count_lines(records(&h), "\"status\":200"), 1);
    } else {
      assert_int_equal(rc, UC_EEMPTY);
      assert_true(uc_crawl_finished(h.crawl));
      assert_int_equal(count_lines(records(&h), cases[i].page_error), 1);
    }
    finish(&h);
  }
}

/* A 503 robots.txt is retried after a backoff while the pages wait; when
 * it then answers, the pages go. */
static void test_robots_retry(void **state) {
  (void)state;
  harness h;
  start(&h, NULL); /* --retries 2 by default */
  assert_int_equal(uc_crawl_seed(h.crawl, "http://a.test/", 0), 0);
  uc_fetch_result unavailable = {.status = 503, .retry_after_s = -1};
  reply_result(&h, next_now(&h, 0), unavailable, 0);
  uint64_t wake = 0;
  assert_int_equal(next_rc(&h, 0, &wake), UC_EAGAIN); /* the host is deferred */
  assert_true(wake >= 500 && wake <= 1500);
  uc_fetch *again = next_now(&h, wake);
  assert_string_equal(again->item.url, "http://a.test/robots.txt");
  assert_int_equal(again->item.attempts, 2);
  assert_int_equal(next_rc(&h, wake, NULL), UC_EEMPTY); /* held again */
  uc_fetch_result ok = {.status = 200, .body = "", .body_len = 0, .retry_after_s = -1};
  reply_result(&h, again, ok, wake);
  reply(&h, next_now(&h, wake), 200, "", wake);
  assert_int_equal(count_lines(records(&h), "\"status\":200"), 1);
  assert_int_equal(uc_crawl_stats(h.crawl)->robots_fetches, 2);
  finish(&h);
}

/* A day later, robots.txt is fetched again before the next page, and the
 * new rules apply (RFC 9309 2.4). */
static void test_robots_refetched_after_a_day(void **state) {
  (void)state;
  harness h;
  start(&h, NULL);
  const uint64_t day = 24ull * 3600 * 1000;
  assert_int_equal(uc_crawl_seed(h.crawl, "http://a.test/", 0), 0);
  uc_fetch_result allow = {.status = 404, .retry_after_s = -1};
  reply_result(&h, next_now(&h, 0), allow, 0);
  reply(&h, next_now(&h, 1), 200, "<a href=/late>x</a>", 1);
  uc_fetch *again = next_now(&h, day + 5);
  assert_string_equal(again->item.url, "http://a.test/robots.txt");
  const char *deny = "User-agent: *\nDisallow: /late\n";
  uc_fetch_result rules = {.status = 200, .body = deny, .body_len = strlen(deny),
                           .retry_after_s = -1};
  reply_result(&h, again, rules, day + 6);
  assert_int_equal(next_rc(&h, day + 6, NULL), UC_EEMPTY); /* /late refused, not handed out */
  assert_true(uc_crawl_finished(h.crawl));
  assert_int_equal(count_lines(records(&h), "\"error\":\"robots\""), 1);
  assert_int_equal(uc_crawl_stats(h.crawl)->robots_fetches, 2);
  finish(&h);
}

/* Links and redirect targets are deduped; a page is never handed out twice. */
static void test_dedup_and_redirects(void **state) {
  (void)state;
  harness h;
  start(&h, robots_off);
  assert_int_equal(uc_crawl_seed(h.crawl, "http://a.test/", 0), 0);
  assert_int_equal(uc_crawl_seed(h.crawl, "HTTP://A.TEST:80/#x", 0), 0); /* same URL */
  uc_fetch *home = next_now(&h, 0);
  reply(&h, home, 200, "<a href=/x>1</a><a href=/x#frag>2</a><a href=/old>3</a>", 1);
  uc_fetch *a = next_now(&h, 1), *b = next_now(&h, 1);
  assert_int_equal(next_rc(&h, 1, NULL), UC_EEMPTY);
  uc_fetch *old = strstr(a->item.url, "old") ? a : b, *x = old == a ? b : a;
  uc_fetch_result moved = {.status = 301, .location = "http://a.test/x"};
  reply_result(&h, old, moved, 2); /* target already seen: not queued again */
  assert_int_equal(next_rc(&h, 2, NULL), UC_EEMPTY);
  uc_fetch_result moved2 = {.status = 302, .location = "/new"};
  reply_result(&h, x, moved2, 3); /* a new target is queued at the same depth */
  uc_fetch *n = next_now(&h, 3);
  assert_string_equal(n->item.url, "http://a.test/new");
  assert_int_equal(n->item.depth, 1);
  assert_string_equal(n->item.parent, "http://a.test/x");
  reply(&h, n, 200, "", 4);
  assert_true(uc_crawl_finished(h.crawl));
  const char *text = records(&h);
  assert_int_equal(count_lines(text, NULL), 4);
  assert_int_equal(count_lines(text, "\"final_url\":\"http://a.test/new\""), 1);
  finish(&h);
}

static void depth_one(uc_config *c) {
  c->robots = false;
  c->depth = 1;
}

/* With --depth the crawl goes level by level, so a URL gets its shortest
 * depth even when a deeper page is parsed before a shallower one. */
static void test_depth_levels(void **state) {
  (void)state;
  harness h;
  start(&h, depth_one);
  assert_int_equal(uc_crawl_seed(h.crawl, "http://a.test/", 0), 0);
  assert_int_equal(uc_crawl_seed(h.crawl, "http://b.test/", 0), 0);
  uc_fetch *a = next_now(&h, 0), *b = next_now(&h, 0);
  if (strstr(a->item.url, "b.test")) {
    uc_fetch *t = a;
    a = b;
    b = t;
  }
  reply(&h, a, 200, "<a href=/1>1</a>", 1);
  /* a's link waits for level 1: b (level 0) is still in flight. */
  assert_int_equal(next_rc(&h, 1, NULL), UC_EEMPTY);
  reply(&h, b, 200, "<a href=http://a.test/1>x</a><a href=/2>2</a>", 2);
  uc_fetch *l1 = next_now(&h, 2), *l2 = next_now(&h, 2);
  assert_int_equal(l1->item.depth, 1);
  assert_int_equal(l2->item.depth, 1);
  uc_fetch_result page = {.status = 200, .content_type = "text/html", .body = "<a href=/d2>",
                          .body_len = 12};
  assert_false(uc_crawl_wants_parse(h.crawl, l1, &page)); /* depth 1 == --depth */
  reply(&h, l1, 200, NULL, 3);
  reply(&h, l2, 200, NULL, 3);
  assert_true(uc_crawl_finished(h.crawl));
  assert_int_equal(count_lines(records(&h), NULL), 4);
  finish(&h);
}

static void retries_two(uc_config *c) {
  c->robots = false;
  c->retries = 2;
}

/* 5xx is retried after a backoff, up to --retries; the record counts the
 * attempts. Retry-After is honoured. */
static void test_retries(void **state) {
  (void)state;
  harness h;
  start(&h, retries_two);
  assert_int_equal(uc_crawl_seed(h.crawl, "http://a.test/", 0), 0);
  uint64_t now = 0, wake = 0;
  uc_fetch *f = next_now(&h, now);
  reply(&h, f, 503, NULL, now);
  assert_int_equal(next_rc(&h, now, &wake), UC_EAGAIN);
  assert_true(wake >= 500 && wake <= 1500); /* 1 s +- 50% */
  f = next_now(&h, now = wake);
  assert_int_equal(f->item.attempts, 2);
  uc_fetch_result limited = {.status = 429, .retry_after_s = 7};
  reply_result(&h, f, limited, now);
  assert_int_equal(next_rc(&h, now, &wake), UC_EAGAIN);
  assert_int_equal(wake, now + 7000);
  f = next_now(&h, now = wake);
  assert_int_equal(f->item.attempts, 3);
  reply(&h, f, 503, NULL, now); /* out of retries: recorded */
  assert_true(uc_crawl_finished(h.crawl));
  const char *text = records(&h);
  assert_int_equal(count_lines(text, NULL), 1);
  assert_int_equal(count_lines(text, "\"status\":503"), 1);
  assert_int_equal(count_lines(text, "\"attempts\":3"), 1);
  assert_int_equal(uc_crawl_stats(h.crawl)->retries, 2);
  finish(&h);
}

static void retries_three(uc_config *c) {
  c->robots = false;
  c->retries = 3;
}

/* Fail `f` with a 503 (no Retry-After) at `now`; returns the moment the
 * gate lets its retry out: not a millisecond before, and exactly then. */
static uint64_t fail_503_wake(harness *h, uc_fetch *f, uint64_t now) {
  uint64_t wake = 0;
  reply(h, f, 503, NULL, now);
  assert_int_equal(next_rc(h, now, &wake), UC_EAGAIN);
  assert_true(wake > now);
  assert_int_equal(next_rc(h, wake - 1, NULL), UC_EAGAIN);
  return wake;
}

/* Exponential backoff: three 503s in a row wait base * jitter, the base
 * doubling each time (1 s, 2 s, 4 s). The jitter (in [0.5, 1.5)) comes from
 * the crawl's own generator, seeded from the config, so a second crawl with
 * the same config draws the same three factors; there, three URLs that
 * fail once each wait 1 s * the same factors. Each wait of the first crawl
 * is then exactly 2^(k-1) times the second's, to the millisecond the waits
 * are truncated to: a linear (1, 2, 3 s) or constant schedule is off by
 * hundreds of ms. */
static void test_backoff_doubles(void **state) {
  (void)state;
  harness h;
  uint64_t once[3]; /* crawl 2: the wait of attempt 1, for draws 1..3 */
  start(&h, retries_three);
  uint64_t now = 1000;
  static const char *const urls[] = {"http://a.test/", "http://b.test/", "http://c.test/"};
  for (int k = 0; k < 3; k++) {
    assert_int_equal(uc_crawl_seed(h.crawl, urls[k], now), 0);
    uc_fetch *f = next_now(&h, now);
    uint64_t wake = fail_503_wake(&h, f, now);
    once[k] = wake - now;
    assert_true(once[k] >= 500 && once[k] < 1500); /* 1 s, jitter [0.5, 1.5) */
    f = next_now(&h, now = wake);
    assert_int_equal(f->item.attempts, 2);
    reply(&h, f, 200, "<p>ok</p>", now);
  }
  finish(&h);

  start(&h, retries_three);
  now = 1000;
  assert_int_equal(uc_crawl_seed(h.crawl, "http://a.test/", now), 0);
  uc_fetch *f = next_now(&h, now);
  for (int k = 0; k < 3; k++) {
    uint64_t wake = fail_503_wake(&h, f, now);
    uint64_t wait = wake - now, scale = 1u << k;
    if (wait < scale * once[k] || wait >= scale * (once[k] + 1))
      fail_msg("retry %d waited %llu ms, want %llu x %llu ms (2^%d x the same jitter)", k + 1,
               (unsigned long long)wait, (unsigned long long)scale,
               (unsigned long long)once[k], k);
    f = next_now(&h, now = wake);
    assert_int_equal(f->item.attempts, k + 2);
  }
  reply(&h, f, 503, NULL, now); /* the fourth 503: out of retries, recorded */
  assert_true(uc_crawl_finished(h.crawl));
  const char *text = records(&h);
  assert_int_equal(count_lines(text, NULL), 1);
  assert_int_equal(count_lines(text, "\"attempts\":4"), 1);
  assert_int_equal(uc_crawl_stats(h.crawl)->retries, 3);
  finish(&h);
}

static void max_two(uc_config *c) {
  c->robots = false;
  c->max_pages = 2;
}

/* --max-pages stops dispatch after N pages and drops the rest. */
static void test_max_pages(void **state) {
  (void)state;
  harness h;
  start(&h, max_two);
  assert_int_equal(uc_crawl_seed(h.crawl, "http://a.test/", 0), 0);
  reply(&h, next_now(&h, 0), 200, "<a href=/1>1</a><a href=/2>2</a><a href=/3>3</a>", 1);
  reply(&h, next_now(&h, 1), 200, "<a href=/4>4</a>", 2);
  assert_int_equal(next_rc(&h, 2, NULL), UC_EEMPTY);
  assert_true(uc_crawl_finished(h.crawl));
  assert_int_equal(count_lines(records(&h), NULL), 2);
  assert_true(uc_crawl_stats(h.crawl)->skipped[UC_SKIP_MAX_PAGES] >= 2);
  finish(&h);
}

/* Stop drops the queue, counts it, and queues nothing found afterwards. */
static void test_stop(void **state) {
  (void)state;
  harness h;
  start(&h, robots_off);
  assert_int_equal(uc_crawl_seed(h.crawl, "http://a.test/", 0), 0);
  reply(&h, next_now(&h, 0), 200, "<a href=/1>1</a><a href=/2>2</a><a href=/3>3</a>", 1);
  uc_fetch *f = next_now(&h, 1);
  assert_int_equal(uc_crawl_stop(h.crawl), 2);
  assert_int_equal(next_rc(&h, 1, NULL), UC_EEMPTY);
  reply(&h, f, 200, "<a href=/9>9</a>", 2);
  assert_true(uc_crawl_finished(h.crawl));
  assert_int_equal(uc_crawl_stats(h.crawl)->unfetched, 2);
  assert_int_equal(count_lines(records(&h), NULL), 2);
  finish(&h);
}

/* An external visited set and the prefilter path give the same result. */
static int counting_visited(void *ctx, const char *url, size_t len) {
  (void)url;
  (void)len;
  int *calls = ctx;
  return ++*calls == 2 ? 0 : 1; /* pretend the second URL offered was seen */
}

static void test_prefilter(void **state) {
  (void)state;
  harness h;
  int calls = 0;
  start_with(&h, robots_off, counting_visited, &calls);
  assert_int_equal(uc_crawl_seed(h.crawl, "http://a.test/", 0), 0);
  uc_fetch *f = next_now(&h, 0);
  /* other.test first: the accepted links move down over its slot. */
  const char *body = "<a href=http://other.test/>o</a><a href=/1>1</a><a href=/2>2</a>";
  uc_fetch_result r = {.status = 200, .content_type = "text/html", .body = body,
                       .body_len = strlen(body), .retry_after_s = -1};
  uc_parsed parsed;
  assert_int_equal(uc_crawl_parse(h.crawl, f, &r, &parsed), 0);
  assert_int_equal(uc_crawl_prefilter(h.crawl, f, &parsed), 0);
  /* /2 accepted; other.test kept after it for the crawl's own thread,
   * which alone sees hosts that seeds redirected to; each with its parts. */
  assert_int_equal(parsed.links.count, 2);
  assert_int_equal(parsed.accepted, 1);
  assert_string_equal(parsed.links.urls[0], "http://a.test/2");
  assert_string_equal(parsed.links.urls[1], "http://other.test/");
  assert_int_equal(parsed.links.parts[0].path_off, strlen("http://a.test"));
  assert_int_equal(parsed.links.parts[1].host_len, strlen("other.test"));
  assert_int_equal(parsed.skipped[UC_SKIP_SEEN], 1);  /* /1, the second offered */
  assert_int_equal(parsed.skipped[UC_SKIP_SCOPE], 0);
  assert_int_equal(uc_crawl_complete(h.crawl, f, &r, &parsed, 0, 1), 0);
  uc_parsed_free(&parsed);
  assert_int_equal(uc_crawl_stats(h.crawl)->skipped[UC_SKIP_SCOPE], 1); /* other.test */
  assert_int_equal(count_lines(records(&h), "\"links\":3,\"new_links\":1"), 1);
  reply(&h, next_now(&h, 1), 200, "", 2);
  assert_true(uc_crawl_finished(h.crawl));
  finish(&h);
}

/* A sink that notes what reached it: whether each entry had a record, and
 * the exchange's status. */
typedef struct archive_log {
  int n;
  bool record[8];
  int status[8];
} archive_log;

static int log_write(void *state, const uc_sink_entry *e) {
  archive_log *l = state;
  if (e->exchange != NULL && l->n < 8) {
    l->record[l->n] = e->record != NULL;
    l->status[l->n++] = e->exchange->status;
  }
  return 0;
}
static int log_flush(void *state) { return (void)state, 0; }
static int log_close(void *state) { return (void)state, 0; }
static const char *log_what(void *state) { return (void)state, "archive log"; }
static const uc_sink_ops log_ops = {log_write, log_flush, log_close, log_what};

static void one_retry(uc_config *c) { c->retries = 1; }

/* Every exchange reaches the sinks, also those that make no record:
 * robots.txt and a try that is retried (a 503); the JSON sink writes one
 * line, for the page's last try. */
static void test_exchanges_reach_the_sinks(void **state) {
  (void)state;
  harness h;
  archive_log log = {0};
  start(&h, one_retry);
  assert_int_equal(uc_sinks_add(h.sinks, &log_ops, &log), 0);
  assert_int_equal(uc_crawl_seed(h.crawl, "http://a.test/", 0), 0);
  uc_exchange ex = {.target_uri = "http://a.test/robots.txt", .ip = "", .status = 200};
  uc_fetch *robots = next_now(&h, 0);
  reply_result(&h, robots, (uc_fetch_result){.status = 200, .body = "", .exchange = &ex}, 0);
  uc_fetch *page = next_now(&h, 0);
  uc_exchange busy = {.target_uri = "http://a.test/", .ip = "", .status = 503};
  reply_result(&h, page, (uc_fetch_result){.status = 503, .exchange = &busy}, 0);
  uint64_t wake = 0;
  assert_int_equal(next_rc(&h, 0, &wake), UC_EAGAIN); /* backing off */
  page = next_now(&h, wake);
  uc_exchange ok = {.target_uri = "http://a.test/", .ip = "", .status = 200};
  reply_result(&h, page, (uc_fetch_result){.status = 200, .exchange = &ok}, wake);
  assert_int_equal(log.n, 3);
  assert_false(log.record[0]);
  assert_int_equal(log.status[0], 200); /* robots.txt */
  assert_false(log.record[1]);
  assert_int_equal(log.status[1], 503); /* the try that is retried */
  assert_true(log.record[2]);
  assert_int_equal(log.status[2], 200);
  assert_int_equal(count_lines(records(&h), NULL), 1);
  finish(&h);
}

static void test_product_token(void **state) {
  (void)state;
  static const struct {
    const char *ua, *token;
  } cases[] = {
      {"uvcrawl/0.1 (+https://x)", "uvcrawl"},
      {"MyBot", "MyBot"},
      {"a b/c", "a"},
      {"", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char buf[16];
    uc_crawl_product_token(cases[i].ua, buf, sizeof buf);
    assert_string_equal(buf, cases[i].token);
  }
}

/* A cluster agent that owns every host but b.test (src/cluster's hooks). */
typedef struct handed_log {
  char url[8][64], parent[8][64];
  int depth[8];
  uint64_t id[8];
  size_t n;
} handed_log;

static handed_log handed;

static bool owns_all_but_b(void *ctx, const char *key) {
  return (void)ctx, strstr(key, "://b.test") == NULL;
}

static int record_hand(void *ctx, uint64_t id, const char *url, const char *parent, int depth,
                       unsigned kind) {
  (void)ctx, (void)kind;
  assert_true(handed.n < 8);
  snprintf(handed.url[handed.n], sizeof handed.url[0], "%s", url);
  snprintf(handed.parent[handed.n], sizeof handed.parent[0], "%s", parent ? parent : "-");
  handed.depth[handed.n] = depth;
  handed.id[handed.n++] = id;
  return 0;
}

/* Links for another agent's host are handed over once, never queued here;
 * links received are deduplicated and queued; a received seed is crawled. */
static void test_peers(void **state) {
  (void)state;
  harness h;
  memset(&handed, 0, sizeof handed);
  harness_peers = (uc_crawl_peers){.owns = owns_all_but_b, .hand = record_hand};
  start(&h, robots_off);
  harness_peers = (uc_crawl_peers){0};
  assert_int_equal(uc_crawl_seed(h.crawl, "http://b.test/", 0), 0); /* a seed for b's owner */
  assert_int_equal(handed.n, 1);
  assert_string_equal(handed.url[0], "http://b.test/");
  assert_int_equal(handed.depth[0], 0);
  assert_string_equal(handed.parent[0], "-");
  assert_int_equal(next_rc(&h, 0, NULL), UC_EEMPTY);
  assert_int_equal(uc_crawl_receive(h.crawl, "http://a.test/", NULL, 0, UC_KIND_PAGE, 0), 1);
  uc_fetch *home = next_now(&h, 0);
  assert_string_equal(home->item.url, "http://a.test/");
  reply(&h, home, 200, "<a href=/x>x</a><a href=http://b.test/y>y</a><a href=http://b.test/y>", 1);
  assert_int_equal(handed.n, 2); /* b.test/y once */
  assert_string_equal(handed.url[1], "http://b.test/y");
  assert_string_equal(handed.parent[1], "http://a.test/");
  assert_int_equal(handed.depth[1], 1);
  assert_int_equal(uc_crawl_handed(h.crawl, handed.id, handed.n), 0);
  /* From another agent: one new link and one already known here. */
  assert_int_equal(uc_crawl_receive(h.crawl, "http://a.test/z", "http://b.test/y", 2,
                                    UC_KIND_PAGE, 2), 1);
  assert_int_equal(uc_crawl_receive(h.crawl, "http://a.test/x", "http://b.test/", 1,
                                    UC_KIND_PAGE, 2), 0);
  uc_fetch *a = next_now(&h, 2), *b = next_now(&h, 2);
  assert_int_equal(next_rc(&h, 2, NULL), UC_EEMPTY);
  uc_fetch *z = strstr(a->item.url, "/z") ? a : b;
  assert_string_equal(z->item.parent, "http://b.test/y");
  assert_int_equal(z->item.depth, 2);
  reply(&h, a, 200, "", 3);
  reply(&h, b, 200, "", 3);
  assert_true(uc_crawl_finished(h.crawl));
  const char *text = records(&h);
  assert_int_equal(count_lines(text, NULL), 3); /* a.test's pages only */
  assert_int_equal(count_lines(text, "b.test/\""), 0);
  finish(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_peers),
      cmocka_unit_test(test_robots_first_and_obeyed),
      cmocka_unit_test(test_crawl_delay),
      cmocka_unit_test(test_robots_outcomes),
      cmocka_unit_test(test_robots_retry),
      cmocka_unit_test(test_robots_refetched_after_a_day),
      cmocka_unit_test(test_dedup_and_redirects),
      cmocka_unit_test(test_depth_levels),
      cmocka_unit_test(test_retries),
      cmocka_unit_test(test_backoff_doubles),
      cmocka_unit_test(test_max_pages),
      cmocka_unit_test(test_stop),
      cmocka_unit_test(test_prefilter),
      cmocka_unit_test(test_product_token),
      cmocka_unit_test(test_exchanges_reach_the_sinks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
