#pragma once
// A target as written in a rule file, after the rules loader has read the keys every target
// shares. The type-specific keys stay in `node` for the targets module to check and use.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "eventrouter/config/diagnostic.hpp"

namespace eventrouter::targets {

struct SourcePosition {
  std::filesystem::path file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
};

// EventBridge's RetryPolicy, with its ranges and defaults.
struct RetryPolicy {
  int maximum_retry_attempts = 185;       // 0 to 185
  int maximum_event_age_seconds = 86400;  // 60 to 86400
};

struct DeadLetter {
  std::filesystem::path path;  // JSONL file; absolute
};

struct TargetSpec {
  std::string rule;         // the rule's name
  std::string id;           // unique within the rule
  std::string type;         // webhook | runbook | queue_file | email
  YAML::Node node;          // the whole target mapping, with ${env:..}/${file:..} already resolved
  SourcePosition position;  // where the target's mapping starts
  RetryPolicy retry_policy;
  std::optional<DeadLetter> dead_letter;
};

// Checks a target's type and its type-specific keys (and input shaping), appending one
// diagnostic per problem. The rules loader is given one of these so that it does not depend on
// the adapters; the app passes the targets module's checker.
using TargetChecker =
    std::function<void(const TargetSpec& spec, std::vector<config::Diagnostic>& problems)>;

// Keys the rules loader reads itself; a checker must accept them without complaint.
inline const std::vector<std::string>& common_target_keys() {
  static const std::vector<std::string> keys = {"id", "type", "retry_policy", "dead_letter"};
  return keys;
}

}  // namespace eventrouter::targets
