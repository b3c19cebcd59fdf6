/*
 * chan - a bounded multi-producer multi-consumer channel of pointers.
 *
 * A ring buffer of void* behind one mutex, with two condition variables:
 * senders wait on not_full, receivers on not_empty. Closing is a state of
 * the channel: it wakes every waiter; later sends fail; receivers still get
 * every item sent before the close, then UC_ECLOSED. The channel never
 * looks inside an item and never frees one.
 *
 * Thread-safe: every function but _new and _free may be called from any
 * thread at any time; _free only once no thread uses the channel. The
 * capacity is set at creation and grows only by thr_chan_reserve.
 */
#ifndef UVCRAWL_THR_CHAN_H
#define UVCRAWL_THR_CHAN_H

#include <stddef.h>

#include "uvcrawl/config.h" /* uc_sync_kind */

typedef struct thr_chan thr_chan;

/**
 * Create an open, empty channel.
 * @param out       receives the channel (owned by the caller, free with
 *                  thr_chan_free).
 * @param capacity  items it holds before send blocks, >= 1.
 * @param sync      its lock and condition variables: pthreads' or futex.
 * @return 0, UC_EINVAL (capacity 0) or UC_ENOMEM.
 */
int thr_chan_new(thr_chan **out, size_t capacity, uc_sync_kind sync);

/**
 * Make room for at least `capacity` items: a larger ring (at least twice
 * the old one, so that growing one by one costs O(1) a slot), the items
 * kept in order. Wakes senders waiting for room. Never shrinks.
 * @return 0, or UC_ENOMEM (the channel is unchanged).
 */
int thr_chan_reserve(thr_chan *ch, size_t capacity);

/** Free the channel (items still in it are not freed); NULL is a no-op. */
void thr_chan_free(thr_chan *ch);

/**
 * Put an item at the tail, waiting while the channel is full.
 * @param item  ownership passes to whoever receives it (NULL is allowed).
 * @return 0, or UC_ECLOSED if the channel is (or gets) closed before the
 *         item went in; the caller then still owns the item.
 */
int thr_chan_send(thr_chan *ch, void *item);

/**
 * Take the item at the head, waiting while the channel is empty and open.
 * @param out  receives the item (ownership passes to the caller).
 * @return 0, or UC_ECLOSED once the channel is closed and empty.
 */
int thr_chan_recv(thr_chan *ch, void **out);

/**
 * Take the head item without waiting.
 * @return 0, UC_EAGAIN (empty and open) or UC_ECLOSED (closed and empty).
 */
int thr_chan_try_recv(thr_chan *ch, void **out);

/** Close: wake every waiter; idempotent. Items already in stay receivable. */
void thr_chan_close(thr_chan *ch);

/** Items in the channel now (a snapshot; it may change right after). */
size_t thr_chan_len(thr_chan *ch);

#endif /* UVCRAWL_THR_CHAN_H */
