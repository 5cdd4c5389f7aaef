#pragma once
// The limit keys every target type accepts, read in one place: max_concurrency (deliveries in
// flight at once; more wait their turn, first come, first served) and rate_limit_per_second
// (deliveries started per second; a burst is spread out, never refused). Each is a wrapper
// around the adapter, so a new type gains both without code of its own.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/targets/target.hpp"
#include "eventrouter/targets/target_spec.hpp"

namespace eventrouter::targets {

// A type's defaults for the limit keys.
struct LimitDefaults {
  std::optional<int> max_concurrency;  // when the key is absent; nothing: no limit
  int max_concurrency_limit = 256;     // the largest value accepted
};

struct TargetLimits {
  std::optional<int> max_concurrency;
  std::optional<double> rate_limit_per_second;
};

// max_concurrency, rate_limit_per_second.
const std::vector<std::string>& limit_keys();

// Reads the limit keys of a target of a type with `defaults`; nothing (and one diagnostic per
// problem) when one is out of range.
std::optional<TargetLimits> read_target_limits(const TargetSpec& spec,
                                               const LimitDefaults& defaults,
                                               std::vector<config::Diagnostic>& problems);

// `target` behind its limits: a concurrency limit around a rate limit around the adapter, so a
// delivery first waits for a slot, then for its turn under the rate (as webhooks always have).
// Deliveries waiting in either are counted by the gauge
// eventrouter_target_waiting_deliveries{rule, target}, created when a delivery first waits.
std::unique_ptr<Target> with_limits(std::unique_ptr<Target> target, const TargetLimits& limits,
                                    const TargetSpec& spec, TargetContext& context);

}  // namespace eventrouter::targets
