#pragma once
// A token bucket that delays rather than refuses: each caller reserves a token and learns how
// long to wait for it, so a burst above the rate is spread out instead of failing.

#include <chrono>
#include <mutex>

namespace eventrouter::targets {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // `rate` tokens a second; the bucket holds max(1, rate) tokens, so up to a second's worth
  // may go out at once after a quiet spell.
  explicit TokenBucket(double rate);

  // Takes a token; returns how long the caller must wait before using it (zero if available).
  Clock::duration reserve(Clock::time_point now = Clock::now());

 private:
  std::mutex mutex_;
  double rate_;
  double capacity_;
  double tokens_;  // may go negative: tokens promised to waiting callers
  Clock::time_point last_;
};

}  // namespace eventrouter::targets
