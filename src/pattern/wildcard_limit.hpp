#pragma once
// EventBridge's wildcard complexity limit applied to an expanded pattern: each field's wildcard
// values, over all the rule's alternatives, must stay within kMaxWildcardComplexity.

#include <optional>
#include <string>
#include <vector>

#include "expansion.hpp"

namespace eventrouter::pattern::detail {

// The reason (starting "Rule is too complex - try using fewer wildcard characters ...") the
// pattern is refused, or nothing when every field is within the limit.
std::optional<std::string> over_wildcard_complexity(const std::vector<Branch>& branches);

}  // namespace eventrouter::pattern::detail
