/* charset.c - declared encodings and conversion to UTF-8 (see charset.h). */
#include "uvcrawl/charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "uvcrawl/error.h"

/* Copy a charset name (letters, digits, - _ . : ) lower-cased. */
static void copy_name(const char *s, size_t n, char *buf, size_t buflen) {
  size_t k = 0;
  while (k < n && k + 1 < buflen &&
         (strchr("-_.:", s[k]) != NULL || (s[k] >= '0' && s[k] <= '9') ||
          ((s[k] | 0x20) >= 'a' && (s[k] | 0x20) <= 'z'))) {
    buf[k] = (char)((s[k] >= 'A' && s[k] <= 'Z') ? s[k] | 0x20 : s[k]);
    k++;
  }
  buf[k] = '\0';
}

/* The value after "charset=" in s[0..n), quotes allowed, or NULL. */
static const char *charset_param(const char *s, size_t n, size_t *vlen) {
  for (size_t i = 0; i + 8 <= n; i++) {
    if (strncasecmp(s + i, "charset", 7) != 0)
      continue;
    size_t j = i + 7;
    while (j < n && (s[j] == ' ' || s[j] == '\t'))
      j++;
    if (j >= n || s[j] != '=')
      continue;
    j++;
    while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '"' || s[j] == '\''))
      j++;
    *vlen = n - j;
    return s + j;
  }
  return NULL;
}

void uc_charset_detect(const char *content_type, const char *body, size_t len, char *buf,
                       size_t buflen) {
  size_t vlen;
  const char *v;
  buf[0] = '\0';
  if (content_type != NULL && (v = charset_param(content_type, strlen(content_type), &vlen))) {
    copy_name(v, vlen, buf, buflen);
    if (buf[0] != '\0')
      return;
  }
  /* Note: a cheap prescan, not the HTML spec's full algorithm: the first
   * charset= inside a <meta ...> tag of the first 1024 bytes wins. */
  size_t n = len < UC_CHARSET_PRESCAN ? len : UC_CHARSET_PRESCAN;
  for (size_t i = 0; i + 5 < n; i++) {
    if (body[i] != '<' || strncasecmp(body + i + 1, "meta", 4) != 0)
      continue;
    const char *end = memchr(body + i, '>', n - i);
    size_t tag = end != NULL ? (size_t)(end - (body + i)) : n - i;
    if ((v = charset_param(body + i, tag, &vlen)) != NULL) {
      copy_name(v, vlen, buf, buflen);
      return;
    }
  }
}

static int is_utf8_name(const char *name) {
  return name[0] == '\0' || strcmp(name, "utf-8") == 0 || strcmp(name, "utf8") == 0 ||
         strcmp(name, "us-ascii") == 0 || strcmp(name, "ascii") == 0;
}

/* The converter from the page's encoding to UTF-8, or (iconv_t)-1 when
 * the body is read as it is: UTF-8, ASCII, or a label iconv does not
 * know (then parsed as UTF-8, as gumbo would). */
static iconv_t converter(const char *content_type, const char *body, size_t len) {
  char name[48];
  uc_charset_detect(content_type, body, len, name, sizeof name);
  /* The HTML spec reads latin-1 labels as windows-1252. */
  if (strcmp(name, "iso-8859-1") == 0 || strcmp(name, "latin1") == 0)
    strcpy(name, "windows-1252");
  return is_utf8_name(name) ? (iconv_t)-1 : iconv_open("UTF-8", name);
}

bool uc_charset_as_is(const char *content_type, const char *body, size_t len) {
  iconv_t cd = converter(content_type, body, len);
  if (cd == (iconv_t)-1)
    return true;
  iconv_close(cd);
  return false;
}

int uc_charset_to_utf8(const char *content_type, const char *body, size_t len, char **out,
                       size_t *outlen) {
  *out = NULL;
  *outlen = 0;
  iconv_t cd = converter(content_type, body, len);
  if (cd == (iconv_t)-1)
    return 0;
  size_t cap = len * 3 + 16; /* no single-byte or CJK encoding grows more */
  char *dst = malloc(cap);
  if (dst == NULL) {
    iconv_close(cd);
    return UC_ENOMEM;
  }
  char *in = (char *)body, *o = dst;
  size_t inleft = len, outleft = cap;
  while (inleft > 0) {
    if (iconv(cd, &in, &inleft, &o, &outleft) != (size_t)-1)
      break;
    if (errno == E2BIG || outleft < 3)
      break; /* cannot happen with cap = 3x; stop rather than overrun */
    /* EILSEQ or EINVAL: one undecodable byte becomes U+FFFD. */
    memcpy(o, "\xef\xbf\xbd", 3);
    o += 3, outleft -= 3;
    in++, inleft--;
  }
  iconv_close(cd);
  *out = dst;
  *outlen = (size_t)(o - dst);
  return 0;
}
