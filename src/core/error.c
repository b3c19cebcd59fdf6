/* error.c - messages and names for the UC_E* codes of error.h. */
#include "uvcrawl/error.h"

const char *uc_strerror(int err) {
  switch (err) {
  case UC_OK:
    return "success";
#define UC_STRERROR_CASE_(name, value, msg) \
  case UC_E##name:                          \
    return msg;
    UC_ERRNO_MAP(UC_STRERROR_CASE_)
#undef UC_STRERROR_CASE_
  default:
    return "unknown error";
  }
}

const char *uc_errname(int err) {
  switch (err) {
  case UC_OK:
    return "UC_OK";
#define UC_ERRNAME_CASE_(name, value, msg) \
  case UC_E##name:                         \
    return "UC_E" #name;
    UC_ERRNO_MAP(UC_ERRNAME_CASE_)
#undef UC_ERRNAME_CASE_
  default:
    return "UC_E?";
  }
}
