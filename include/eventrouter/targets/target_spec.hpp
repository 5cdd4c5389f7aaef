#pragma once
// A target as written in a rule file, after the rules loader has read the keys every target
// shares. The type-specific keys stay in `node` for the targets module to check and use.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/yaml/node.hpp"

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
  std::string type;         // one of the registered target types (targets/registry.hpp)
  yaml::Node node;          // the whole target mapping, with ${env:..}/${file:..} already resolved
  SourcePosition position;  // where the target's mapping starts
  RetryPolicy retry_policy;
  std::optional<DeadLetter> dead_letter;
};

// Checks a target's type and its type-specific keys (and input shaping), appending one
// diagnostic per problem.
using TargetChecker =
    std::function<void(const TargetSpec& spec, std::vector<config::Diagnostic>& problems)>;

// A key of a target type whose value is a path. The rules loader makes a relative one absolute
// before the target is checked, so that the targets (which insist on absolute paths) get the
// meaning the rule file gives it.
struct PathKey {
  enum class Base {
    kRuleFileFolder,  // programs and folders that ship next to the rules (runbook command)
    kStateDir,        // files eventrouter writes (queue_file path)
  };
  std::string key;  // a top-level key of the target's mapping
  Base relative_to = Base::kRuleFileFolder;
  bool first_item_only = false;  // the key holds a list whose first item is the path (an argv)
};

struct TargetTypeInfo {
  std::string name;
  std::vector<PathKey> path_keys;
};

// What the rules loader needs to know about target types: their names (for messages), their
// path keys and a checker. The app supplies the targets registry's catalog, so that the rules
// module needs none of the adapters' code; tests supply a stand-in.
struct TargetCatalog {
  std::vector<TargetTypeInfo> types;  // in documentation order
  TargetChecker check;                // empty: type-specific keys go unchecked

  const TargetTypeInfo* find(std::string_view name) const {
    for (const auto& type : types) {
      if (type.name == name) return &type;
    }
    return nullptr;
  }

  // "webhook, runbook, queue_file or email"
  std::string type_names() const {
    std::string out;
    for (std::size_t i = 0; i < types.size(); ++i) {
      if (i > 0) out += i + 1 == types.size() ? " or " : ", ";
      out += types[i].name;
    }
    return out;
  }
};

// Keys the rules loader reads itself; a checker must accept them without complaint.
inline const std::vector<std::string>& common_target_keys() {
  static const std::vector<std::string> keys = {"id", "type", "retry_policy", "dead_letter"};
  return keys;
}

}  // namespace eventrouter::targets
