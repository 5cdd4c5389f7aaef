#pragma once
// A plain reference evaluator of EventBridge patterns, one rule at a time, written for clarity
// rather than speed and sharing no matching code with the library. The differential test runs
// it against the compiled matcher. It expects a pattern the library's compiler accepted.
// Case-insensitive operators are implemented for ASCII text only.

#include <string_view>

namespace eventrouter::pattern::reference {

bool matches(std::string_view pattern_json, std::string_view event_json);

}  // namespace eventrouter::pattern::reference
