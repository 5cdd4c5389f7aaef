#pragma once
// Pattern JSON -> validated PatternTree, refusing invalid patterns with AWS's reasons.

#include <string>
#include <string_view>

#include "ast.hpp"
#include "eventrouter/util/expected.hpp"
#include "limits.hpp"

namespace eventrouter::pattern::detail {

inline constexpr std::string_view kInvalidPatternPrefix = "Event pattern is not valid. Reason: ";

// On error returns the reason only (without kInvalidPatternPrefix).
Expected<PatternTree, std::string> compile_pattern(std::string_view json);

}  // namespace eventrouter::pattern::detail
