/*
 * warc.c - the WARC/1.1 sink (ISO 28500): for each exchange a response (or
 * a revisit, when its payload was archived before in this crawl) and a
 * request record; a warcinfo record first in each file; each record its own
 * gzip member, so that a reader may start at any record's offset; files
 * PREFIX-00000.warc.gz, ... rotated past --warc-max-size; and a CDXJ line
 * (pywb's format) for each response and revisit, as the crawl goes.
 *
 * The work (SHA-1 of each block and payload, gzip, the write, the dedup
 * table, the index) runs on a writer thread of the sink's own, so that it
 * never stalls the event loop, nor the threads engine's workers behind its
 * crawl lock: uc_sinks_write() only copies the exchange into a bounded
 * queue (it waits for room past QUEUE_BYTES, the only time it blocks).
 * Flush waits until everything queued before it is in the kernel: that is
 * what the store's pre_commit hook needs (a page is never DONE in the
 * store before its records are written).
 *
 * Lock: `lock` protects the queue, its counts and the writer's first
 * error; everything else (files, sizes, dedup table, zlib, buffers) is the
 * writer thread's alone once it runs. No other lock is held with it.
 *
 * Note: each exchange goes to the file in one write(2), from memory, with
 * no user-space buffer: a kill -9 tears at most the last record, and a
 * write that fails (a full disk) is cut back with ftruncate(2), so that
 * the file ends on a complete record.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "sink_int.h"
#include "uvcrawl/chunked.h"
#include "uvcrawl/error.h"
#include "uvcrawl/sink.h"

#define REVISIT_PROFILE "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
#define CONFORMS_TO \
  "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
#define GZIP_LEVEL 1 /* fastest: 40% less CPU than 6 on a 10 KB page, 12% more bytes */
#define QUEUE_BYTES (64u << 20) /* exchanges waiting for the writer, at most (but one) */

/* One exchange waiting for the writer: a copy, since the crawl's buffers
 * are reused once uc_sinks_write returns. */
typedef struct job {
  struct job *next;
  size_t size;
  uc_exchange ex; /* its strings point into data */
  char data[];
} job;

/* A payload archived before: where a revisit refers to. */
typedef struct seen_payload {
  char digest[33]; /* base32 SHA-1 */
  char date[32];   /* WARC-Date of the original */
  struct seen_payload *next;
  char uri[]; /* WARC-Target-URI of the original */
} seen_payload;

typedef struct warc {
  char *prefix;       /* owned */
  char *cdx_path;     /* owned: --warc-cdx FILE, NULL for no index */
  int fd;             /* the open file, -1 before the first */
  unsigned index;     /* of the open file */
  uint64_t size;      /* bytes in the open file */
  uint64_t pairs;     /* exchanges in the open file */
  uint64_t max_size;
  char filename[1100]; /* base name of the open file, for CDXJ */
  int cdx_fd;         /* -1: no index */
  bool dedup;
  seen_payload **seen; /* hash table by digest, chained */
  size_t seen_cap, seen_count;
  uint64_t rng;        /* record ids (splitmix64, seeded by getrandom) */
  char *software, *options; /* owned, for warcinfo */
  z_stream z;
  bool z_ready;
  /* Scratch buffers, reused (the crawl's thread only). */
  uc_buf head, gz, line;
  char what[600];      /* "WARC files PREFIX-*.warc.gz" */
  /* The queue to the writer thread, under `lock`. */
  pthread_mutex_t lock;
  pthread_cond_t more;  /* the writer waits: a job, or closing */
  pthread_cond_t done;  /* write and flush wait: room, or jobs finished */
  job *first, **tail;  /* the queue, oldest first */
  size_t queued_bytes;
  uint64_t submitted, finished;
  bool closing;
  int error, error_errno; /* the writer's first failure */
  pthread_t thread;
  bool thread_on;
} warc;

/* ---- small pieces ------------------------------------------------------- */

