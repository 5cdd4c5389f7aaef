#pragma once
// The live form of one rule set: every rule's targets built and ready, with the payload shaping
// of each. Built when a rule set is swapped in; torn down (targets shut down) when the last
// event matched against it is finished.

#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "eventrouter/delivery/deployment_reaper.hpp"
#include "eventrouter/metrics/lazy.hpp"
#include "eventrouter/metrics/registry.hpp"
#include "eventrouter/rules/rule_set.hpp"
#include "eventrouter/targets/target.hpp"
#include "eventrouter/transform/payload_shaper.hpp"

namespace eventrouter::delivery {

// A target's metrics. They are created in the registry at the target's first use (its first
// invocation, or a dead letter written without one), all outcomes at 0 together, so that a
// rule set of thousands of idle targets costs a scrape nothing for them; from then on they are
// kept here, as the registry's lookup takes a lock and builds label strings, which the
// per-event path must not pay.
struct TargetMetrics {
  metrics::Counter* attempts;
  metrics::Counter* succeeded;
  metrics::Counter* retried;
  metrics::Counter* dead_lettered;
  metrics::Counter* failed;  // given up and the dead-letter file could not be written
  metrics::Counter* dead_letters;
  metrics::Histogram* duration;  // shared by every target of the same type
};

struct DeployedTarget {
  const rules::Rule* rule;
  const targets::TargetSpec* spec;
  std::unique_ptr<targets::Target> target;
  transform::PayloadShaper shaper;
  // Behind a pointer: the once-only creation cannot be moved, the deployment's vectors move.
  std::unique_ptr<metrics::Lazy<TargetMetrics>> lazy_metrics;

  // Creates the target's series on the first call; lock-free afterwards.
  const TargetMetrics& metrics() const { return lazy_metrics->get(); }
};

// Builds the adapter of one target (the target registry's make_target, or a test's fakes).
using TargetMaker =
    std::function<std::unique_ptr<targets::Target>(const targets::TargetSpec& spec)>;

class Deployment {
 public:
  // Builds every target; throws (start-up, reload) with a message naming the rule and target
  // when one cannot be built. The last owner to let go may be any thread, including one of
  // the deployment's own targets, so the deployment is always torn down by `reaper`.
  static std::shared_ptr<Deployment> create(std::shared_ptr<const rules::RuleSet> rules,
                                            targets::TargetContext& context,
                                            metrics::Registry& metrics, DeploymentReaper& reaper);

  Deployment(std::shared_ptr<const rules::RuleSet> rules, targets::TargetContext& context,
             metrics::Registry& metrics);
  // The same with targets built by `make_target`.
  Deployment(std::shared_ptr<const rules::RuleSet> rules, const TargetMaker& make_target,
             metrics::Registry& metrics);
  ~Deployment();  // shuts the targets down

  // Shuts every target down now (each gets `grace`, then what is left is aborted and completes
  // as retryable). The daemon's stop does this while the I/O threads still run, so that no
  // delivery is left holding the deployment when they are gone. Not from an I/O thread.
  void shutdown_targets(std::chrono::milliseconds grace);
  Deployment(const Deployment&) = delete;
  Deployment& operator=(const Deployment&) = delete;

  const rules::RuleSet& rules() const { return *rules_; }
  // The targets of rule `rule` (an element of rules().rules()), in the rule's order.
  std::vector<DeployedTarget*> targets_of(const rules::Rule& rule);
  // The TriggeredRules counter of `rule`.
  metrics::Counter& matches_of(const rules::Rule& rule);
  // A target by rule name and target id (journal records and dead letters name them so), or
  // nothing when the rule set has no such rule or target.
  DeployedTarget* find(std::string_view rule, std::string_view target);
  bool has_rule(std::string_view rule) const;
  // Every dead_letter.path the targets name, each once.
  std::vector<std::filesystem::path> dead_letter_files() const;

 private:
  std::shared_ptr<const rules::RuleSet> rules_;
  std::size_t index_of(const rules::Rule& rule) const;

  std::vector<std::vector<DeployedTarget>> targets_;  // per rule, in rules().rules() order
  std::vector<metrics::Counter*> matches_;            // per rule
};

}  // namespace eventrouter::delivery
