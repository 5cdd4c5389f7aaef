#pragma once
// `eventrouter validate` and the GET /rules document.

#include <filesystem>
#include <ostream>
#include <string>

#include "eventrouter/rules/rule_set.hpp"
#include "eventrouter/rules/rule_store.hpp"
#include "eventrouter/targets/target_spec.hpp"

namespace eventrouter::rules {

// Checks the config file (a folder stands for its eventrouter.yaml) and every rule file
// without starting anything. Prints each problem as FILE:LINE:COL: message to `err` (paths
// relative to the working directory when under it) and returns 1; or prints
// "config OK: N rules in M files (FILE)" to `out` and returns 0.
int run_validate_command(const std::filesystem::path& config_file,
                         const targets::TargetCatalog& catalog, std::ostream& out,
                         std::ostream& err);

// The GET /rules body: {"rules":[{name, description, bus, state, event_pattern, targets:[{id,
// type}], match_count, file, line}], "last_reload":{time (RFC 3339, UTC), outcome ("ok" |
// "failed"), errors:[...]}, "reloads":{succeeded, failed}}.
std::string render_rules_json(const RuleSet& rules, const ReloadStatus& status);

}  // namespace eventrouter::rules
