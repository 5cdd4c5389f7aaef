#pragma once
// A target type, described once: its name, its keys (and which of them are paths), its
// defaults for the common limit keys, how to check a spec and how to build the adapter. Each
// adapter's file defines its type's descriptor; registry.cpp lists them, one line a type.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/targets/limits.hpp"
#include "eventrouter/targets/target.hpp"
#include "eventrouter/targets/target_spec.hpp"

namespace eventrouter::targets {

struct TargetType {
  std::string name;  // the `type` of the rule file's target
  // The type's own top-level keys. Every type also accepts the common keys (id, type,
  // retry_policy, dead_letter), the limit keys and the payload shaping keys.
  std::vector<std::string> keys;
  // Which of `keys` hold paths: the rules loader makes relative ones absolute.
  std::vector<PathKey> path_keys;
  LimitDefaults limits;
  // Checks the type's own keys (nested mappings included), one diagnostic per problem.
  std::function<void(const TargetSpec& spec, std::vector<config::Diagnostic>& problems)> check;
  // Builds the adapter for a checked spec; nothing (with problems) when it is not usable. The
  // registry puts it behind its limits.
  std::function<std::unique_ptr<Target>(const TargetSpec& spec, TargetContext& context,
                                        const TargetLimits& limits,
                                        std::vector<config::Diagnostic>& problems)>
      make;
};

}  // namespace eventrouter::targets
