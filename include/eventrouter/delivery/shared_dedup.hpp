#pragma once
// Dedup state shared by every router of a cluster (the cluster backend's key-value bucket), so
// that a duplicate is suppressed whichever router takes it.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "eventrouter/delivery/delivery_store.hpp"

namespace eventrouter::delivery {

class SharedDedup {
 public:
  virtual ~SharedDedup() = default;
  // A match of `rule` whose key and refire values have the digests `key` and `refire` (hex)
  // at `now`, by the event the shared log numbers `seq`: true when it fires (first of its key,
  // window over, or refire values changed; recorded for every router), false when it is a
  // duplicate. The event that fired a key fires it again when it is taken again (its router
  // died before delivering). Nothing when the shared state cannot be reached: the router then
  // decides alone.
  virtual std::optional<bool> fire(const std::string& rule, const std::string& key,
                                   const std::string& refire, std::int64_t seq, EpochMillis now,
                                   std::chrono::milliseconds window) = 0;
};

}  // namespace eventrouter::delivery
