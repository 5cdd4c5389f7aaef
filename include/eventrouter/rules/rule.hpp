#pragma once
// One rule as loaded from a rule file: what to match and where to send it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/pattern/pattern.hpp"
#include "eventrouter/rules/response_controls.hpp"
#include "eventrouter/rules/schedule.hpp"
#include "eventrouter/targets/target_spec.hpp"

namespace eventrouter::rules {

struct Rule {
  std::string name;         // [.-_A-Za-z0-9]{1,64}, unique across all rule files
  std::string description;  // may be empty
  std::string bus;          // "default" unless the rule names another bus
  bool enabled = true;      // state: ENABLED; DISABLED rules are loaded and checked, never matched
  std::string event_pattern;                 // the pattern as compact JSON (for GET /rules)
  std::optional<pattern::Pattern> pattern;   // the compiled pattern; nothing when scheduled
  std::optional<Schedule> schedule;          // a scheduled rule's; it matches no events
  std::vector<targets::TargetSpec> targets;  // 1 to 5, ids unique within the rule
  targets::SourcePosition position;          // where the rule's mapping starts
  // Accepted events matched so far. Shared with the rule of the same name in later rule sets, so
  // counts survive reloads.
  std::shared_ptr<std::atomic<std::uint64_t>> match_count;
  ResponseControls controls;  // dedup and max_invocations
};

// EventBridge's name rule: 1 to 64 of letters, digits, '.', '-' and '_'. Rule names and target
// ids follow it.
bool valid_rule_name(std::string_view name);

inline constexpr std::string_view kDefaultBus = "default";

}  // namespace eventrouter::rules
