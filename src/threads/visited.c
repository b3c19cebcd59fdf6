/* visited.c - striped-mutex and lock-free visited sets (see visited.h). */
#include "visited.h"

#include <stdalign.h>
#include <stdlib.h>

#include "lfset.h"
#include "lock.h"
#include "uvcrawl/error.h"
#include "uvcrawl/seen.h"

/* One stripe of the mutex kind, on its own cache line so that two stripes'
 * locks do not share a line that bounces between cores. */
typedef struct stripe {
  alignas(64) thr_lock lock; /* protects seen */
  uc_seen *seen;
} stripe;

struct thr_visited {
  uc_seen_kind kind;
  uc_seen *hasher; /* only its key is read (uc_seen_hash): thread-safe */
  stripe *stripes; /* UC_SEEN_MUTEX: THR_VISITED_STRIPES of them */
  thr_lfset *lf;   /* UC_SEEN_LOCKFREE */
#ifdef THR_INVERT_LOCK_ORDER
  void (*under_stripe)(void *ctx); /* the inverted build's hook (visited.h) */
  void *under_stripe_ctx;
#endif
};

#ifdef THR_INVERT_LOCK_ORDER
void thr_visited_set_hook(thr_visited *v, void (*fn)(void *ctx), void *ctx) {
  v->under_stripe = fn;
  v->under_stripe_ctx = ctx;
}
#endif

int thr_visited_new(thr_visited **out, uc_seen_kind kind, uc_sync_kind sync, const uint64_t key[2],
                    unsigned lf_log2) {
  if (kind != UC_SEEN_MUTEX && kind != UC_SEEN_LOCKFREE)
    return UC_EINVAL;
  thr_visited *v = calloc(1, sizeof *v);
  if (v == NULL)
    return UC_ENOMEM;
  v->kind = kind;
  uc_seen_opts o = {.expected = 0, .key = {key[0], key[1]}};
  int rc = uc_seen_new(&v->hasher, &o);
  if (rc == 0 && kind == UC_SEEN_LOCKFREE) {
    rc = thr_lfset_new(&v->lf, lf_log2 != 0 ? lf_log2 : THR_LFSET_DEFAULT_LOG2, 0);
  } else if (rc == 0) {
    v->stripes = aligned_alloc(alignof(stripe), THR_VISITED_STRIPES * sizeof *v->stripes);
    if (v->stripes == NULL)
      rc = UC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < THR_VISITED_STRIPES; i++) {
      o.expected = 256;
      if ((rc = uc_seen_new(&v->stripes[i].seen, &o)) == 0)
        thr_lock_init(&v->stripes[i].lock, sync, "visited.stripe");
      else
        while (i-- > 0) {
          thr_lock_destroy(&v->stripes[i].lock);
          uc_seen_free(v->stripes[i].seen);
        }
    }
    if (rc != 0) {
      free(v->stripes);
      v->stripes = NULL;
    }
  }
  if (rc != 0) {
    thr_visited_free(v);
    return rc;
  }
  *out = v;
  return 0;
}

void thr_visited_free(thr_visited *v) {
  if (v == NULL)
    return;
  if (v->stripes != NULL) {
    for (size_t i = 0; i < THR_VISITED_STRIPES; i++) {
      thr_lock_destroy(&v->stripes[i].lock);
      uc_seen_free(v->stripes[i].seen);
    }
    free(v->stripes);
  }
  thr_lfset_free(v->lf);
  uc_seen_free(v->hasher);
  free(v);
}

uint64_t thr_visited_hash(const thr_visited *v, const char *url, size_t len) {
  return uc_seen_hash(v->hasher, url, len);
}

int thr_visited_insert_hash(thr_visited *v, uint64_t fp) {
  if (v->kind == UC_SEEN_LOCKFREE)
    return thr_lfset_insert(v->lf, fp);
  /* Top bits pick the stripe: uc_seen indexes its table with the low bits,
   * so the stripes' tables stay evenly filled. */
  _Static_assert(THR_VISITED_STRIPES == 64, "the stripe is the top 6 bits");
  stripe *s = &v->stripes[fp >> 58];
  thr_lock_lock(&s->lock);
  int rc = uc_seen_insert_hash(s->seen, fp);
#ifdef THR_INVERT_LOCK_ORDER
  if (v->under_stripe != NULL)
    v->under_stripe(v->under_stripe_ctx);
#endif
  thr_lock_unlock(&s->lock);
  return rc;
}

int thr_visited_insert(void *ctx, const char *url, size_t len) {
  thr_visited *v = ctx;
  return thr_visited_insert_hash(v, thr_visited_hash(v, url, len));
}

size_t thr_visited_count(thr_visited *v) {
  if (v->kind == UC_SEEN_LOCKFREE)
    return thr_lfset_count(v->lf);
  size_t n = 0;
  for (size_t i = 0; i < THR_VISITED_STRIPES; i++) {
    thr_lock_lock(&v->stripes[i].lock);
    n += uc_seen_count(v->stripes[i].seen);
    thr_lock_unlock(&v->stripes[i].lock);
  }
  return n;
}
