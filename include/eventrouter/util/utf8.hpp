#pragma once
// Text from outside (a runbook's output, a receiver's error text) made safe for JSON and logs:
// every byte sequence that is not valid UTF-8 becomes U+FFFD.

#include <string>
#include <string_view>

namespace eventrouter {

std::string to_valid_utf8(std::string_view text);

}  // namespace eventrouter
