/*
 * test_chan_mt - 64 threads hammer one thr_chan, 1,000 rounds.
 *
 * Each round: 32 producers send 16 distinct items each into a channel of
 * capacity 4 (so senders and receivers both block), 32 consumers receive
 * until UC_ECLOSED. In plain rounds the last producer closes the channel
 * when all is sent: every item must be received exactly once. In close
 * rounds the main thread closes it mid-stream, after a random number of
 * receptions: every item whose send returned 0 must be received exactly
 * once, no other item may appear, and sends after the close must fail.
 * Threads live across rounds; a barrier starts and ends each round.
 * argv[1] "futex" runs the channel on the hand-built locks (--sync futex).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "uvcrawl/error.h"
#include "check.h"

#define PRODUCERS 32
#define CONSUMERS 32
#define PER_PRODUCER 16
#define ITEMS (PRODUCERS * PER_PRODUCER)
#define CAPACITY 4
#define ROUNDS 1000


static struct {
  pthread_barrier_t start, end;
  uc_sync_kind sync; /* argv[1]: pthread (default) or futex */
  thr_chan *ch;
  bool quit;                  /* written by main before the start barrier */
  _Atomic int sent_ok[ITEMS]; /* 1 if send returned 0 */
  _Atomic int got[ITEMS];     /* receptions of each item */
  _Atomic int received;       /* total receptions this round */
  _Atomic int producers_done;
  _Atomic int late_send_ok; /* sends that succeeded after a failed one */
  atomic_bool closing;      /* set just before thr_chan_close */
} R;

static void *producer(void *arg) {
  int id = (int)(intptr_t)arg;
  for (;;) {
    pthread_barrier_wait(&R.start);
    if (R.quit)
      return NULL;
    bool failed = false;
    for (int k = 0; k < PER_PRODUCER; k++) {
      int item = id * PER_PRODUCER + k;
      /* item + 1: NULL is a legal item, but a 0 would hide a bug here */
      int rc = thr_chan_send(R.ch, (void *)(intptr_t)(item + 1));
      CHECK(rc == 0 || rc == UC_ECLOSED, "send rc %d", rc);
      if (rc == 0) {
        atomic_store(&R.sent_ok[item], 1);
        if (failed)
          atomic_fetch_add(&R.late_send_ok, 1); /* closed is forever */
      } else {
        failed = true;
      }
    }
    if (atomic_fetch_add(&R.producers_done, 1) == PRODUCERS - 1) {
      atomic_store(&R.closing, true);
      thr_chan_close(R.ch); /* the last producer ends a plain round */
    }
    pthread_barrier_wait(&R.end);
  }
}

static void *consumer(void *arg) {
  (void)arg;
  for (;;) {
    pthread_barrier_wait(&R.start);
    if (R.quit)
      return NULL;
    void *p;
    while (thr_chan_recv(R.ch, &p) == 0) {
      intptr_t item = (intptr_t)p - 1;
      CHECK(item >= 0 && item < ITEMS, "received a foreign item %ld", (long)item);
      atomic_fetch_add(&R.got[item], 1);
      atomic_fetch_add(&R.received, 1);
    }
    /* A wake-up with nothing to take (spurious, or stolen by another
     * receiver) must wait again, never end the receiver early. */
    CHECK(atomic_load(&R.closing), "recv returned UC_ECLOSED on an open channel");
    pthread_barrier_wait(&R.end);
  }
}

