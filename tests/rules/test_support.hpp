#pragma once
// Shared by the rules tests: a scratch config with a rules.d folder, and a target catalog
// standing in for the targets module's.

#include <string>
#include <vector>

#include "eventrouter/config/config.hpp"
#include "eventrouter/config/duration.hpp"
#include "eventrouter/config/yaml_file.hpp"
#include "eventrouter/targets/target_spec.hpp"
#include "support/temp_dir.hpp"

namespace eventrouter::testing {

// Knows the four target types; checks `timeout` as a duration.
inline void fake_check_target(const targets::TargetSpec& spec,
                              std::vector<config::Diagnostic>& problems) {
  static const std::vector<std::string> types = {"webhook", "runbook", "queue_file", "email"};
  config::YamlFile file(spec.position.file, problems);
  bool known = false;
  for (const auto& t : types) known = known || t == spec.type;
  if (!known) {
    std::string message = "unknown target type '" + spec.type + "'";
    if (auto close = config::closest_match(spec.type, types)) {
      message += "; did you mean '" + *close + "'?";
    }
    file.error(spec.node["type"], message);
  }
  if (const yaml::Node timeout = spec.node["timeout"]) {
    config::read_duration(file, timeout, "timeout");
  }
}

// The four types with the path keys the real registry gives them, and the checker above.
inline targets::TargetCatalog fake_catalog() {
  using Base = targets::PathKey::Base;
  return {{{"webhook", {}},
           {"runbook",
            {{"command", Base::kRuleFileFolder, true}, {"working_dir", Base::kRuleFileFolder}}},
           {"queue_file", {{"path", Base::kStateDir}}},
           {"email", {}}},
          fake_check_target};
}

// A folder with eventrouter.yaml (rules_dir: rules.d, state_dir: state) and rules.d/.
class RulesDir : public TempDir {
 public:
  RulesDir() {
    write("eventrouter.yaml", "rules_dir: rules.d\nstate_dir: state\n");
    std::filesystem::create_directories(path() / "rules.d");
  }
  std::filesystem::path rules_dir() const { return path() / "rules.d"; }
  std::filesystem::path rule_file(const std::string& name, std::string_view text) const {
    return write(std::filesystem::path("rules.d") / name, text);
  }
  config::Config config() const { return config::load_config(path() / "eventrouter.yaml"); }
};

// A minimal valid rule file with one rule.
inline std::string one_rule(const std::string& name, const std::string& source,
                            const std::string& bus = "default",
                            const std::string& state = "ENABLED") {
  return "rules:\n  - name: " + name + "\n    bus: " + bus + "\n    state: " + state +
         "\n    event_pattern:\n      source: [" + source +
         "]\n    targets:\n      - id: q\n        type: queue_file\n        path: q.jsonl\n";
}

}  // namespace eventrouter::testing
