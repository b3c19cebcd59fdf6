/*
 * uvcrawl error codes.
 *
 * Every fallible function in the core library returns an int: 0 on success,
 * a negative UC_E* code on an expected failure. Programming errors are
 * asserts, never return codes. The list below is the single source of the
 * enum, uc_strerror() and uc_errname().
 */
#ifndef UVCRAWL_ERROR_H
#define UVCRAWL_ERROR_H

/* X(name, value, message) */
#define UC_ERRNO_MAP(X)                                      \
  X(NOMEM, -1, "out of memory")                              \
  X(INVAL, -2, "invalid argument")                           \
  X(BADURL, -3, "malformed URL")                             \
  X(SCHEME, -4, "unsupported URL scheme")                    \
  X(TOOLONG, -5, "input too long")                           \
  X(TOODEEP, -6, "document nested too deeply")               \
  X(PARSE, -7, "cannot parse input")                         \
  X(IO, -8, "input/output error")                            \
  X(AGAIN, -9, "nothing ready yet, try again later")         \
  X(EMPTY, -10, "nothing left")                              \
  X(FULL, -11, "capacity reached")                           \
  X(CLOSED, -12, "closed")                                   \
  X(NOTFOUND, -13, "not found")                             \
  X(LIB, -14, "a library call failed")

typedef enum uc_errno {
  UC_OK = 0,
#define UC_ERRNO_ENUM_(name, value, msg) UC_E##name = (value),
  UC_ERRNO_MAP(UC_ERRNO_ENUM_)
#undef UC_ERRNO_ENUM_
} uc_errno;

/**
 * A human-readable message for an error code.
 * @param err  0 or a UC_E* code; anything else gives "unknown error".
 * @return     a static string (borrowed, valid forever).
 */
const char *uc_strerror(int err);

/**
 * The symbolic name of an error code, e.g. "UC_EBADURL".
 * @return     a static string (borrowed, valid forever).
 */
const char *uc_errname(int err);

#endif /* UVCRAWL_ERROR_H */
