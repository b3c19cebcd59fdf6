/* check.h - the stress tests' assertion: print where and why, exit 1. */
#ifndef UVCRAWL_STRESS_CHECK_H
#define UVCRAWL_STRESS_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond);                              \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

#endif /* UVCRAWL_STRESS_CHECK_H */
