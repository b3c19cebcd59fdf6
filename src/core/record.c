/* record.c - JSON Lines crawl records and JSON string escaping (see record.h). */
#include "uvcrawl/record.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "uvcrawl/error.h"
#include "uvcrawl/url.h"

static const char json_hex[] = "0123456789abcdef";

/* Undo a partial append. Note: len < cap guards a caller whose buffer was
 * never allocated (data == NULL, cap == 0). */
static void buf_rollback(uc_buf *out, size_t len) {
  out->len = len;
  if (out->data != NULL && len < out->cap)
    out->data[len] = '\0';
}

/*
 * Length of the well-formed UTF-8 sequence at s (n >= 1 bytes available),
 * or 0 if the lead byte starts no valid sequence. The second-byte ranges
 * exclude overlong forms (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and
 * code points above U+10FFFF (F4 90..BF); C0, C1 and F5..FF never lead.
 */
static size_t utf8_sequence_len(const unsigned char *s, size_t n) {
  unsigned char lead = s[0], lo = 0x80, hi = 0xBF;
  size_t need;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 3;
    if (lead == 0xE0)
      lo = 0xA0;
    else if (lead == 0xED)
      hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 4;
    if (lead == 0xF0)
      lo = 0x90;
    else if (lead == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  if (n < need || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t k = 2; k < need; k++)
    if ((s[k] & 0xC0) != 0x80)
      return 0;
  return need;
}

/* The escape for one ASCII byte, or NULL if it goes out as is. */
static const char *ascii_escape(unsigned char c, char scratch[7]) {
  switch (c) {
  case '"':
    return "\\\"";
  case '\\':
    return "\\\\";
  case '\b':
    return "\\b";
  case '\f':
    return "\\f";
  case '\n':
    return "\\n";
  case '\r':
    return "\\r";
  case '\t':
    return "\\t";
  default:
    break;
  }
  if (c >= 0x20 && c != 0x7f)
    return NULL;
  memcpy(scratch, "\\u00", 4);
  scratch[4] = json_hex[c >> 4];
  scratch[5] = json_hex[c & 15];
  scratch[6] = '\0';
  return scratch;
}

int uc_json_append_string(uc_buf *out, const char *s, size_t len) {
  assert(out != NULL && (s != NULL || len == 0));
  const unsigned char *p = (const unsigned char *)s;
  size_t len0 = out->len;
  /* Most strings need no escaping: one reservation covers them. */
  int rc = uc_buf_reserve(out, len < SIZE_MAX - 2 ? len + 2 : len);
  if (rc == 0)
    rc = uc_buf_append(out, "\"", 1);
  size_t run = 0; /* start of the bytes not yet copied out */
  size_t i = 0;
  while (rc == 0 && i < len) {
    char scratch[7];
    const char *esc;
    size_t take = 1; /* input bytes replaced by esc */
    if (p[i] < 0x80) {
      esc = ascii_escape(p[i], scratch);
    } else {
      size_t n = utf8_sequence_len(p + i, len - i);
      if (n == 3 && p[i] == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
        esc = p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
        take = 3;
      } else if (n > 0) {
        i += n;
        continue;
      } else {
        /* One replacement per byte: a following continuation byte is stray
         * on its own and gets its own U+FFFD. */
        esc = "\\ufffd";
      }
    }
    if (esc == NULL) {
      i++;
      continue;
    }
    rc = uc_buf_append(out, s + run, i - run);
    if (rc == 0)
      rc = uc_buf_puts(out, esc);
    i += take;
    run = i;
  }
  if (rc == 0)
    rc = uc_buf_append(out, s + run, len - run);
  if (rc == 0)
    rc = uc_buf_append(out, "\"", 1);
  if (rc != 0)
    buf_rollback(out, len0);
  return rc;
}

int uc_json_append_string0(uc_buf *out, const char *s) {
  assert(out != NULL);
  if (s == NULL)
    return uc_buf_append(out, "null", 4);
  return uc_json_append_string(out, s, strlen(s));
}

/* Appends with a sticky error, so the record reads as a list of fields. */
typedef struct record_writer {
  uc_buf *out;
  int rc;
} record_writer;

static void put_raw(record_writer *w, const char *text) {
  if (w->rc == 0)
    w->rc = uc_buf_puts(w->out, text);
}

static const char *const header_names[UC_RECORD_HEADER_COUNT] = {
#define UC_RECORD_HEADER_NAME_(name, header, key) [UC_RECORD_HEADER_##name] = header,
    UC_RECORD_HEADERS(UC_RECORD_HEADER_NAME_)
#undef UC_RECORD_HEADER_NAME_
};

static const char *const header_keys[UC_RECORD_HEADER_COUNT] = {
#define UC_RECORD_HEADER_KEY_(name, header, key) [UC_RECORD_HEADER_##name] = key,
    UC_RECORD_HEADERS(UC_RECORD_HEADER_KEY_)
#undef UC_RECORD_HEADER_KEY_
};

const char *uc_record_header_name(int i) {
  return i >= 0 && i < UC_RECORD_HEADER_COUNT ? header_names[i] : NULL;
}

int uc_json_append_url(uc_buf *out, const char *url) {
  size_t start, len;
  if (url == NULL || !uc_url_password(url, &start, &len))
    return uc_json_append_string0(out, url);
  uc_buf masked = UC_BUF_INIT;
  int rc = uc_url_mask(url, &masked);
  if (rc == 0)
    rc = uc_json_append_string(out, masked.data, masked.len);
  uc_buf_free(&masked);
  return rc;
}

static void put_string(record_writer *w, const char *key, const char *s) {
  put_raw(w, key);
  if (w->rc == 0)
    w->rc = uc_json_append_string0(w->out, s);
}

static void put_url(record_writer *w, const char *key, const char *url) {
  put_raw(w, key);
  if (w->rc == 0)
    w->rc = uc_json_append_url(w->out, url);
}

static void put_long(record_writer *w, const char *key, long long v, bool is_null) {
  put_raw(w, key);
  if (w->rc != 0)
    return;
  if (is_null)
    w->rc = uc_buf_puts(w->out, "null");
  else
    w->rc = uc_buf_printf(w->out, "%lld", v);
}

/*
 * One decimal, built from integers. Note: printf("%.1f") would follow
 * LC_NUMERIC and write "12,3" once anything in the process calls
 * setlocale(LC_ALL, ""), which is not JSON.
 */
static void put_ms(record_writer *w, const char *key, double ms) {
  put_raw(w, key);
  if (w->rc != 0)
    return;
  if (!isfinite(ms)) {
    w->rc = uc_buf_puts(w->out, "null");
  } else if (fabs(ms) < 1e15) {
    long long tenths = llround(ms * 10.0);
    unsigned long long mag =
        tenths < 0 ? 0ULL - (unsigned long long)tenths : (unsigned long long)tenths;
    w->rc = uc_buf_printf(w->out, "%s%llu.%llu", tenths < 0 ? "-" : "", mag / 10, mag % 10);
  } else {
    /* No fraction digit left to show; "%.0f" prints no decimal point. */
    w->rc = uc_buf_printf(w->out, "%.0f.0", ms);
  }
}

int uc_record_format(uc_buf *out, const uc_record *r) {
  assert(out != NULL && r != NULL);
  size_t len0 = out->len;
  record_writer w = {out, 0};
  put_url(&w, "{\"url\":", r->url);
  put_url(&w, ",\"final_url\":", r->final_url);
  put_long(&w, ",\"status\":", r->status, r->status == 0);
  put_long(&w, ",\"depth\":", r->depth, false);
  put_url(&w, ",\"parent\":", r->parent);
  put_string(&w, ",\"content_type\":", r->content_type);
  put_raw(&w, ",\"bytes\":");
  if (w.rc == 0)
    w.rc = uc_buf_printf(out, "%" PRIu64, r->bytes);
  put_ms(&w, ",\"fetch_ms\":", r->fetch_ms);
  put_long(&w, ",\"links\":", r->links, r->links == -1);
  put_long(&w, ",\"new_links\":", r->new_links, r->new_links == -1);
  put_string(&w, ",\"error\":", r->error);
  put_string(&w, ",\"engine\":", r->engine);
  put_long(&w, ",\"attempts\":", (long long)r->attempts, false);
  if (r->http_version != NULL)
    put_string(&w, ",\"http_version\":", r->http_version);
  if (r->tls_version != NULL)
    put_string(&w, ",\"tls_version\":", r->tls_version);
  if (r->tls_handshake != NULL)
    put_string(&w, ",\"tls_handshake\":", r->tls_handshake);
  if (r->cause != NULL)
    put_string(&w, ",\"cause\":", r->cause);
  if (r->truncated)
    put_raw(&w, ",\"truncated\":true");
  if (r->headers != NULL) {
    put_raw(&w, ",\"headers\":{");
    bool first = true;
    for (int i = 0; i < UC_RECORD_HEADER_COUNT; i++) {
      if (r->headers[i] == NULL)
        continue;
      put_raw(&w, first ? "\"" : ",\"");
      put_raw(&w, header_keys[i]);
      put_string(&w, "\":", r->headers[i]);
      first = false;
    }
    put_raw(&w, "}");
  }
  put_raw(&w, "}\n");
  if (w.rc != 0)
    buf_rollback(out, len0);
  return w.rc;
}
