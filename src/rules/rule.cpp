#include "eventrouter/rules/rule.hpp"

namespace eventrouter::rules {

namespace {

bool name_chars(std::string_view name, std::size_t max) {
  if (name.empty() || name.size() > max) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool valid_rule_name(std::string_view name) {
  return name_chars(name, 64);
}

}  // namespace eventrouter::rules
