#include "eventrouter/util/bus_name.hpp"

#include <algorithm>

namespace eventrouter {

bool is_valid_bus_name(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_' || c == '/';
  });
}

}  // namespace eventrouter
