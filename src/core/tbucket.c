/* tbucket.c - token bucket arithmetic (see tbucket.h). */
#include "uvcrawl/tbucket.h"

#include <math.h>

static double clamp_burst(double burst) {
  return burst >= 1.0 ? burst : 1.0; /* also turns NaN into 1 */
}

/* Tokens the bucket would hold at now_ms. take() and next_token_at() both
 * use this one function, so that next_token_at's answer is exactly what
 * take() will see.
 * Note: the refill is computed from last_ms in one multiplication rather
 * than accumulated millisecond by millisecond, so rounding cannot drift. */
static double tokens_at(const uc_tbucket *b, uint64_t now_ms) {
  if (now_ms <= b->last_ms)
    return b->tokens; /* no elapsed time, or the clock went backwards */
  double t = b->tokens + (double)(now_ms - b->last_ms) * b->rate / 1000.0;
  return t < b->burst ? t : b->burst;
}

static void refill(uc_tbucket *b, uint64_t now_ms) {
  if (now_ms > b->last_ms) {
    b->tokens = tokens_at(b, now_ms);
    b->last_ms = now_ms;
  }
}

void uc_tbucket_init(uc_tbucket *b, double rate, double burst, uint64_t now_ms) {
  b->rate = rate;
  b->burst = clamp_burst(burst);
  b->tokens = b->burst;
  b->last_ms = now_ms;
}

bool uc_tbucket_take(uc_tbucket *b, uint64_t now_ms) {
  if (!(b->rate > 0)) {
    if (now_ms > b->last_ms)
      b->last_ms = now_ms;
    return true;
  }
  /* Note: a failed take leaves the bucket untouched. Committing partial
   * refills would add many small inexact sums (2.5/s tried every ms would
   * reach 0.9999999999999999 at 400 ms instead of 1); refilling only when a
   * token is taken keeps the arithmetic exact wherever it can be. Below one
   * token the burst cap cannot apply, so the result is the same. */
  double tokens = tokens_at(b, now_ms);
  if (tokens < 1.0)
    return false;
  b->tokens = tokens - 1.0;
  if (now_ms > b->last_ms)
    b->last_ms = now_ms;
  return true;
}

uint64_t uc_tbucket_next_token_at(const uc_tbucket *b, uint64_t now_ms) {
  if (!(b->rate > 0) || tokens_at(b, now_ms) >= 1.0)
    return now_ms;
  /* Refill is computed from the later of last_ms and now_ms. */
  uint64_t base = now_ms > b->last_ms ? now_ms : b->last_ms;
  double missing = 1.0 - tokens_at(b, base);
  double wait = ceil(missing * 1000.0 / b->rate);
  /* Beyond 2^52 ms (142,000 years) doubles stop counting single ms; such a
   * rate is "never" for a crawler. */
  if (!(wait < 4503599627370496.0) || (uint64_t)wait > UINT64_MAX - base - 2)
    return UINT64_MAX;
  uint64_t t = base + (uint64_t)wait;
  /* The estimate is computed differently from tokens_at(); rounding can put
   * it one ms short (or long). Settle it with tokens_at() itself, which is
   * what take() uses. */
  for (int i = 0; i < 64 && tokens_at(b, t) < 1.0; i++)
    t++;
  for (int i = 0; i < 64 && t > base + 1 && tokens_at(b, t - 1) >= 1.0; i++)
    t--;
  return t;
}

void uc_tbucket_set_rate(uc_tbucket *b, double rate, double burst, uint64_t now_ms) {
  bool was_unlimited = !(b->rate > 0);
  if (!was_unlimited)
    refill(b, now_ms);
  else if (now_ms > b->last_ms)
    b->last_ms = now_ms;
  b->rate = rate;
  b->burst = clamp_burst(burst);
  if (was_unlimited || b->tokens > b->burst)
    b->tokens = b->burst;
}
