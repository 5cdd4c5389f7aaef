#include "eventrouter/delivery/deployment.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "eventrouter/targets/registry.hpp"

namespace eventrouter::delivery {

namespace {

// `rule` and `spec` belong to the deployment's rule set, which outlives its targets' metrics.
std::unique_ptr<metrics::Lazy<TargetMetrics>> target_metrics(metrics::Registry& registry,
                                                             const rules::Rule& rule,
                                                             const targets::TargetSpec& spec) {
  return std::make_unique<metrics::Lazy<TargetMetrics>>([&registry, &rule, &spec] {
    const metrics::Labels labels = {{"rule", rule.name}, {"target", spec.id}};
    auto outcome = [&](const char* name) {
      return &registry.counter("eventrouter_invocations_total",
                               "Target invocations, by final outcome.",
                               {{"rule", rule.name}, {"target", spec.id}, {"outcome", name}});
    };
    // Latency by target type, not by target: a histogram is 21 series, too many to multiply
    // by thousands of rules.
    return TargetMetrics{&registry.counter("eventrouter_invocation_attempts_total",
                                           "Target invocation attempts.", labels),
                         outcome("success"),
                         outcome("retried"),
                         outcome("dead_lettered"),
                         outcome("failed"),
                         &registry.counter("eventrouter_dead_letters_total",
                                           "Deliveries written to a dead-letter file.", labels),
                         &registry.histogram("eventrouter_target_duration_seconds",
                                             "Duration of one invocation attempt, by target type.",
                                             {{"type", spec.type}})};
  });
}

}  // namespace

Deployment::Deployment(std::shared_ptr<const rules::RuleSet> rules, targets::TargetContext& context,
                       metrics::Registry& metrics)
    : Deployment(
          std::move(rules),
          [&context](const targets::TargetSpec& spec) {
            return targets::make_target(spec, context);
          },
          metrics) {}

Deployment::Deployment(std::shared_ptr<const rules::RuleSet> rules, const TargetMaker& make_target,
                       metrics::Registry& metrics)
    : rules_(std::move(rules)) {
  targets_.reserve(rules_->rules().size());
  for (const auto& rule : rules_->rules()) {
    // Eager, unlike the targets' series: one line per rule keeps "this rule never matched"
    // visible (a series at 0) to alerts and dashboards.
    matches_.push_back(&metrics.counter("eventrouter_rule_matches_total",
                                        "Events matched, by rule (TriggeredRules).",
                                        {{"rule", rule.name}}));
    auto& built = targets_.emplace_back();
    built.reserve(rule.targets.size());
    for (const auto& spec : rule.targets) {
      auto shaper = transform::PayloadShaper::from_node(spec.node, spec.position.file);
      if (!shaper) {
        throw std::invalid_argument("rule " + rule.name + " target " + spec.id + ": " +
                                    shaper.error().front().to_string());
      }
      std::unique_ptr<targets::Target> target;
      try {
        target = make_target(spec);
      } catch (const std::exception& e) {
        throw std::invalid_argument("rule " + rule.name + " target " + spec.id + ": " + e.what());
      }
      built.push_back(DeployedTarget{&rule, &spec, std::move(target), std::move(shaper.value()),
                                     target_metrics(metrics, rule, spec)});
    }
  }
}

std::shared_ptr<Deployment> Deployment::create(std::shared_ptr<const rules::RuleSet> rules,
                                               targets::TargetContext& context,
                                               metrics::Registry& metrics,
                                               DeploymentReaper& reaper) {
  return std::shared_ptr<Deployment>(
      new Deployment(std::move(rules), context, metrics),
      [&reaper](Deployment* deployment) { reaper.retire(deployment); });
}

Deployment::~Deployment() {
  shutdown_targets(std::chrono::seconds(5));
}

void Deployment::shutdown_targets(std::chrono::milliseconds grace) {
  for (auto& per_rule : targets_)
    for (auto& deployed : per_rule) deployed.target->shutdown(grace);
}

std::size_t Deployment::index_of(const rules::Rule& rule) const {
  return static_cast<std::size_t>(&rule - rules_->rules().data());
}

std::vector<DeployedTarget*> Deployment::targets_of(const rules::Rule& rule) {
  std::vector<DeployedTarget*> out;
  for (auto& deployed : targets_.at(index_of(rule))) out.push_back(&deployed);
  return out;
}

metrics::Counter& Deployment::matches_of(const rules::Rule& rule) {
  return *matches_.at(index_of(rule));
}

DeployedTarget* Deployment::find(std::string_view rule, std::string_view target) {
  for (auto& per_rule : targets_) {
    if (per_rule.empty() || per_rule.front().rule->name != rule) continue;
    for (auto& deployed : per_rule)
      if (deployed.spec->id == target) return &deployed;
  }
  return nullptr;
}

bool Deployment::has_rule(std::string_view rule) const {
  for (const auto& r : rules_->rules())
    if (r.name == rule) return true;
  return false;
}

std::vector<std::filesystem::path> Deployment::dead_letter_files() const {
  std::vector<std::filesystem::path> files;
  for (const auto& per_rule : targets_) {
    for (const auto& deployed : per_rule) {
      if (!deployed.spec->dead_letter) continue;
      const auto& path = deployed.spec->dead_letter->path;
      if (std::find(files.begin(), files.end(), path) == files.end()) files.push_back(path);
    }
  }
  return files;
}

}  // namespace eventrouter::delivery
