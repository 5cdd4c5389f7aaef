#include "eventrouter/targets/header_value.hpp"

#include <algorithm>

namespace eventrouter::targets {

std::optional<std::string> outgoing_value_problem(std::string_view name, std::string_view value) {
  const auto control = std::find_if(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
  if (control != value.end()) {
    return std::string(name) + " would contain a control character (byte " +
           std::to_string(control - value.begin() + 1) +
           "); refused, as a line break there could inject headers";
  }
  if (value.size() > kMaxOutgoingValueBytes) {
    return std::string(name) + " would be " + std::to_string(value.size()) +
           " bytes long; the limit is " + std::to_string(kMaxOutgoingValueBytes);
  }
  return std::nullopt;
}

}  // namespace eventrouter::targets
