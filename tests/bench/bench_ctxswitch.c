/*
 * bench_ctxswitch.c - what a thread context switch costs on this machine:
 * two threads hand a token back and forth through a mutex and two
 * condition variables (the threaded engine's channel does the same), both
 * pinned to one CPU so every hand-off is a real switch; and the same
 * hand-off through a pipe, for comparison. Prints ns per switch.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 200000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv[2] = {PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};
static int turn; /* whose move: 0 or 1; protected by lock */
static int pipes[2][2];

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void pin_to_cpu0(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *cond_player(void *arg) {
  int me = (int)(long)arg;
  pin_to_cpu0();
  for (int i = 0; i < ROUNDS; i++) {
    pthread_mutex_lock(&lock);
    while (turn != me)
      pthread_cond_wait(&turn_cv[me], &lock);
    turn = !me;
    pthread_cond_signal(&turn_cv[!me]);
    pthread_mutex_unlock(&lock);
  }
  return NULL;
}

static void *pipe_player(void *arg) {
  int me = (int)(long)arg;
  char c = 0;
  pin_to_cpu0();
  for (int i = 0; i < ROUNDS; i++) {
    if (me == 1 && read(pipes[1][0], &c, 1) != 1)
      abort();
    if (write(pipes[!me][1], &c, 1) != 1)
      abort();
    if (me == 0 && read(pipes[0][0], &c, 1) != 1)
      abort();
  }
  return NULL;
}

static double run(void *(*player)(void *)) {
  pthread_t a, b;
  double t0 = now_s();
  pthread_create(&a, NULL, player, (void *)0L);
  pthread_create(&b, NULL, player, (void *)1L);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  return (now_s() - t0) / (2.0 * ROUNDS) * 1e9; /* two switches a round */
}

int main(void) {
  if (pipe(pipes[0]) != 0 || pipe(pipes[1]) != 0)
    return 1;
  printf("mutex+condvar hand-off, one CPU: %.0f ns per switch\n", run(cond_player));
  printf("pipe hand-off, one CPU:          %.0f ns per switch\n", run(pipe_player));
  return 0;
}
