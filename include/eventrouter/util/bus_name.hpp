#pragma once
// The one rule for event bus names, shared by ingest (URLs, PutEvents' EventBusName), rule
// files, the config's `buses` list and the replay command.

#include <string_view>

namespace eventrouter {

// EventBridge's rule for EventBusName: 1 to 256 of the characters . - _ / A-Z a-z 0-9. The
// '/' is there for partner event buses (aws.partner/vendor.com/123/name).
bool is_valid_bus_name(std::string_view name);

// What the rule allows, for error messages.
inline constexpr std::string_view kBusNameRule =
    "bus names are 1 to 256 of the characters . - _ / A-Z a-z 0-9";

}  // namespace eventrouter
