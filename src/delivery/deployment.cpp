#include "eventrouter/delivery/deployment.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <thread>

#include "eventrouter/targets/registry.hpp"

namespace eventrouter::delivery {

Deployment::Deployment(std::shared_ptr<const rules::RuleSet> rules,
                       targets::TargetContext& context)
    : rules_(std::move(rules)) {
  targets_.reserve(rules_->rules().size());
  for (const auto& rule : rules_->rules()) {
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
        target = targets::make_target(spec, context);
      } catch (const std::exception& e) {
        throw std::invalid_argument("rule " + rule.name + " target " + spec.id + ": " + e.what());
      }
      built.push_back(DeployedTarget{&rule, &spec, std::move(target), std::move(shaper.value())});
    }
  }
}

std::shared_ptr<Deployment> Deployment::create(std::shared_ptr<const rules::RuleSet> rules,
                                               targets::TargetContext& context) {
  auto executor = context.io.get_executor();
  return std::shared_ptr<Deployment>(new Deployment(std::move(rules), context),
                                     [executor](Deployment* deployment) {
                                       if (executor.running_in_this_thread()) {
                                         std::thread([deployment] { delete deployment; }).detach();
                                       } else {
                                         delete deployment;
                                       }
                                     });
}

Deployment::~Deployment() {
  for (auto& per_rule : targets_)
    for (auto& deployed : per_rule) deployed.target->shutdown(std::chrono::seconds(5));
}

std::vector<DeployedTarget*> Deployment::targets_of(const rules::Rule& rule) {
  const auto index = static_cast<std::size_t>(&rule - rules_->rules().data());
  std::vector<DeployedTarget*> out;
  if (index >= targets_.size()) return out;
  for (auto& deployed : targets_[index]) out.push_back(&deployed);
  return out;
}

}  // namespace eventrouter::delivery
