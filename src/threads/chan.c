/* chan.c - a bounded MPMC channel: ring buffer, one mutex, two condvars
 * (pthreads' or the futex ones, see lock.h). */
#include "chan.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "lock.h"
#include "uvcrawl/error.h"

struct thr_chan {
  /* lock protects everything below it: the ring (items, head, len) and
   * closed. The condition variables are used with lock only. */
  thr_lock lock;
  thr_cond not_full;  /* signalled when len drops, and on close */
  thr_cond not_empty; /* signalled when len grows, and on close */
  size_t capacity;
  size_t head; /* index of the oldest item */
  size_t len;  /* items in the ring */
  bool closed;
  void **items; /* capacity slots */
};

int thr_chan_new(thr_chan **out, size_t capacity, uc_sync_kind sync) {
  if (capacity == 0)
    return UC_EINVAL;
  thr_chan *ch = calloc(1, sizeof *ch);
  if (ch == NULL)
    return UC_ENOMEM;
  ch->items = calloc(capacity, sizeof *ch->items);
  if (ch->items == NULL) {
    free(ch);
    return UC_ENOMEM;
  }
  ch->capacity = capacity;
  thr_lock_init(&ch->lock, sync, "chan.lock");
  thr_cond_init(&ch->not_full, sync);
  thr_cond_init(&ch->not_empty, sync);
  *out = ch;
  return 0;
}

int thr_chan_reserve(thr_chan *ch, size_t capacity) {
  thr_lock_lock(&ch->lock);
  if (capacity <= ch->capacity) {
    thr_lock_unlock(&ch->lock);
    return 0;
  }
  if (capacity < ch->capacity * 2)
    capacity = ch->capacity * 2;
  void **items = capacity <= SIZE_MAX / sizeof *items ? malloc(capacity * sizeof *items) : NULL;
  if (items == NULL) {
    thr_lock_unlock(&ch->lock);
    return UC_ENOMEM;
  }
  for (size_t i = 0; i < ch->len; i++)
    items[i] = ch->items[(ch->head + i) % ch->capacity];
  free(ch->items);
  ch->items = items;
  ch->capacity = capacity;
  ch->head = 0;
  thr_cond_broadcast(&ch->not_full);
  thr_lock_unlock(&ch->lock);
  return 0;
}

void thr_chan_free(thr_chan *ch) {
  if (ch == NULL)
    return;
  thr_cond_destroy(&ch->not_empty);
  thr_cond_destroy(&ch->not_full);
  thr_lock_destroy(&ch->lock);
  free(ch->items);
  free(ch);
}

int thr_chan_send(thr_chan *ch, void *item) {
  thr_lock_lock(&ch->lock);
  while (!ch->closed && ch->len == ch->capacity)
    thr_cond_wait(&ch->not_full, &ch->lock);
  if (ch->closed) {
    thr_lock_unlock(&ch->lock);
    return UC_ECLOSED;
  }
  ch->items[(ch->head + ch->len) % ch->capacity] = item;
  ch->len++;
  /* One item: one receiver can use it. Waking more would only make the
   * others find the ring empty again. */
  thr_cond_signal(&ch->not_empty);
  thr_lock_unlock(&ch->lock);
  return 0;
}

/* Take the head; lock held and len > 0. */
static void *pop_locked(thr_chan *ch) {
  void *item = ch->items[ch->head];
  ch->items[ch->head] = NULL;
  ch->head = (ch->head + 1) % ch->capacity;
  ch->len--;
  thr_cond_signal(&ch->not_full);
  return item;
}

int thr_chan_recv(thr_chan *ch, void **out) {
  thr_lock_lock(&ch->lock);
  while (!ch->closed && ch->len == 0)
    thr_cond_wait(&ch->not_empty, &ch->lock);
  /* Note: closed is checked after len, so that items sent before the close
   * are still handed out: a close never loses work. */
  int rc = UC_ECLOSED;
  if (ch->len > 0) {
    *out = pop_locked(ch);
    rc = 0;
  }
  thr_lock_unlock(&ch->lock);
  return rc;
}

int thr_chan_try_recv(thr_chan *ch, void **out) {
  thr_lock_lock(&ch->lock);
  int rc = ch->closed ? UC_ECLOSED : UC_EAGAIN;
  if (ch->len > 0) {
    *out = pop_locked(ch);
    rc = 0;
  }
  thr_lock_unlock(&ch->lock);
  return rc;
}

void thr_chan_close(thr_chan *ch) {
  thr_lock_lock(&ch->lock);
  ch->closed = true;
  thr_cond_broadcast(&ch->not_full);
  thr_cond_broadcast(&ch->not_empty);
  thr_lock_unlock(&ch->lock);
}

size_t thr_chan_len(thr_chan *ch) {
  thr_lock_lock(&ch->lock);
  size_t len = ch->len;
  thr_lock_unlock(&ch->lock);
  return len;
}
