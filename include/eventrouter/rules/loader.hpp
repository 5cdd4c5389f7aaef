#pragma once
// Loading every rule file of rules_dir into a RuleSet, checking everything and reporting
// every problem as FILE:LINE:COL: message.

#include <filesystem>
#include <memory>
#include <vector>

#include "eventrouter/config/config.hpp"
#include "eventrouter/config/diagnostic.hpp"
#include "eventrouter/rules/rule_set.hpp"
#include "eventrouter/targets/target_spec.hpp"

namespace eventrouter::rules {

// The rule files of `dir`: every *.yaml and *.yml that is a regular file (or a link to one),
// sorted by name. Hidden files (editor swap and lock files) are skipped.
std::vector<std::filesystem::path> list_rule_files(const std::filesystem::path& dir);

// Loads config.rules_dir. Common target keys (id, type, retry_policy, dead_letter) are read
// here; everything else about a target is checked by `catalog.check`. Relative paths in
// targets are made absolute first: the path keys `catalog` names for the target's type against
// the rule file's folder or config.state_dir, and dead_letter path against config.state_dir.
// Match counters of rules named as in `previous` carry over. Throws ConfigError with every
// problem.
std::shared_ptr<const RuleSet> load_rule_set(const config::Config& config,
                                             const targets::TargetCatalog& catalog,
                                             const RuleSet* previous = nullptr);

// The same without throwing: appends every problem to `problems` and returns nullptr if there
// is any.
std::shared_ptr<const RuleSet> parse_rule_set(const config::Config& config,
                                              const targets::TargetCatalog& catalog,
                                              std::vector<config::Diagnostic>& problems,
                                              const RuleSet* previous = nullptr);

}  // namespace eventrouter::rules