static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* A random (version 4) UUID as a WARC-Record-ID: "<urn:uuid:...>". */
static void record_id(warc *w, char out[64]) {
  uint64_t a = next_random(&w->rng), b = next_random(&w->rng);
  a = (a & ~0xf000ull) | 0x4000ull;                        /* version 4 */
  b = (b & 0x3fffffffffffffffull) | 0x8000000000000000ull; /* RFC 4122 variant */
  snprintf(out, 64, "<urn:uuid:%08x-%04x-%04x-%04x-%012llx>", (unsigned)(a >> 32),
           (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xffff, (unsigned)(b >> 48),
           (unsigned long long)(b & 0xffffffffffffull));
}

/* SHA-1 of up to two pieces, in base32. */
static int sha1_b32(const char *a, size_t alen, const char *b, size_t blen, char out[33]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
           EVP_DigestUpdate(ctx, a, alen) == 1 && EVP_DigestUpdate(ctx, b, blen) == 1 &&
           EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 20;
  EVP_MD_CTX_free(ctx);
  if (!ok)
    return UC_ENOMEM;
  uc_base32_sha1(md, out);
  return 0;
}

/* Write all of it; on a failure, cut the file back to `keep` bytes so that
 * it ends on a complete record, and keep errno. */
static int write_all(int fd, const char *p, size_t n, uint64_t keep) {
  size_t done = 0;
  while (done < n) {
    ssize_t k = write(fd, p + done, n - done);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0) {
      int err = k < 0 ? errno : EIO;
      if (ftruncate(fd, (off_t)keep) != 0) {
        /* nothing better to do: the reader skips a torn last member */
      }
      errno = err;
      return UC_EIO;
    }
    done += (size_t)k;
  }
  return 0;
}

/* Compress one record (header then up to two block pieces, then the two
 * CRLFs that end a record) as its own gzip member, appended to `gz`. */
