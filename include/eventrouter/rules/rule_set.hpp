#pragma once
// An immutable snapshot of every loaded rule, compiled per bus for matching. A reload builds a
// whole new RuleSet and swaps it in (see RuleStore); an event is matched against exactly one
// snapshot, which stays alive as long as someone holds its shared_ptr.

#include <simdjson.h>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/pattern/pattern.hpp"
#include "eventrouter/rules/rule.hpp"

namespace eventrouter::rules {

class RuleSet {
 public:
  // `files` are the rule files the rules came from (for summaries). Builds one matcher per bus
  // over that bus's enabled rules.
  RuleSet(std::vector<Rule> rules, std::vector<std::filesystem::path> files);

  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  // In file order (files by name, rules as written).
  const std::vector<Rule>& rules() const noexcept { return rules_; }
  const std::vector<std::filesystem::path>& files() const noexcept { return files_; }
  const Rule* find(std::string_view name) const;

  // Appends to `out` the enabled rules of `bus` that the event matches, in rule order.
  // Thread-safe. An empty result means the event is unmatched. Counts nothing: an event
  // counts as matched only once it is accepted (see count_match).
  void match(std::string_view bus, std::string_view event_json,
             std::vector<const Rule*>& out) const;
  void match(std::string_view bus, simdjson::padded_string_view event_json,
             std::vector<const Rule*>& out) const;
  // Adds one to the match_count of `rule`, one of a RuleSet's rules. Thread-safe.
  static void count_match(const Rule& rule) {
    rule.match_count->fetch_add(1, std::memory_order_relaxed);
  }

  // Whether any rule (enabled or not) names `bus`.
  bool has_bus(std::string_view bus) const;
  // Every bus a rule names, sorted.
  std::vector<std::string> buses() const;
  std::size_t enabled_count() const noexcept { return enabled_; }

 private:
  struct Bus {
    pattern::Matcher matcher;            // over this bus's enabled rules
    std::vector<std::uint32_t> rule_of;  // matcher index -> index into rules_
  };
  template <class Json>
  void match_impl(std::string_view bus, Json event_json, std::vector<const Rule*>& out) const;

  std::vector<Rule> rules_;
  std::vector<std::filesystem::path> files_;
  std::map<std::string, Bus, std::less<>> buses_;
  std::size_t enabled_ = 0;
};

}  // namespace eventrouter::rules
