/* fuzz_links.h - what every extract fuzz target checks of the links. */
#ifndef UVCRAWL_FUZZ_LINKS_H
#define UVCRAWL_FUZZ_LINKS_H

#include <string.h>

#include "uvcrawl/extract.h"

/* Every link is an absolute http(s) URL, and the links are unique (checked
 * pairwise on small sets). */
static inline void fuzz_check_links(const uc_links *links) {
  for (size_t i = 0; i < links->count; i++) {
    const char *u = links->urls[i];
    if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
      __builtin_trap();
    for (size_t j = 0; j < i && links->count < 64; j++)
      if (strcmp(u, links->urls[j]) == 0)
        __builtin_trap();
  }
}

#endif /* UVCRAWL_FUZZ_LINKS_H */
