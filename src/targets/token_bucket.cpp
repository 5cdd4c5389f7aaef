#include "eventrouter/targets/token_bucket.hpp"

#include <algorithm>

namespace eventrouter::targets {

TokenBucket::TokenBucket(double rate)
    : rate_(rate), capacity_(std::max(1.0, rate)), tokens_(capacity_), last_(Clock::now()) {}

TokenBucket::Clock::duration TokenBucket::reserve(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(capacity_, tokens_ + elapsed * rate_);
    last_ = now;
  }
  tokens_ -= 1.0;
  if (tokens_ >= 0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(-tokens_ / rate_));
}

}  // namespace eventrouter::targets
