/*
 * tbucket - a token bucket: `rate` tokens a second, at most `burst` stored.
 *
 * Pure arithmetic on a value type meant to be embedded in other structs
 * (one per host in the frontier). Time comes in as milliseconds from any
 * monotonic origin; the bucket never reads a clock.
 *
 * Guarantee: over any interval of length t ms, the successful takes number
 * at most burst + rate * t / 1000. Time going backwards (now_ms < last_ms)
 * counts as no elapsed time: it adds no tokens and does not move last_ms
 * back, so the time is not counted twice when the clock catches up.
 *
 * Not thread-safe: the threaded engine takes a host's bucket under its lock.
 */
#ifndef UVCRAWL_TBUCKET_H
#define UVCRAWL_TBUCKET_H

#include <stdbool.h>
#include <stdint.h>

typedef struct uc_tbucket {
  double rate;      /* tokens per second; <= 0 means unlimited */
  double burst;     /* capacity, >= 1 (smaller values are raised to 1) */
  double tokens;    /* tokens stored at last_ms, in [0, burst] */
  uint64_t last_ms; /* latest time seen by the bucket */
} uc_tbucket;

/** Set up a full bucket (tokens = burst) at now_ms. */
void uc_tbucket_init(uc_tbucket *b, double rate, double burst, uint64_t now_ms);

/**
 * Refill by the time elapsed since last_ms (capped at burst), then take one
 * token if at least one is there.
 * @return true if a token was taken. An unlimited bucket always gives one.
 */
bool uc_tbucket_take(uc_tbucket *b, uint64_t now_ms);

/**
 * The earliest ms at which uc_tbucket_take() succeeds if nothing else takes
 * first: now_ms if a token is there, else a later time rounded up so that
 * take(result) is guaranteed to succeed (the same arithmetic decides both).
 * Returns UINT64_MAX if the rate is so low that the time does not fit.
 * Does not modify the bucket.
 */
uint64_t uc_tbucket_next_token_at(const uc_tbucket *b, uint64_t now_ms);

/**
 * Change rate and burst at now_ms: refill at the old rate up to now_ms, then
 * switch; the stored tokens are clamped to the new burst. Leaving an
 * unlimited rate starts the bucket full.
 */
void uc_tbucket_set_rate(uc_tbucket *b, double rate, double burst, uint64_t now_ms);

#endif /* UVCRAWL_TBUCKET_H */
