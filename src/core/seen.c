/* seen.c - visited set of URL fingerprints (see seen.h). */
#include "uvcrawl/seen.h"

#include <stdlib.h>
#include <string.h>

#include "uvcrawl/error.h"

/* Smallest table: 16 slots (128 bytes). */
#define SEEN_MIN_SLOTS 16u

struct uc_seen {
  uint64_t *slots; /* owned; `mask + 1` fingerprints, 0 = empty */
  size_t mask;     /* slot count - 1; the slot count is a power of two */
  size_t count;    /* non-empty slots */
  uint64_t key[2]; /* SipHash key */
};

/* ---- SipHash-2-4 ---------------------------------------------------------- */

static inline uint64_t rotl64(uint64_t x, unsigned b) {
  return (x << b) | (x >> (64 - b));
}

/* Little-endian load, whatever the host byte order and alignment. */
static inline uint64_t load_le64(const unsigned char *p) {
  return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
         (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

#define SIPROUND(v0, v1, v2, v3)                                                                   \
  do {                                                                                             \
    v0 += v1;                                                                                      \
    v1 = rotl64(v1, 13);                                                                           \
    v1 ^= v0;                                                                                      \
    v0 = rotl64(v0, 32);                                                                           \
    v2 += v3;                                                                                      \
    v3 = rotl64(v3, 16);                                                                           \
    v3 ^= v2;                                                                                      \
    v0 += v3;                                                                                      \
    v3 = rotl64(v3, 21);                                                                           \
    v3 ^= v0;                                                                                      \
    v2 += v1;                                                                                      \
    v1 = rotl64(v1, 17);                                                                           \
    v1 ^= v2;                                                                                      \
    v2 = rotl64(v2, 32);                                                                           \
  } while (0)

/* SipHash-2-4 as the paper describes it: four state words initialised from
 * the key and the constants "somepseudorandomlygeneratedbytes", two rounds per
 * 8-byte message word, a last word holding the remaining bytes and the length
 * mod 256 in its top byte, then 0xff into v2 and four finalisation rounds. */
uint64_t uc_siphash24(const uint64_t key[2], const void *bytes, size_t len) {
  const unsigned char *p = bytes;
  uint64_t k0 = key[0], k1 = key[1];
  uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
  uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
  uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
  uint64_t v3 = k1 ^ 0x7465646279746573ULL;

  const unsigned char *end = p + (len & ~(size_t)7);
  for (; p != end; p += 8) {
    uint64_t m = load_le64(p);
    v3 ^= m;
    SIPROUND(v0, v1, v2, v3);
    SIPROUND(v0, v1, v2, v3);
    v0 ^= m;
  }

  uint64_t last = (uint64_t)(len & 0xff) << 56;
  switch (len & 7) {
  case 7:
    last |= (uint64_t)p[6] << 48;
    /* fall through */
  case 6:
    last |= (uint64_t)p[5] << 40;
    /* fall through */
  case 5:
    last |= (uint64_t)p[4] << 32;
    /* fall through */
  case 4:
    last |= (uint64_t)p[3] << 24;
    /* fall through */
  case 3:
    last |= (uint64_t)p[2] << 16;
    /* fall through */
  case 2:
    last |= (uint64_t)p[1] << 8;
    /* fall through */
  case 1:
    last |= (uint64_t)p[0];
    break;
  default:
    break;
  }
  v3 ^= last;
  SIPROUND(v0, v1, v2, v3);
  SIPROUND(v0, v1, v2, v3);
  v0 ^= last;

  v2 ^= 0xff;
  SIPROUND(v0, v1, v2, v3);
  SIPROUND(v0, v1, v2, v3);
  SIPROUND(v0, v1, v2, v3);
  SIPROUND(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- the table ------------------------------------------------------------ */

/* Slots needed so that `n` entries keep the load at or below 3/4. */
static size_t slots_for(size_t n) {
  size_t slots = SEEN_MIN_SLOTS;
  while (slots - slots / 4 < n) {
    if (slots > SIZE_MAX / 2 / sizeof(uint64_t))
      return 0;
    slots *= 2;
  }
  return slots;
}

/* Linear probe for `fp`: the slot holding it, or the empty slot where it
 * belongs. Terminates because the load never reaches 1. */
static size_t probe(const uint64_t *slots, size_t mask, uint64_t fp) {
  /* The fingerprint is already a uniform keyed hash: its low bits index. */
  size_t i = (size_t)fp & mask;
  while (slots[i] != 0 && slots[i] != fp)
    i = (i + 1) & mask;
  return i;
}

static int grow(uc_seen *s, size_t slots) {
  uint64_t *fresh = calloc(slots, sizeof(*fresh));
  if (fresh == NULL)
    return UC_ENOMEM;
  size_t mask = slots - 1;
  for (size_t i = 0; i <= s->mask; i++) {
    uint64_t fp = s->slots[i];
    if (fp != 0)
      fresh[probe(fresh, mask, fp)] = fp;
  }
  free(s->slots);
  s->slots = fresh;
  s->mask = mask;
  return 0;
}

int uc_seen_new(uc_seen **out, const uc_seen_opts *o) {
  *out = NULL;
  uc_seen *s = calloc(1, sizeof(*s));
  if (s == NULL)
    return UC_ENOMEM;
  size_t slots = slots_for(o ? o->expected : 0);
  if (slots == 0) {
    free(s);
    return UC_ENOMEM;
  }
  s->slots = calloc(slots, sizeof(*s->slots));
  if (s->slots == NULL) {
    free(s);
    return UC_ENOMEM;
  }
  s->mask = slots - 1;
  if (o != NULL) {
    s->key[0] = o->key[0];
    s->key[1] = o->key[1];
  }
  *out = s;
  return 0;
}

void uc_seen_free(uc_seen *s) {
  if (s == NULL)
    return;
  free(s->slots);
  free(s);
}

uint64_t uc_seen_hash(const uc_seen *s, const void *bytes, size_t len) {
  return uc_seen_fp(uc_siphash24(s->key, bytes, len));
}

int uc_seen_insert_hash(uc_seen *s, uint64_t fp) {
  fp = uc_seen_fp(fp);
  size_t i = probe(s->slots, s->mask, fp);
  if (s->slots[i] == fp)
    return 0;
  size_t slots = s->mask + 1;
  if (s->count + 1 > slots - slots / 4) {
    if (slots > SIZE_MAX / 2 / sizeof(uint64_t))
      return UC_ENOMEM;
    int rc = grow(s, slots * 2);
    if (rc != 0)
      return rc;
    i = probe(s->slots, s->mask, fp);
  }
  s->slots[i] = fp;
  s->count++;
  return 1;
}

int uc_seen_insert(uc_seen *s, const char *url, size_t len) {
  return uc_seen_insert_hash(s, uc_seen_hash(s, url, len));
}

bool uc_seen_contains(const uc_seen *s, const char *url, size_t len) {
  uint64_t fp = uc_seen_hash(s, url, len);
  return s->slots[probe(s->slots, s->mask, fp)] == fp;
}

size_t uc_seen_count(const uc_seen *s) {
  return s->count;
}

size_t uc_seen_memory(const uc_seen *s) {
  return (s->mask + 1) * sizeof(*s->slots) + sizeof(*s);
}