int main(int argc, char **argv) {
  pthread_t tids[PRODUCERS + CONSUMERS];
  R.sync = argc > 1 && strcmp(argv[1], "futex") == 0 ? UC_SYNC_FUTEX : UC_SYNC_PTHREAD;
  pthread_barrier_init(&R.start, NULL, PRODUCERS + CONSUMERS + 1);
  pthread_barrier_init(&R.end, NULL, PRODUCERS + CONSUMERS + 1);
  for (int i = 0; i < PRODUCERS; i++)
    CHECK(pthread_create(&tids[i], NULL, producer, (void *)(intptr_t)i) == 0, "create");
  for (int i = 0; i < CONSUMERS; i++)
    CHECK(pthread_create(&tids[PRODUCERS + i], NULL, consumer, NULL) == 0, "create");
  unsigned seed = 20261127;
  int close_rounds = 0, lost_sends = 0;
  for (int round = 0; round < ROUNDS; round++) {
    CHECK(thr_chan_new(&R.ch, CAPACITY, R.sync) == 0, "chan_new");
    for (int i = 0; i < ITEMS; i++) {
      atomic_store(&R.sent_ok[i], 0);
      atomic_store(&R.got[i], 0);
    }
    atomic_store(&R.received, 0);
    atomic_store(&R.producers_done, 0);
    atomic_store(&R.late_send_ok, 0);
    atomic_store(&R.closing, false);
    bool close_early = round % 2 == 1;
    int close_after = (int)(rand_r(&seed) % ITEMS);
    pthread_barrier_wait(&R.start);
    if (close_early) {
      /* Close once close_after items went through (or all producers are
       * done): a bounded wait on the event, yielding the CPU. */
      while (atomic_load(&R.received) < close_after && atomic_load(&R.producers_done) < PRODUCERS)
        sched_yield();
      atomic_store(&R.closing, true);
      thr_chan_close(R.ch);
      close_rounds++;
    }
    pthread_barrier_wait(&R.end);
    int sent = 0;
    for (int i = 0; i < ITEMS; i++) {
      int ok = atomic_load(&R.sent_ok[i]), got = atomic_load(&R.got[i]);
      CHECK(got == ok, "round %d item %d: sent %d, received %d times", round, i, ok, got);
      sent += ok;
    }
    CHECK(close_early || sent == ITEMS, "round %d: only %d of %d sent", round, sent, ITEMS);
    CHECK(atomic_load(&R.received) == sent, "round %d: received %d of %d", round,
          atomic_load(&R.received), sent);
    CHECK(atomic_load(&R.late_send_ok) == 0, "round %d: a send succeeded after close", round);
    void *p;
    CHECK(thr_chan_send(R.ch, &p) == UC_ECLOSED, "send after close");
    CHECK(thr_chan_recv(R.ch, &p) == UC_ECLOSED, "recv on closed and empty");
    CHECK(thr_chan_try_recv(R.ch, &p) == UC_ECLOSED, "try_recv on closed and empty");
    CHECK(thr_chan_len(R.ch) == 0, "empty");
    lost_sends += ITEMS - sent;
    thr_chan_free(R.ch);
  }
  R.quit = true;
  pthread_barrier_wait(&R.start);
  for (int i = 0; i < PRODUCERS + CONSUMERS; i++)
    pthread_join(tids[i], NULL);
  pthread_barrier_destroy(&R.start);
  pthread_barrier_destroy(&R.end);

  /* Single-threaded edges: capacity 0, FIFO order, try_recv on open. */
  thr_chan *ch;
  CHECK(thr_chan_new(&ch, 0, R.sync) == UC_EINVAL, "capacity 0");
  CHECK(thr_chan_new(&ch, 3, R.sync) == 0, "new");
  void *p = NULL;
  CHECK(thr_chan_try_recv(ch, &p) == UC_EAGAIN, "try_recv on open and empty");
  for (intptr_t i = 1; i <= 3; i++)
    CHECK(thr_chan_send(ch, (void *)i) == 0, "send");
  CHECK(thr_chan_len(ch) == 3, "len");
  thr_chan_close(ch);
  for (intptr_t i = 1; i <= 3; i++)
    CHECK(thr_chan_recv(ch, &p) == 0 && p == (void *)i, "FIFO after close");
  CHECK(thr_chan_recv(ch, &p) == UC_ECLOSED, "closed and empty");
  thr_chan_free(ch);
  printf("ok - %d rounds (%d closed mid-stream, %d sends refused after close), "
         "every sent item received exactly once\n",
         ROUNDS, close_rounds, lost_sends);
  return 0;
}