static int gzip_member(warc *w, uc_buf *gz, const uc_buf *head, const char *b1, size_t n1,
                       const char *b2, size_t n2) {
  if (!w->z_ready) {
    if (deflateInit2(&w->z, GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      return UC_ENOMEM;
    w->z_ready = true;
  } else if (deflateReset(&w->z) != Z_OK) {
    return UC_ENOMEM;
  }
  const char *piece[4] = {head->data, b1, b2, "\r\n\r\n"};
  size_t len[4] = {head->len, n1, n2, 4};
  size_t bound = deflateBound(&w->z, (uLong)(head->len + n1 + n2 + 4)) + 64;
  if (uc_buf_reserve(gz, bound) != 0)
    return UC_ENOMEM;
  w->z.next_out = (Bytef *)gz->data + gz->len;
  w->z.avail_out = (uInt)(gz->cap - gz->len - 1);
  int zrc = Z_OK;
  for (int i = 0; i < 4 && zrc == Z_OK; i++) {
    w->z.next_in = (Bytef *)(uintptr_t)piece[i];
    w->z.avail_in = (uInt)len[i];
    zrc = deflate(&w->z, i == 3 ? Z_FINISH : Z_NO_FLUSH);
    if (zrc == Z_BUF_ERROR && len[i] == 0)
      zrc = Z_OK; /* an empty piece */
  }
  if (zrc != Z_STREAM_END)
    return UC_ENOMEM; /* the bound was wrong: cannot happen with deflateBound */
  gz->len = gz->cap - 1 - w->z.avail_out;
  gz->data[gz->len] = '\0';
  return 0;
}

/* A WARC header block up to and with its empty line, into w->head. */
static int header(warc *w, const char *type, const char *id, const char *date,
                  const char *uri, const char *extra, const char *content_type,
                  size_t length) {
  uc_buf_reset(&w->head);
  int rc = uc_buf_printf(&w->head, "WARC/1.1\r\nWARC-Type: %s\r\nWARC-Record-ID: %s\r\n"
                         "WARC-Date: %s\r\n", type, id, date);
  if (rc == 0 && uri != NULL)
    rc = uc_buf_printf(&w->head, "WARC-Target-URI: %s\r\n", uri);
  if (rc == 0 && extra != NULL)
    rc = uc_buf_puts(&w->head, extra);
  if (rc == 0)
    rc = uc_buf_printf(&w->head, "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                       content_type, length);
  return rc;
}

/* ---- files -------------------------------------------------------------- */

static int open_file(warc *w, unsigned index, bool exclusive, char *err, size_t errlen);

/* The warcinfo record that starts each file. */
static int write_warcinfo(warc *w) {
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  uc_buf fields = UC_BUF_INIT;
  int rc = uc_buf_printf(&fields, "software: %s\r\nformat: WARC File Format 1.1\r\n"
                         "conformsTo: %s\r\nhostname: %s\r\n", w->software, CONFORMS_TO, host);
  if (rc == 0 && w->options != NULL)
    rc = uc_buf_printf(&fields, "options: %s\r\n", w->options);
  char id[64], date[32], extra[1200];
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  uc_warc_date((int64_t)now.tv_sec * 1000, 0, date);
  record_id(w, id);
  snprintf(extra, sizeof extra, "WARC-Filename: %s\r\n", w->filename);
  if (rc == 0)
    rc = header(w, "warcinfo", id, date, NULL, extra, "application/warc-fields", fields.len);
  uc_buf gz = UC_BUF_INIT;
  if (rc == 0)
    rc = gzip_member(w, &gz, &w->head, fields.data, fields.len, NULL, 0);
  uc_buf_free(&fields);
  if (rc == 0)
    rc = write_all(w->fd, gz.data, gz.len, w->size);
  if (rc == 0)
    w->size += gz.len;
  uc_buf_free(&gz);
  w->pairs = 0;
  return rc;
}

static int open_file(warc *w, unsigned index, bool exclusive, char *err, size_t errlen) {
  char path[1100];
  snprintf(path, sizeof path, "%s-%05u.warc.gz", w->prefix, index);
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), 0644);
  if (fd < 0) {
    if (err != NULL)
      snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
    return UC_EIO;
  }
  const char *slash = strrchr(path, '/');
  snprintf(w->filename, sizeof w->filename, "%s", slash != NULL ? slash + 1 : path);
  w->fd = fd;
  w->index = index;
  w->size = 0;
  int rc = write_warcinfo(w);
  if (rc != 0) {
    /* Note: a disk that fills as a file is rotated would leave an empty
     * file, which no reader takes for a WARC: remove it. */
    int e = errno;
    if (err != NULL)
      snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
    close(w->fd);
    w->fd = -1;
    unlink(path);
    errno = e;
  }
  return rc;
}

/* Past --warc-max-size: close this file (it ends on a complete record) and
 * start the next. */
static int rotate(warc *w) {
  if (close(w->fd) != 0) {
    w->fd = -1;
    return UC_EIO;
  }
  w->fd = -1;
  return open_file(w, w->index + 1, false, NULL, 0);
}

/* ---- dedup -------------------------------------------------------------- */

static size_t digest_hash(const char *d) {
  size_t h = 14695981039346656037ull;
  for (int i = 0; i < 32; i++)
    h = (h ^ (unsigned char)d[i]) * 1099511628211ull;
  return h;
}

static const seen_payload *seen_find(const warc *w, const char *digest) {
  if (w->seen_cap == 0)
    return NULL;
  for (const seen_payload *p = w->seen[digest_hash(digest) & (w->seen_cap - 1)]; p != NULL;
       p = p->next)
    if (memcmp(p->digest, digest, 32) == 0)
      return p;
  return NULL;
}

static int seen_add(warc *w, const char *digest, const char *uri, const char *date) {
  if (w->seen_count * 2 >= w->seen_cap) {
    size_t cap = w->seen_cap ? w->seen_cap * 2 : 1024;
    seen_payload **grown = calloc(cap, sizeof *grown);
    if (grown == NULL)
      return UC_ENOMEM;
    for (size_t i = 0; i < w->seen_cap; i++)
      for (seen_payload *p = w->seen[i], *next; p != NULL; p = next) {
        next = p->next;
        size_t b = digest_hash(p->digest) & (cap - 1);
        p->next = grown[b];
        grown[b] = p;
      }
    free(w->seen);
    w->seen = grown;
    w->seen_cap = cap;
  }
  size_t ulen = strlen(uri) + 1;
  seen_payload *p = malloc(sizeof *p + ulen);
  if (p == NULL)
    return UC_ENOMEM;
  memcpy(p->digest, digest, 33);
  snprintf(p->date, sizeof p->date, "%s", date);
  memcpy(p->uri, uri, ulen);
  size_t b = digest_hash(digest) & (w->seen_cap - 1);
  p->next = w->seen[b];
  w->seen[b] = p;
  w->seen_count++;
  return 0;
}

/* ---- CDXJ --------------------------------------------------------------- */

/* One index line for the record at `offset`, `length` bytes long. */
static int cdx_line(warc *w, const uc_exchange *ex, bool revisit, const char *digest,
                    uint64_t offset, uint64_t length) {
  char stamp[32];
  uc_warc_date(ex->wall_ms, 1, stamp);
  uc_buf_reset(&w->line);
  int rc = uc_surt(ex->target_uri, &w->line);
  if (rc == UC_EBADURL) /* keyed by the URL itself */
    rc = uc_buf_puts(&w->line, ex->target_uri);
  char mime[128] = "unk";
  if (revisit)
    snprintf(mime, sizeof mime, "warc/revisit");
  else if (ex->content_type != NULL && ex->content_type[0] != '\0')
    snprintf(mime, sizeof mime, "%.*s", (int)strcspn(ex->content_type, "; \t"),
             ex->content_type);
  if (rc == 0)
    rc = uc_buf_printf(&w->line, " %s {\"url\":", stamp);
  if (rc == 0)
    rc = uc_json_append_string0(&w->line, ex->target_uri);
  if (rc == 0)
    rc = uc_buf_puts(&w->line, ",\"mime\":");
  if (rc == 0)
    rc = uc_json_append_string0(&w->line, mime);
  if (rc == 0)
    rc = uc_buf_printf(&w->line, ",\"status\":\"%d\",\"digest\":\"%s\",\"length\":\"%llu\","
                       "\"offset\":\"%llu\",\"filename\":", ex->status, digest,
                       (unsigned long long)length, (unsigned long long)offset);
  if (rc == 0)
    rc = uc_json_append_string0(&w->line, w->filename);
  if (rc == 0)
    rc = uc_buf_puts(&w->line, "}\n");
  if (rc != 0)
    return rc;
  off_t at = lseek(w->cdx_fd, 0, SEEK_END);
  return write_all(w->cdx_fd, w->line.data, w->line.len, at < 0 ? 0 : (uint64_t)at);
}

/* ---- the sink ----------------------------------------------------------- */

static bool digest_cb(void *userp, const char *body, size_t len) {
  return EVP_DigestUpdate(userp, body, len) == 1;
}

/* WARC-Payload-Digest: SHA-1 of the entity-body, that is the payload with
 * its transfer coding (chunk framing) taken off and its Content-Encoding
 * kept (WARC 1.1 section 6.3.2; iipc/warc-specifications#22), so a payload
 * sent in other chunks has the same digest. */
static int payload_sha1_b32(const uc_exchange *ex, char out[33]) {
  if (!uc_chunked_in_headers(ex->response, ex->response_len))
    return sha1_b32(ex->payload, ex->payload_len, NULL, 0, out);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdlen = 0;
  uc_chunked d = UC_CHUNKED_INIT;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
           uc_chunked_feed(&d, ex->payload, ex->payload_len, digest_cb, ctx) &&
           EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 20;
  EVP_MD_CTX_free(ctx);
  if (!ok)
    return UC_ENOMEM;
  uc_base32_sha1(md, out);
  return 0;
}

/* Archive one exchange (the writer thread). */
static int archive(warc *w, const uc_exchange *ex) {
  char date[32], resp_id[64], req_id[64], payload_digest[33], block_digest[33];
  char extra[1024];
  uc_warc_date(ex->wall_ms, 0, date);
  record_id(w, resp_id);
  record_id(w, req_id);
  int rc = payload_sha1_b32(ex, payload_digest);
  /* A cut payload is not the resource: it is archived, never referred to. */
  const seen_payload *orig = w->dedup && !ex->truncated && ex->payload_len > 0
                                 ? seen_find(w, payload_digest)
                                 : NULL;
  bool revisit = orig != NULL;
  size_t body_len = revisit ? 0 : ex->payload_len; /* a revisit keeps the headers only */
  if (rc == 0)
    rc = sha1_b32(ex->response, ex->response_len, ex->payload, body_len, block_digest);
  if (rc != 0)
    return rc;
  int n = snprintf(extra, sizeof extra, "%s%s%sWARC-Block-Digest: sha1:%s\r\n"
                   "WARC-Payload-Digest: sha1:%s\r\n%s",
                   ex->ip[0] != '\0' ? "WARC-IP-Address: " : "", ex->ip,
                   ex->ip[0] != '\0' ? "\r\n" : "", block_digest, payload_digest,
                   ex->truncated && !revisit ? "WARC-Truncated: length\r\n" : "");
  if (revisit && n > 0 && (size_t)n < sizeof extra)
    n += snprintf(extra + n, sizeof extra - (size_t)n,
                  "WARC-Profile: " REVISIT_PROFILE "\r\nWARC-Refers-To-Target-URI: %s\r\n"
                  "WARC-Refers-To-Date: %s\r\n", orig->uri, orig->date);
  if (n < 0 || (size_t)n >= sizeof extra)
    return UC_ENOMEM;
  rc = header(w, revisit ? "revisit" : "response", resp_id, date, ex->target_uri, extra,
              "application/http;msgtype=response", ex->response_len + body_len);
  uc_buf_reset(&w->gz);
  if (rc == 0)
    rc = gzip_member(w, &w->gz, &w->head, ex->response, ex->response_len, ex->payload,
                     body_len);
  if (rc != 0)
    return rc;
  size_t resp_gz = w->gz.len;
  /* The request, concurrent to its response. */
  char req_digest[33];
  rc = sha1_b32(ex->request, ex->request_len, NULL, 0, req_digest);
  n = snprintf(extra, sizeof extra, "%s%s%sWARC-Concurrent-To: %s\r\n"
               "WARC-Block-Digest: sha1:%s\r\n",
               ex->ip[0] != '\0' ? "WARC-IP-Address: " : "", ex->ip,
               ex->ip[0] != '\0' ? "\r\n" : "", resp_id, req_digest);
  if (rc == 0 && (n < 0 || (size_t)n >= sizeof extra))
    rc = UC_ENOMEM;
  if (rc == 0)
    rc = header(w, "request", req_id, date, ex->target_uri, extra,
                "application/http;msgtype=request", ex->request_len);
  if (rc == 0)
    rc = gzip_member(w, &w->gz, &w->head, ex->request, ex->request_len, NULL, 0);
  if (rc != 0)
    return rc;
  /* The pair goes in one file: start the next one first if this one
   * would pass its bound (a file holds at least one pair, however big). */
  if (w->pairs > 0 && w->size + w->gz.len > w->max_size && (rc = rotate(w)) != 0)
    return rc;
  uint64_t offset = w->size;
  rc = write_all(w->fd, w->gz.data, w->gz.len, w->size);
  if (rc != 0)
    return rc;
  w->size += w->gz.len;
  w->pairs++;
  if (w->dedup && !revisit && !ex->truncated && ex->payload_len > 0 &&
      (rc = seen_add(w, payload_digest, ex->target_uri, date)) != 0)
    return rc;
  if (w->cdx_fd >= 0)
    rc = cdx_line(w, ex, revisit, payload_digest, offset, resp_gz);
  return rc;
}

/* The writer thread: archive each job in queue order; after a failure,
 * drain the queue without writing, so that the files end where they
 * failed, on a complete record. */
static void *writer_main(void *arg) {
  warc *w = arg;
  pthread_mutex_lock(&w->lock);
  for (;;) {
    while (w->first == NULL && !w->closing)
      pthread_cond_wait(&w->more, &w->lock);
    job *j = w->first;
    if (j == NULL)
      break; /* closing, and nothing left */
    if ((w->first = j->next) == NULL)
      w->tail = &w->first;
    bool failed = w->error != 0;
    pthread_mutex_unlock(&w->lock);
    int rc = failed ? 0 : archive(w, &j->ex);
    int err = errno;
    pthread_mutex_lock(&w->lock);
    if (rc != 0 && w->error == 0) {
      w->error = rc;
      w->error_errno = rc == UC_EIO ? err : 0;
    }
    w->queued_bytes -= j->size;
    w->finished++;
    pthread_cond_broadcast(&w->done);
    pthread_mutex_unlock(&w->lock);
    free(j);
    pthread_mutex_lock(&w->lock);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

/* A copy of the exchange for the queue. */
static job *job_new(const uc_exchange *ex) {
  const char *ct = ex->content_type != NULL ? ex->content_type : "";
  size_t ulen = strlen(ex->target_uri) + 1, iplen = strlen(ex->ip) + 1, ctlen = strlen(ct) + 1;
  size_t size = sizeof(job) + ulen + iplen + ctlen + ex->request_len + ex->response_len +
                ex->payload_len;
  job *j = malloc(size);
  if (j == NULL)
    return NULL;
  j->next = NULL;
  j->size = size;
  j->ex = *ex;
  char *p = j->data;
#define COPY(field, src, n) \
  memcpy(p, src, n);        \
  j->ex.field = p;          \
  p += n
  COPY(target_uri, ex->target_uri, ulen);
  COPY(ip, ex->ip, iplen);
  COPY(content_type, ct, ctlen);
  COPY(request, ex->request, ex->request_len);
  COPY(response, ex->response, ex->response_len);
  COPY(payload, ex->payload, ex->payload_len);
#undef COPY
  if (ex->content_type == NULL)
    j->ex.content_type = NULL;
  j->ex.prev = NULL; /* queued on its own, before this one */
  return j;
}

/* The crawl's thread: queue a copy of the exchange for the writer. A
 * failure of the writer's is reported here, at the next write. */
static int queue_one(warc *w, const uc_exchange *ex);

static int warc_write(void *state, const uc_sink_entry *e) {
  warc *w = state;
  /* Hops curl followed itself go first, oldest first. */
  const uc_exchange *chain[16];
  size_t n = 0;
  for (const uc_exchange *ex = e->exchange; ex != NULL && n < 16; ex = ex->prev)
    chain[n++] = ex;
  int rc = 0;
  while (rc == 0 && n > 0)
    rc = queue_one(w, chain[--n]);
  return rc;
}

static int queue_one(warc *w, const uc_exchange *ex) {
  job *j = job_new(ex);
  if (j == NULL)
    return UC_ENOMEM;
  pthread_mutex_lock(&w->lock);
  while (w->error == 0 && w->first != NULL && w->queued_bytes + j->size > QUEUE_BYTES)
    pthread_cond_wait(&w->done, &w->lock);
  int rc = w->error, err = w->error_errno;
  if (rc == 0) {
    *w->tail = j;
    w->tail = &j->next;
    w->queued_bytes += j->size;
    w->submitted++;
    pthread_cond_signal(&w->more);
  }
  pthread_mutex_unlock(&w->lock);
  if (rc != 0) {
    free(j);
    errno = err;
  }
  return rc;
}

/* Any thread: wait until what was queued before the call is written. */
static int warc_flush(void *state) {
  warc *w = state;
  pthread_mutex_lock(&w->lock);
  uint64_t target = w->submitted;
  while (w->finished < target)
    pthread_cond_wait(&w->done, &w->lock);
  int rc = w->error, err = w->error_errno;
  pthread_mutex_unlock(&w->lock);
  errno = err;
  return rc;
}

static void warc_free(warc *w) {
  pthread_mutex_destroy(&w->lock);
  pthread_cond_destroy(&w->more);
  pthread_cond_destroy(&w->done);
  for (size_t i = 0; i < w->seen_cap; i++)
    for (seen_payload *p = w->seen[i], *next; p != NULL; p = next) {
      next = p->next;
      free(p);
    }
  free(w->seen);
  if (w->z_ready)
    deflateEnd(&w->z);
  uc_buf_free(&w->head);
  uc_buf_free(&w->gz);
  uc_buf_free(&w->line);
  free(w->prefix);
  free(w->cdx_path);
  free(w->software);
  free(w->options);
  free(w);
}

/* An index up to this size is sorted when the crawl ends; a bigger one
 * stays in crawl order (sort it with LC_ALL=C sort: docs/warc.md). */
#define CDX_SORT_MAX ((size_t)1 << 30)

static int line_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* pywb finds a URL in a CDXJ file by binary search, so the lines must be
 * in byte order (LC_ALL=C sort's). They are written in crawl order, each
 * as its record lands, so that a killed crawl leaves a complete index; at
 * a clean end the file is sorted into a new file that replaces it by
 * rename(2): a kill during the sort leaves the old one whole. */
static int sort_index(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0)
      close(fd);
    return UC_EIO;
  }
  size_t size = (size_t)st.st_size;
  /* Note: only a regular file: --warc-cdx /dev/stdout names no file to
   * replace. */
  if (!S_ISREG(st.st_mode) || size == 0 || size > CDX_SORT_MAX) {
    close(fd);
    return 0;
  }
  char *text = malloc(size + 1);
  size_t got = 0;
  ssize_t n = 1;
  while (text != NULL && got < size && (n = read(fd, text + got, size - got)) > 0)
    got += (size_t)n;
  close(fd);
  if (text == NULL || n < 0 || got != size) {
    free(text);
    return text == NULL ? UC_ENOMEM : UC_EIO;
  }
  text[size] = '\0';
  size_t count = 0;
  for (size_t i = 0; i < size; i++)
    count += text[i] == '\n';
  char **lines = malloc((count + 1) * sizeof *lines);
  if (lines == NULL) {
    free(text);
    return UC_ENOMEM;
  }
  /* Each line ends in '\n' (the writer writes whole lines): cut there. */
  size_t k = 0;
  for (char *line = text; line < text + size && k <= count;) {
    char *nl = memchr(line, '\n', (size_t)(text + size - line));
    if (nl != NULL)
      *nl = '\0';
    lines[k++] = line;
    line = nl != NULL ? nl + 1 : text + size;
  }
  qsort(lines, k, sizeof *lines, line_cmp);
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.sorting", path);
  int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int rc = out < 0 ? UC_EIO : 0;
  uint64_t at = 0;
  for (size_t i = 0; rc == 0 && i < k; i++) {
    size_t len = strlen(lines[i]);
    lines[i][len] = '\n'; /* the NUL put there above */
    rc = write_all(out, lines[i], len + 1, at);
    at += len + 1;
  }
  if (rc == 0 && fsync(out) != 0)
    rc = UC_EIO;
  int err = errno;
  if (out >= 0 && close(out) != 0 && rc == 0)
    rc = UC_EIO, err = errno;
  if (rc == 0 && rename(tmp, path) != 0)
    rc = UC_EIO, err = errno;
  if (rc != 0 && out >= 0)
    unlink(tmp);
  free(lines);
  free(text);
  errno = err;
  return rc;
}

static int warc_close(void *state) {
  warc *w = state;
  if (w->thread_on) {
    pthread_mutex_lock(&w->lock);
    w->closing = true;
    pthread_cond_signal(&w->more);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL); /* it drains the queue first */
  }
  int rc = w->error, err = w->error_errno;
  if (w->fd >= 0 && close(w->fd) != 0 && rc == 0)
    rc = UC_EIO, err = errno;
  if (w->cdx_fd >= 0 && close(w->cdx_fd) != 0 && rc == 0)
    rc = UC_EIO, err = errno;
  if (w->cdx_fd >= 0 && rc == 0 && w->thread_on && (rc = sort_index(w->cdx_path)) != 0)
    err = errno;
  warc_free(w);
  errno = err;
  return rc;
}

static const char *warc_what(void *state) { return ((warc *)state)->what; }

static const uc_sink_ops warc_ops = {
    .write = warc_write, .flush = warc_flush, .close = warc_close, .what = warc_what};

/* The value of "key":"..." in a CDXJ line, into out; false if absent or
 * escaped (such a line is not reused). */
static bool cdx_field(const char *line, const char *key, char *out, size_t outlen) {
  char pat[32];
  snprintf(pat, sizeof pat, "\"%s\":\"", key);
  const char *v = strstr(line, pat);
  if (v == NULL)
    return false;
  v += strlen(pat);
  size_t n = strcspn(v, "\"\\");
  if (v[n] != '"' || n >= outlen)
    return false;
  memcpy(out, v, n);
  out[n] = '\0';
  return true;
}

/* A resumed crawl (--state) with its index: the payloads archived by the
 * runs before become revisits too. Each response line gives a digest, its
 * URL and its 14-digit time (made back into a WARC-Date). */
static int reload_payloads(warc *w, const char *cdx_path) {
  FILE *f = fopen(cdx_path, "r");
  if (f == NULL)
    return 0; /* a new index: nothing archived before */
  char *line = NULL;
  size_t cap = 0;
  int rc = 0;
  while (rc == 0 && getline(&line, &cap, f) > 0) {
    char digest[40], url[4096], mime[64], date[32];
    const char *stamp = strchr(line, ' ');
    if (stamp == NULL || strspn(stamp + 1, "0123456789") != 14 ||
        !cdx_field(line, "digest", digest, sizeof digest) || strlen(digest) != 32 ||
        !cdx_field(line, "url", url, sizeof url) ||
        (cdx_field(line, "mime", mime, sizeof mime) && strcmp(mime, "warc/revisit") == 0) ||
        seen_find(w, digest) != NULL)
      continue;
    stamp++;
    snprintf(date, sizeof date, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", stamp, stamp + 4, stamp + 6,
             stamp + 8, stamp + 10, stamp + 12);
    rc = seen_add(w, digest, url, date);
  }
  free(line);
  fclose(f);
  return rc;
}

/* The first index with no file: a resumed crawl goes on in a new file. */
static unsigned next_free_index(const char *prefix) {
  char path[1100];
  struct stat st;
  unsigned i = 0;
  for (;; i++) {
    snprintf(path, sizeof path, "%s-%05u.warc.gz", prefix, i);
    if (stat(path, &st) != 0)
      return i;
  }
}

/* Control characters would break a warc-fields line. */
static char *one_line(const char *s) {
  char *copy = s != NULL ? strdup(s) : NULL;
  for (char *p = copy; p != NULL && *p != '\0'; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = ' ';
  return copy;
}

int uc_sink_warc_add(uc_sinks *s, const uc_warc_opts *o, char *err, size_t errlen) {
  err[0] = '\0';
  if (strlen(o->prefix) > 1000) {
    snprintf(err, errlen, "--warc: prefix too long");
    return UC_EINVAL;
  }
  warc *w = calloc(1, sizeof *w);
  if (w == NULL)
    return UC_ENOMEM;
  w->fd = w->cdx_fd = -1;
  w->tail = &w->first;
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->more, NULL);
  pthread_cond_init(&w->done, NULL);
  w->max_size = o->max_size;
  w->dedup = o->dedup;
  w->prefix = strdup(o->prefix);
  w->software = one_line(o->software);
  w->options = one_line(o->options);
  snprintf(w->what, sizeof w->what, "WARC files %s-*.warc.gz", o->prefix);
  if (getrandom(&w->rng, sizeof w->rng, 0) != (ssize_t)sizeof w->rng)
    w->rng ^= (uint64_t)(uintptr_t)w ^ (uint64_t)getpid() << 32;
  if (w->prefix == NULL || w->software == NULL || (o->options != NULL && w->options == NULL)) {
    warc_free(w);
    return UC_ENOMEM;
  }
  unsigned first = o->resume ? next_free_index(o->prefix) : 0;
  int rc = open_file(w, first, o->resume, err, errlen);
  if (rc == 0 && o->cdx_path != NULL && (w->cdx_path = strdup(o->cdx_path)) == NULL)
    rc = UC_ENOMEM;
  if (rc == 0 && o->cdx_path != NULL) {
    w->cdx_fd = open(o->cdx_path,
                     O_WRONLY | O_CREAT | O_CLOEXEC | (o->resume ? O_APPEND : O_TRUNC), 0644);
    if (w->cdx_fd < 0) {
      snprintf(err, errlen, "cannot create %s: %s", o->cdx_path, strerror(errno));
      rc = UC_EIO;
      /* Nothing half-written: the file just begun goes too. */
      char path[1100];
      snprintf(path, sizeof path, "%s-%05u.warc.gz", w->prefix, w->index);
      unlink(path);
    }
  }
  if (rc == 0 && o->resume && o->dedup && o->cdx_path != NULL)
    rc = reload_payloads(w, o->cdx_path);
  /* The files are open before the writer starts: from now on they are its. */
  if (rc == 0) {
    /* Note: the writer must take no signal. Started with them unblocked,
     * it could take the SIGINT that the threads engine waits for with
     * sigwait (the early handler would count it, too late) and the crawl
     * would never drain. It inherits a full mask. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
      rc = UC_ENOMEM;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  }
  if (rc != 0) {
    int e = errno;
    warc_close(w);
    errno = e;
    return rc;
  }
  w->thread_on = true;
  return uc_sinks_add(s, &warc_ops, w);
}
