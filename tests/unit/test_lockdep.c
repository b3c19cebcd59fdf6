/*
 * test_lockdep.c - the lock-order checker (lockdep.h) on uc_mutex.
 *
 * Table-driven: each case runs in a child process (an inversion aborts
 * it) and says whether it must abort and what the report must contain.
 * No case ever blocks: the inversions happen on one thread, or on two
 * threads one after the other, which is the point: the checker reports an
 * order that could deadlock the first time it appears, not a deadlock.
 * Skipped (exit 77) in a build without the checker.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "uvcrawl/lockdep.h"
#include "uvcrawl/sync.h"

static uc_mutex a, b, c, s1, s2;

static void init_all(void) {
  uc_mutex_init(&a, "A");
  uc_mutex_init(&b, "B");
  uc_mutex_init(&c, "C");
  uc_mutex_init(&s1, "S"); /* two locks, one class: like the visited stripes */
  uc_mutex_init(&s2, "S");
}

/* Take x then y, release both. */
static void nest(uc_mutex *x, uc_mutex *y) {
  uc_mutex_lock(x);
  uc_mutex_lock(y);
  uc_mutex_unlock(y);
  uc_mutex_unlock(x);
}

static void ab_then_ba(void) {
  nest(&a, &b);
  nest(&b, &a);
}

static void ab_twice(void) {
  nest(&a, &b);
  nest(&a, &b);
}

static void cycle_of_three(void) {
  nest(&a, &b);
  nest(&b, &c);
  nest(&c, &a);
}

static void trylock_inverse(void) {
  nest(&a, &b);
  uc_mutex_lock(&b);
  bool got = uc_mutex_trylock(&a); /* cannot deadlock: it never waits */
  if (got)
    uc_mutex_unlock(&a);
  uc_mutex_unlock(&b);
  exit(got ? 0 : 3);
}

static void same_class(void) {
  nest(&s1, &s2);
}

static void released_out_of_order(void) {
  uc_mutex_lock(&a);
  uc_mutex_lock(&b);
  uc_mutex_unlock(&a); /* B still held, A not: taking A now is B -> A */
  uc_mutex_lock(&a);
}

static void *take_ab(void *arg) {
  (void)arg;
  nest(&a, &b);
  return NULL;
}

static void two_threads(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, take_ab, NULL) != 0 || pthread_join(t, NULL) != 0)
    exit(3);
  nest(&b, &a); /* the graph is the process's: the other thread's order counts */
}

static void cond_relock(void) {
  uc_cond cv;
  uc_cond_init(&cv);
  nest(&a, &b);
  uc_mutex_lock(&b);
  /* The wait re-locks B: checked like any lock. A is untouched: fine. */
  uc_cond_timedwait(&cv, &b, uc_sync_now_ns() + 1000000);
  uc_mutex_unlock(&b);
  uc_mutex_lock(&b);
  uc_mutex_lock(&a); /* but this is B -> A */
}

static const struct {
  const char *name;
  void (*run)(void);
  bool aborts;
  const char *report[4]; /* lines the report must contain */
} cases[] = {
    {"A->B then B->A", ab_then_ba, true,
     {"lock order inversion", "and is taking:\n  A at ", "(A first, B after)",
      "test_lockdep.c:"}},
    {"A->B twice", ab_twice, false, {NULL}},
    {"A->B, B->C, C->A", cycle_of_three, true,
     {"  B at ", "(A first, C after)", "  then B at ", "  then C at "}},
    {"trylock against the order", trylock_inverse, false, {NULL}},
    {"two locks of one class", same_class, true, {"class S is already held", "  S at "}},
    {"released out of order", released_out_of_order, true, {"(A first, B after)"}},
    {"two threads, one after the other", two_threads, true, {"lock order inversion"}},
    {"condition wait re-lock", cond_relock, true, {"(A first, B after)"}},
};

int main(void) {
  if (!uc_lockdep_enabled()) {
    printf("skip - the checker is not built in (meson option lockdep)\n");
    return 77;
  }
  int failures = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int fds[2];
    if (pipe(fds) != 0)
      return 1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      dup2(fds[1], 2);
      close(fds[0]);
      init_all();
      cases[i].run();
      exit(0);
    }
    close(fds[1]);
    char err[8192];
    size_t len = 0;
    ssize_t n;
    while ((n = read(fds[0], err + len, sizeof err - 1 - len)) > 0)
      len += (size_t)n;
    err[len] = '\0';
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
    bool ok = cases[i].aborts ? aborted : WIFEXITED(status) && WEXITSTATUS(status) == 0;
    for (int k = 0; ok && k < 4 && cases[i].report[k] != NULL; k++)
      if (strstr(err, cases[i].report[k]) == NULL) {
        printf("  report lacks \"%s\"\n", cases[i].report[k]);
        ok = false;
      }
    printf("%s - %s (%s)\n", ok ? "ok" : "FAIL", cases[i].name,
           aborted ? "reported, aborted" : "no report");
    if (!ok)
      printf("  child status %#x, stderr:\n%s\n", status, err);
    failures += !ok;
  }
  return failures != 0;
}
