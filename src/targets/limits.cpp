#include "eventrouter/targets/limits.hpp"

#include "eventrouter/metrics/lazy.hpp"
#include "eventrouter/targets/concurrency_limit.hpp"
#include "eventrouter/targets/rate_limit.hpp"
#include "spec_reader.hpp"

namespace eventrouter::targets {

const std::vector<std::string>& limit_keys() {
  static const std::vector<std::string> keys = {"max_concurrency", "rate_limit_per_second"};
  return keys;
}

std::optional<TargetLimits> read_target_limits(const TargetSpec& spec,
                                               const LimitDefaults& defaults,
                                               std::vector<config::Diagnostic>& problems) {
  SpecReader reader(spec.node, spec, problems, target_name(spec));
  TargetLimits limits;
  limits.max_concurrency = defaults.max_concurrency;
  if (reader.has("max_concurrency")) {
    if (auto limit = reader.integer("max_concurrency", 0, 1, defaults.max_concurrency_limit)) {
      limits.max_concurrency = static_cast<int>(*limit);
    }
  }
  if (reader.has("rate_limit_per_second")) {
    if (auto rate = reader.number("rate_limit_per_second", 0, 0.001, 100000)) {
      limits.rate_limit_per_second = *rate;
    }
  }
  if (reader.failed()) return std::nullopt;
  return limits;
}

std::unique_ptr<Target> with_limits(std::unique_ptr<Target> target, const TargetLimits& limits,
                                    const TargetSpec& spec, TargetContext& context) {
  if (!limits.max_concurrency && !limits.rate_limit_per_second) return target;
  const std::string who = spec.type + " " + spec.rule + "/" + spec.id;
  // Created when a delivery first waits: the targets that never had to wait (most of them)
  // add nothing to a scrape.
  auto waiting = std::make_shared<metrics::LazyGauge>(
      context.metrics, "eventrouter_target_waiting_deliveries",
      "Deliveries a target holds back for its max_concurrency or rate_limit_per_second.",
      metrics::Labels{{"rule", spec.rule}, {"target", spec.id}});
  if (limits.rate_limit_per_second) {
    target = std::make_unique<RateLimit>(std::move(target), *limits.rate_limit_per_second,
                                         context.io, who, waiting);
  }
  if (limits.max_concurrency) {
    target = std::make_unique<ConcurrencyLimit>(
        std::move(target), static_cast<std::size_t>(*limits.max_concurrency), who, waiting);
  }
  return target;
}

}  // namespace eventrouter::targets
