/* chan.c - a bounded MPMC channel: ring buffer, one mutex, two condvars. */
#include "chan.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "uvcrawl/error.h"

struct thr_chan {
  /* lock protects everything below it: the ring (items, head, len) and
   * closed. The condition variables are used with lock only. */
  pthread_mutex_t lock;
  pthread_cond_t not_full;  /* signalled when len drops, and on close */
  pthread_cond_t not_empty; /* signalled when len grows, and on close */
  size_t capacity;
  size_t head; /* index of the oldest item */
  size_t len;  /* items in the ring */
  bool closed;
  void **items; /* capacity slots */
};

int thr_chan_new(thr_chan **out, size_t capacity) {
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
  pthread_mutex_init(&ch->lock, NULL);
  pthread_cond_init(&ch->not_full, NULL);
  pthread_cond_init(&ch->not_empty, NULL);
  *out = ch;
  return 0;
}

int thr_chan_reserve(thr_chan *ch, size_t capacity) {
  pthread_mutex_lock(&ch->lock);
  if (capacity <= ch->capacity) {
    pthread_mutex_unlock(&ch->lock);
    return 0;
  }
  if (capacity < ch->capacity * 2)
    capacity = ch->capacity * 2;
  void **items = capacity <= SIZE_MAX / sizeof *items ? malloc(capacity * sizeof *items) : NULL;
  if (items == NULL) {
    pthread_mutex_unlock(&ch->lock);
    return UC_ENOMEM;
  }
  for (size_t i = 0; i < ch->len; i++)
    items[i] = ch->items[(ch->head + i) % ch->capacity];
  free(ch->items);
  ch->items = items;
  ch->capacity = capacity;
  ch->head = 0;
  pthread_cond_broadcast(&ch->not_full);
  pthread_mutex_unlock(&ch->lock);
  return 0;
}

void thr_chan_free(thr_chan *ch) {
  if (ch == NULL)
    return;
  pthread_cond_destroy(&ch->not_empty);
  pthread_cond_destroy(&ch->not_full);
  pthread_mutex_destroy(&ch->lock);
  free(ch->items);
  free(ch);
}

int thr_chan_send(thr_chan *ch, void *item) {
  pthread_mutex_lock(&ch->lock);
  while (!ch->closed && ch->len == ch->capacity)
    pthread_cond_wait(&ch->not_full, &ch->lock);
  if (ch->closed) {
    pthread_mutex_unlock(&ch->lock);
    return UC_ECLOSED;
  }
  ch->items[(ch->head + ch->len) % ch->capacity] = item;
  ch->len++;
  /* One item: one receiver can use it. Waking more would only make the
   * others find the ring empty again. */
  pthread_cond_signal(&ch->not_empty);
  pthread_mutex_unlock(&ch->lock);
  return 0;
}

/* Take the head; lock held and len > 0. */
static void *pop_locked(thr_chan *ch) {
  void *item = ch->items[ch->head];
  ch->items[ch->head] = NULL;
  ch->head = (ch->head + 1) % ch->capacity;
  ch->len--;
  pthread_cond_signal(&ch->not_full);
  return item;
}

int thr_chan_recv(thr_chan *ch, void **out) {
  pthread_mutex_lock(&ch->lock);
  while (!ch->closed && ch->len == 0)
    pthread_cond_wait(&ch->not_empty, &ch->lock);
  /* Note: closed is checked after len, so that items sent before the close
   * are still handed out: a close never loses work. */
  int rc = UC_ECLOSED;
  if (ch->len > 0) {
    *out = pop_locked(ch);
    rc = 0;
  }
  pthread_mutex_unlock(&ch->lock);
  return rc;
}

int thr_chan_try_recv(thr_chan *ch, void **out) {
  pthread_mutex_lock(&ch->lock);
  int rc = ch->closed ? UC_ECLOSED : UC_EAGAIN;
  if (ch->len > 0) {
    *out = pop_locked(ch);
    rc = 0;
  }
  pthread_mutex_unlock(&ch->lock);
  return rc;
}

void thr_chan_close(thr_chan *ch) {
  pthread_mutex_lock(&ch->lock);
  ch->closed = true;
  pthread_cond_broadcast(&ch->not_full);
  pthread_cond_broadcast(&ch->not_empty);
  pthread_mutex_unlock(&ch->lock);
}

size_t thr_chan_len(thr_chan *ch) {
  pthread_mutex_lock(&ch->lock);
  size_t len = ch->len;
  pthread_mutex_unlock(&ch->lock);
  return len;
}
