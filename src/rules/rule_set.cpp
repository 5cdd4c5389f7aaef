#include "eventrouter/rules/rule_set.hpp"

#include <utility>

namespace eventrouter::rules {

RuleSet::RuleSet(std::vector<Rule> rules, std::vector<std::filesystem::path> files)
    : rules_(std::move(rules)), files_(std::move(files)) {
  std::map<std::string, std::pair<std::vector<pattern::Pattern>, std::vector<std::uint32_t>>,
           std::less<>>
      per_bus;
  for (std::uint32_t i = 0; i < rules_.size(); ++i) {
    Rule& rule = rules_[i];
    if (!rule.match_count) rule.match_count = std::make_shared<std::atomic<std::uint64_t>>(0);
    auto& [patterns, rule_of] = per_bus[rule.bus];
    if (!rule.enabled) continue;
    ++enabled_;
    if (!rule.pattern) continue;  // a scheduled rule is fired, never matched
    patterns.push_back(*rule.pattern);
    rule_of.push_back(i);
  }
  for (auto& [bus, entry] : per_bus) {
    buses_.emplace(bus, Bus{pattern::Matcher(std::move(entry.first)), std::move(entry.second)});
  }
}

const Rule* RuleSet::find(std::string_view name) const {
  for (const auto& rule : rules_) {
    if (rule.name == name) return &rule;
  }
  return nullptr;
}

template <class Json>
void RuleSet::match_impl(std::string_view bus, Json event_json,
                         std::vector<const Rule*>& out) const {
  auto it = buses_.find(bus);
  if (it == buses_.end() || it->second.rule_of.empty()) return;
  // Per thread, so that matching allocates nothing once warm.
  thread_local std::vector<std::uint32_t> indices;
  indices.clear();
  it->second.matcher.match(event_json, indices);
  for (std::uint32_t index : indices) out.push_back(&rules_[it->second.rule_of[index]]);
}

void RuleSet::match(std::string_view bus, std::string_view event_json,
                    std::vector<const Rule*>& out) const {
  match_impl(bus, event_json, out);
}

void RuleSet::match(std::string_view bus, simdjson::padded_string_view event_json,
                    std::vector<const Rule*>& out) const {
  match_impl(bus, event_json, out);
}

bool RuleSet::has_bus(std::string_view bus) const {
  return buses_.find(bus) != buses_.end();
}

std::vector<std::string> RuleSet::buses() const {
  std::vector<std::string> names;
  names.reserve(buses_.size());
  for (const auto& [name, bus] : buses_) names.push_back(name);
  return names;
}

}  // namespace eventrouter::rules
